import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import fc from 'fast-check';
import { bytesToHex, keccak256 } from 'viem';
import {
  buildChunkTree,
  CHUNK_SIZE,
  chunkCount,
  createChunkHasher,
  pieceRootOf,
  verifyChunkProof,
} from './chunks.ts';

/** The reference: OpenZeppelin's SimpleMerkleTree over keccak256 of each zero-padded 1 KiB chunk. */
function referenceTree(piece: Uint8Array): SimpleMerkleTree {
  const leaves = [];
  for (let at = 0; at < piece.length; at += CHUNK_SIZE) {
    const chunk = new Uint8Array(CHUNK_SIZE);
    chunk.set(piece.subarray(at, at + CHUNK_SIZE));
    leaves.push(keccak256(chunk));
  }
  return SimpleMerkleTree.of(leaves);
}

function paddedChunk(piece: Uint8Array, i: number): Uint8Array {
  const chunk = new Uint8Array(CHUNK_SIZE);
  chunk.set(piece.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE));
  return chunk;
}

describe('piece chunks and pieceRoot', () => {
  it('counts a chunk per started KiB', () => {
    assert.deepEqual([1, 1023, 1024, 1025, 4096].map(chunkCount), [1, 1, 1, 2, 4]);
  });

  it('gives the same root as @openzeppelin/merkle-tree for sizes around chunk boundaries', () => {
    for (const size of [1, 1023, 1024, 1025, 2048, 3000, 5 * CHUNK_SIZE + 7, 64 * 1024]) {
      const piece = randomBytes(size);
      assert.equal(pieceRootOf(piece), referenceTree(piece).root, `size ${size}`);
    }
  });

  it('handles repeated chunks (an all-zero piece) like the reference', () => {
    const piece = new Uint8Array(10 * CHUNK_SIZE);
    const tree = referenceTree(piece);
    assert.equal(pieceRootOf(piece), tree.root);
    const ours = buildChunkTree(leavesOf(piece));
    for (let i = 0; i < 10; i++) assert.ok(verifyChunkProof(ours.root, paddedChunk(piece, i), ours.proof(i)));
  });

  it('hashes the same leaves however the bytes are sliced (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 5000 }),
        fc.array(fc.nat({ max: 5000 }), { maxLength: 8 }),
        (piece, cuts) => {
          const h = createChunkHasher();
          let at = 0;
          for (const cut of [...cuts].sort((a, b) => a - b)) {
            h.update(piece.subarray(at, Math.max(at, cut)));
            at = Math.max(at, cut);
          }
          h.update(piece.subarray(at));
          assert.equal(h.size, piece.length);
          assert.equal(bytesToHex(h.digest()), bytesToHex(leavesOf(piece)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('proves every chunk against the root, and the reference verifies our proofs (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 * CHUNK_SIZE }), (piece) => {
        const tree = buildChunkTree(leavesOf(piece));
        const reference = referenceTree(piece);
        assert.equal(tree.root, reference.root);
        assert.equal(tree.leafCount, chunkCount(piece.length));
        for (let i = 0; i < tree.leafCount; i++) {
          const chunk = paddedChunk(piece, i);
          const proof = tree.proof(i);
          assert.ok(verifyChunkProof(tree.root, chunk, proof));
          assert.ok(SimpleMerkleTree.verify(tree.root, keccak256(chunk), proof));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('rejects a proof for a changed chunk, a wrong-size chunk or a tampered sibling', () => {
    const piece = randomBytes(7 * CHUNK_SIZE);
    const tree = buildChunkTree(leavesOf(piece));
    const chunk = paddedChunk(piece, 3);
    const proof = tree.proof(3);
    const flipped = Uint8Array.from(chunk);
    flipped[5]! ^= 1;
    assert.equal(verifyChunkProof(tree.root, flipped, proof), false);
    assert.equal(verifyChunkProof(tree.root, chunk.subarray(0, 1000), proof), false);
    assert.equal(verifyChunkProof(tree.root, chunk, [proof[1]!, proof[0]!, ...proof.slice(2)]), false);
    assert.equal(verifyChunkProof(tree.root, chunk, proof.slice(1)), false);
  });

  it('refuses to prove a chunk outside the piece and to build a tree without leaves', () => {
    const tree = buildChunkTree(leavesOf(randomBytes(3 * CHUNK_SIZE)));
    assert.throws(() => tree.proof(3), RangeError);
    assert.throws(() => tree.proof(-1), RangeError);
    assert.throws(() => buildChunkTree(new Uint8Array(0)), RangeError);
  });

  it('builds the tree of an 8 MiB piece from its stored leaves fast enough for audits', () => {
    const leaves = randomBytes(32 * 8192);
    buildChunkTree(leaves);
    const t = performance.now();
    const tree = buildChunkTree(leaves);
    tree.proof(4095);
    assert.equal(tree.leafCount, 8192);
    assert.ok(performance.now() - t < 500, `${performance.now() - t} ms`);
  });
});

function leavesOf(piece: Uint8Array): Uint8Array {
  const h = createChunkHasher();
  h.update(piece);
  return h.digest();
}
