import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import fc from 'fast-check';
import type { Hex } from 'viem';
import { KECCAK_RESERVED_BYTES } from '../../core/keccak.ts';
import { buildSortedTree, commitmentKernel, sortedTreeProof, verifySortedProof } from './sortedTree.ts';

/** Builds the tree over `leaves` in the commitment memory; returns root and proofs. */
function build(leaves: Uint8Array[]) {
  const m = leaves.length;
  const hashes = KECCAK_RESERVED_BYTES;
  const tree = hashes + 32 * m;
  const kernel = commitmentKernel(tree + 32 * (2 * m - 1));
  const bytes = new Uint8Array(kernel.memory.buffer);
  leaves.forEach((leaf, i) => {
    bytes.set(leaf, hashes + 32 * i);
  });
  const positions = buildSortedTree(kernel, hashes, m, tree);
  const root = `0x${Buffer.from(bytes.subarray(tree, tree + 32)).toString('hex')}` as Hex;
  return { root, proofs: leaves.map((_, i) => sortedTreeProof(bytes, tree, positions[i]!)) };
}

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}` as Hex;

/** Leaves that often share their first 4 (or more) bytes, to exercise the sort's tie-breaking. */
const leafSet = fc.array(
  fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 40 }), fc.uint8Array({ minLength: 32, maxLength: 32 })),
  { minLength: 1, maxLength: 70 },
);

test('builds the SimpleMerkleTree root and proofs, also when leaves share long prefixes', () => {
  fc.assert(
    fc.property(leafSet, (specs) => {
      const leaves = specs.map(([prefix, shared, tail]) => {
        const leaf = tail.slice();
        leaf.fill(prefix * 0x55, 0, Math.min(32, shared));
        return leaf;
      });
      const reference = SimpleMerkleTree.of(leaves.map(hex));
      const { root, proofs } = build(leaves);
      assert.equal(root, reference.root);
      // With duplicate leaves OpenZeppelin proves one copy; any valid proof will do there.
      leaves.forEach((leaf, i) => {
        assert.ok(verifySortedProof(root, leaf, proofs[i]!));
        assert.ok(SimpleMerkleTree.verify(root, hex(leaf), proofs[i]!));
      });
    }),
    { numRuns: 150 },
  );
});

test('a proof fails for a leaf not in the tree and for a different root', () => {
  const leaves = Array.from({ length: 9 }, () => randomBytes(32));
  const { root, proofs } = build(leaves);
  assert.ok(!verifySortedProof(root, randomBytes(32), proofs[0]!));
  assert.ok(!verifySortedProof(hex(randomBytes(32)), leaves[0]!, proofs[0]!));
  assert.ok(!verifySortedProof(root, leaves[0]!.subarray(1), proofs[0]!));
});
