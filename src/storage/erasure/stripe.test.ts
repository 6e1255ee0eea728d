import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isDepinError } from '../../core/errors.ts';
import { createErasureCoder } from './erasureCoder.ts';
import { encodeStripe, reconstructStripe, sliceStripe, verifyStripe } from './stripe.ts';
import { assertSameShards } from './testShards.ts';

for (const [k, m] of [
  [10, 4],
  [29, 51],
] as const) {
  const coder = createErasureCoder({ dataShards: k, parityShards: m });

  test(`${coder.algorithm}: any column range of the shards is a stripe that checks and rebuilds on its own`, () => {
    const data = Array.from({ length: k }, (_, j) =>
      Uint8Array.from({ length: 3000 }, (_, i) => (i * 31 + j * 17) & 0xff),
    );
    const shards = [...data, ...coder.encode(data)];
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 2999 })
          .chain((offset) =>
            fc.record({ offset: fc.constant(offset), length: fc.integer({ min: 0, max: 3000 - offset }) }),
          ),
        fc.shuffledSubarray([...Array(k + m).keys()], { maxLength: m }),
        ({ offset, length }, lost) => {
          assertSameShards(
            encodeStripe(coder, data, offset, length),
            sliceStripe(shards.slice(k), offset, length),
          );
          assert.equal(verifyStripe(coder, shards, offset, length), true);
          const partial = shards.map((s, i) => (lost.includes(i) ? undefined : s));
          assertSameShards(
            reconstructStripe(coder, partial, offset, length),
            sliceStripe(shards, offset, length),
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  test(`${coder.algorithm}: a stripe with one flipped byte fails its check`, () => {
    const data = Array.from({ length: k }, (_, j) => Uint8Array.from({ length: 512 }, (_, i) => i ^ j));
    const shards = [...data, ...coder.encode(data)].map((s) => Uint8Array.from(s));
    shards[k + 1]![300]! ^= 0x40;
    assert.equal(verifyStripe(coder, shards, 256, 64), false);
    assert.equal(verifyStripe(coder, shards, 0, 256), true);
  });
}

test('refuses a stripe that reaches past the end of the shards', () => {
  assert.throws(
    () => sliceStripe([new Uint8Array(10)], 8, 4),
    (e) => isDepinError(e, 'ERASURE_BAD_ARGUMENT'),
  );
});
