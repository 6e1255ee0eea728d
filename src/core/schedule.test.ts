import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Hex } from 'viem';
import { challengeSchedule } from './schedule.ts';

const nodes = [
  '0x00000000000000000000000000000000000000a1',
  '0x00000000000000000000000000000000000000b2',
] as Hex[];
const input = {
  randomness: `0x${'ab'.repeat(32)}` as Hex,
  validator: `0x${'11'.repeat(20)}` as Hex,
  nodes,
  perEpoch: 3,
  epochLength: 10,
};

test('gives every (node, slot) one time inside the first 70% of the epoch', () => {
  const s = challengeSchedule(input);
  assert.equal(s.length, 6);
  for (const c of s) assert.ok(c.offset >= 0 && c.offset < 7, `offset ${c.offset}`);
  for (const n of nodes)
    assert.deepEqual(
      s
        .filter((c) => c.node === n)
        .map((c) => c.slot)
        .sort(),
      [0, 1, 2],
    );
});

test('is the same for everyone with the same randomness and differs with another', () => {
  assert.deepEqual(challengeSchedule(input), challengeSchedule({ ...input }));
  const other = challengeSchedule({ ...input, randomness: `0x${'cd'.repeat(32)}` as Hex });
  assert.notDeepEqual(
    other.map((c) => c.offset),
    challengeSchedule(input).map((c) => c.offset),
  );
});

test('is sorted by time so a validator can walk it', () => {
  const s = challengeSchedule(input);
  for (let i = 1; i < s.length; i++) assert.ok(s[i]!.offset >= s[i - 1]!.offset);
});
