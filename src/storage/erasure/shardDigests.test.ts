import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isDepinError } from '../../core/errors.ts';
import { createErasureCoder } from './erasureCoder.ts';
import { digestShards, findCorruptedShards, repairShards } from './shardDigests.ts';
import { assertSameShards } from './testShards.ts';

const coder = createErasureCoder({ dataShards: 8, parityShards: 6 });
const data = Array.from({ length: 8 }, (_, j) =>
  Uint8Array.from({ length: 200 }, (_, i) => (i * 13 + j) & 0xff),
);
const shards = [...data, ...coder.encode(data)];
const digests = digestShards(shards);

test('names exactly the shards whose bytes changed, and repairs them from the rest', () => {
  fc.assert(
    fc.property(
      fc.shuffledSubarray([...Array(14).keys()], { maxLength: 6 }),
      fc.integer({ min: 0, max: 199 }),
      (bad, at) => {
        const received = shards.map((s) => Uint8Array.from(s));
        for (const i of bad) received[i]![at]! ^= 0x81;
        assert.deepEqual(
          findCorruptedShards(received, digests),
          [...bad].sort((a, b) => a - b),
        );
        const repaired = repairShards(coder, received, digests);
        assertSameShards(repaired.shards, shards);
      },
    ),
    { numRuns: 40 },
  );
});

test('counts missing shards as missing, not corrupted', () => {
  const received = shards.map((s, i) => (i === 2 ? undefined : s));
  assert.deepEqual(findCorruptedShards(received, digests), []);
  assert.deepEqual(repairShards(coder, received, digests).missing, [2]);
});

test('refuses to repair when corrupted and missing shards leave fewer than k good ones', () => {
  const received: (Uint8Array | undefined)[] = shards.map((s) => Uint8Array.from(s));
  for (const i of [0, 1, 2, 3, 4]) received[i]![0]! ^= 1;
  received[5] = received[6] = undefined;
  assert.throws(
    () => repairShards(coder, received, digests),
    (e) => isDepinError(e, 'ERASURE_TOO_FEW_SHARDS'),
  );
});
