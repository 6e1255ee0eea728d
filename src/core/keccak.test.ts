import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { keccak256 } from 'viem';
import { createKeccakKernel, KECCAK_RESERVED_BYTES, keccak256Small } from './keccak.ts';

// viem's keccak256 is @noble/hashes' keccak_256: the reference here.
const reference = (bytes: Uint8Array) => keccak256(bytes, 'bytes');

test('hashes any 32- or 64-byte input exactly as @noble/hashes does', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
      ),
      (input) => {
        assert.deepEqual(keccak256Small(input), reference(input));
      },
    ),
    { numRuns: 500 },
  );
});

test('hashes the all-zero and all-ones blocks as the reference does', () => {
  for (const fill of [0x00, 0xff]) {
    for (const size of [32, 64]) {
      const input = new Uint8Array(size).fill(fill);
      assert.deepEqual(keccak256Small(input), reference(input));
    }
  }
});

test('computes OpenZeppelin leaf hashes and plain block hashes in batches', () => {
  const n = 257;
  const kernel = createKeccakKernel(n * 128);
  const mem = new Uint8Array(kernel.memory.buffer);
  const src = KECCAK_RESERVED_BYTES;
  const out = src + 64 * n;
  const input = new Uint8Array(64 * n).map((_, i) => (i * 131 + 7) & 0xff);
  mem.set(input, src);
  kernel.hashLeaves(src, n, out);
  for (let i = 0; i < n; i += 37) {
    const record = input.subarray(64 * i, 64 * i + 64);
    assert.deepEqual(mem.slice(out + 32 * i, out + 32 * i + 32), reference(reference(record)));
  }
  kernel.hashBlocks64(src, n, out);
  for (let i = 0; i < n; i += 37) {
    assert.deepEqual(
      mem.slice(out + 32 * i, out + 32 * i + 32),
      reference(input.subarray(64 * i, 64 * i + 64)),
    );
  }
});

test('hashes inner nodes over the sorted pair of children', () => {
  // A 3-node heap: node 0 = keccak(sort(node 1, node 2)).
  const kernel = createKeccakKernel(96);
  const mem = new Uint8Array(kernel.memory.buffer);
  const tree = KECCAK_RESERVED_BYTES;
  const big = new Uint8Array(32).fill(0xee);
  const small = new Uint8Array(32).fill(0xee);
  small[31] = 0x01; // equal up to the last byte
  for (const [left, right] of [
    [big, small],
    [small, big],
    [big, big],
  ] as const) {
    mem.set(left, tree + 32);
    mem.set(right, tree + 64);
    kernel.hashNodes(tree, 0, 1);
    const [a, b] = Buffer.compare(left, right) <= 0 ? [left, right] : [right, left];
    const pair = new Uint8Array(64);
    pair.set(a, 0);
    pair.set(b, 32);
    assert.deepEqual(mem.slice(tree, tree + 32), reference(pair));
  }
});

test('refuses inputs of other lengths', () => {
  assert.throws(() => keccak256Small(new Uint8Array(33)), RangeError);
});
