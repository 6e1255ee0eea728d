import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Hex } from 'viem';
import { keccak256, toHex } from 'viem';
import { sampleAudits } from './sampling.ts';

const piece = (i: number, size: number) => ({
  pieceId: keccak256(toHex(`p${i}`)),
  size,
  node: `0x${'0'.repeat(39)}${i % 10}` as Hex,
});
const seed = (i: number) => keccak256(toHex(`epoch${i}`));
const validator = `0x${'11'.repeat(20)}` as Hex;

test('is deterministic for a given randomness and validator, and picks distinct pieces', () => {
  const pieces = Array.from({ length: 50 }, (_, i) => piece(i, 4096));
  const a = sampleAudits({ randomness: seed(1), validator, pieces, count: 10 });
  assert.deepEqual(
    a,
    sampleAudits({ randomness: seed(1), validator, pieces: [...pieces].reverse(), count: 10 }),
  );
  assert.equal(new Set(a.map((p) => p.pieceId)).size, 10);
  for (const p of a) assert.ok(p.chunk >= 0 && p.chunk < 4);
});

test('audits large pieces more often than small ones, in proportion to size', () => {
  const pieces = [piece(0, 100 * 1024), ...Array.from({ length: 9 }, (_, i) => piece(i + 1, 10 * 1024))];
  let big = 0;
  const rounds = 2000;
  for (let e = 0; e < rounds; e++)
    if (sampleAudits({ randomness: seed(e), validator, pieces, count: 1 })[0]!.pieceId === pieces[0]!.pieceId)
      big++;
  // Weight 100 of 190 total.
  assert.ok(Math.abs(big / rounds - 100 / 190) < 0.05, `big piece picked ${big}/${rounds}`);
});

test('never picks an empty piece and copes with fewer pieces than asked', () => {
  const picks = sampleAudits({
    randomness: seed(3),
    validator,
    pieces: [piece(1, 0), piece(2, 10)],
    count: 5,
  });
  assert.deepEqual(
    picks.map((p) => p.size),
    [10],
  );
});
