import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { gfInv, gfInvertMatrix, gfMul } from './gf256.ts';
import { LEO_EXP, LEO_LOG, leoMulLog } from './leopardField.ts';

test('multiplies in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1', () => {
  assert.equal(gfMul(2, 0x80), 0x1d);
  assert.equal(gfMul(0, 77), 0);
  assert.equal(gfMul(1, 77), 77);
  for (let a = 1; a < 256; a++) assert.equal(gfMul(a, gfInv(a)), 1);
});

test('multiplication is commutative, associative and distributes over XOR', () => {
  const byte = fc.integer({ min: 0, max: 255 });
  fc.assert(
    fc.property(byte, byte, byte, (a, b, c) => {
      assert.equal(gfMul(a, b), gfMul(b, a));
      assert.equal(gfMul(a, gfMul(b, c)), gfMul(gfMul(a, b), c));
      assert.equal(gfMul(a, b ^ c), gfMul(a, b) ^ gfMul(a, c));
    }),
  );
});

test('inverts a random invertible matrix so that the product is the identity', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 64, maxLength: 64 }),
      (k, cells) => {
        const a = Uint8Array.from(cells.slice(0, k * k));
        const inv = gfInvertMatrix(a, k);
        if (!inv) return;
        for (let i = 0; i < k; i++) {
          for (let j = 0; j < k; j++) {
            let acc = 0;
            for (let t = 0; t < k; t++) acc ^= gfMul(a[i * k + t]!, inv[t * k + j]!);
            assert.equal(acc, i === j ? 1 : 0);
          }
        }
      },
    ),
    { numRuns: 50 },
  );
});

test('reports a singular matrix instead of inverting it', () => {
  assert.equal(gfInvertMatrix(Uint8Array.of(1, 2, 1, 2), 2), undefined);
});

test('the Cantor-basis log and exp tables of Leopard are inverse bijections', () => {
  const seen = new Set<number>();
  for (let x = 1; x < 256; x++) {
    assert.equal(LEO_EXP[LEO_LOG[x]!], x);
    seen.add(LEO_LOG[x]!);
    assert.equal(leoMulLog(x, 0), x);
  }
  assert.equal(seen.size, 255);
});
