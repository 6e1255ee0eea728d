import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cauchyEncodeReference, cauchyReconstructReference } from './cauchyReference.ts';
import { leopardEncodeReference, leopardReconstructReference } from './leopardReference.ts';
import { leopardSupports } from './shape.ts';
import { assertSameShards } from './testShards.ts';

const shapeAndLoss = fc
  .record({
    k: fc.integer({ min: 1, max: 40 }),
    m: fc.integer({ min: 1, max: 40 }),
    len: fc.integer({ min: 1, max: 24 }),
  })
  .chain(({ k, m, len }) =>
    fc.record({
      k: fc.constant(k),
      m: fc.constant(m),
      data: fc.array(fc.uint8Array({ minLength: len, maxLength: len }), { minLength: k, maxLength: k }),
      lost: fc.shuffledSubarray([...Array(k + m).keys()], { maxLength: m }),
    }),
  );

for (const [name, encode, reconstruct] of [
  ['Cauchy', cauchyEncodeReference, cauchyReconstructReference],
  ['Leopard', leopardEncodeReference, leopardReconstructReference],
] as const) {
  test(`the plain ${name} reference rebuilds any m lost shards exactly`, () => {
    fc.assert(
      fc.property(shapeAndLoss, ({ k, m, data, lost }) => {
        if (name === 'Leopard' && !leopardSupports({ dataShards: k, parityShards: m })) return;
        const all = [...data, ...encode(data, m)];
        const rebuilt = reconstruct(
          all.map((s, i) => (lost.includes(i) ? undefined : s)),
          k,
        );
        assertSameShards(rebuilt, all);
      }),
      { numRuns: 60 },
    );
  });
}

test('the Cauchy parity of one data shard is that shard times 1/(k ⊕ 0) per parity row', () => {
  // k = 1: parity i = data · 1/((1 + i) ⊕ 0); with i = 0 the factor is 1.
  const [p0] = cauchyEncodeReference([Uint8Array.of(9, 200)], 1);
  assert.deepEqual(p0, Uint8Array.of(9, 200));
});

test('Leopard with one parity shard is the XOR of the data', () => {
  const data = [Uint8Array.of(1, 2), Uint8Array.of(4, 8), Uint8Array.of(16, 32)];
  assert.deepEqual(leopardEncodeReference(data, 1)[0], Uint8Array.of(21, 42));
});
