import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bytesToHex } from 'viem';
import { CHUNK_SIZE, chunkCount, chunkProof, pieceRoot, verifyChunk } from '../client/pieces.ts';
import { buildChunkTree, createChunkHasher } from './chunks.ts';

function leavesOf(piece: Uint8Array, cuts: number[] = []): Uint8Array {
  const h = createChunkHasher();
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    const to = Math.min(piece.length, Math.max(at, cut));
    h.update(piece.subarray(at, to));
    at = to;
  }
  h.update(piece.subarray(at));
  assert.equal(h.size, piece.length);
  return h.digest();
}

describe('streamed piece commitment', () => {
  it('gives the client’s pieceRoot however the upload is sliced (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 70 * CHUNK_SIZE }),
        fc.array(fc.nat({ max: 70 * CHUNK_SIZE }), { maxLength: 8 }),
        (piece, cuts) => {
          const leaves = leavesOf(piece, cuts);
          assert.equal(leaves.length, 32 * chunkCount(piece.length));
          assert.equal(buildChunkTree(leaves).root, pieceRoot(piece));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('agrees at chunk and batch boundaries, including pieces past 64 chunks in one slice', () => {
    for (const size of [1, 1023, 1024, 1025, 64 * CHUNK_SIZE, 64 * CHUNK_SIZE + 1, 200 * CHUNK_SIZE + 5]) {
      const piece = randomBytes(size);
      assert.equal(buildChunkTree(leavesOf(piece)).root, pieceRoot(piece), `size ${size}`);
      assert.equal(
        buildChunkTree(leavesOf(piece, [1, 1500, 70_000])).root,
        pieceRoot(piece),
        `sliced ${size}`,
      );
    }
  });

  it('keeps concurrent hashers apart although they share one WebAssembly memory', () => {
    const a = randomBytes(10 * CHUNK_SIZE + 3);
    const b = randomBytes(7 * CHUNK_SIZE + 900);
    const ha = createChunkHasher();
    const hb = createChunkHasher();
    for (let at = 0; at < Math.max(a.length, b.length); at += 700) {
      ha.update(a.subarray(at, at + 700));
      hb.update(b.subarray(at, at + 700));
      buildChunkTree(randomBytes(32 * 5)); // other work in the same memory in between
    }
    assert.equal(buildChunkTree(ha.digest()).root, pieceRoot(a));
    assert.equal(buildChunkTree(hb.digest()).root, pieceRoot(b));
  });

  it('proves each chunk as the client does, and the proofs verify', () => {
    const piece = randomBytes(9 * CHUNK_SIZE + 77);
    const tree = buildChunkTree(leavesOf(piece));
    const other = buildChunkTree(randomBytes(32 * 3)); // trees are copied out: building another changes nothing
    assert.equal(other.leafCount, 3);
    for (let i = 0; i < tree.leafCount; i++) {
      const reference = chunkProof(piece, i);
      assert.deepEqual(tree.proof(i), reference.proof);
      assert.ok(verifyChunk(tree.root, i, reference.chunk, tree.proof(i)));
      assert.equal(verifyChunk(tree.root, (i + 1) % tree.leafCount, reference.chunk, tree.proof(i)), false);
    }
  });

  it('refuses to prove a chunk outside the piece and to build a tree without leaves', () => {
    const tree = buildChunkTree(leavesOf(randomBytes(3 * CHUNK_SIZE)));
    assert.throws(() => tree.proof(3), RangeError);
    assert.throws(() => tree.proof(-1), RangeError);
    assert.throws(() => buildChunkTree(new Uint8Array(0)), RangeError);
    assert.throws(() => buildChunkTree(new Uint8Array(33)), RangeError);
  });

  it('hashes an 8 MiB upload and rebuilds its tree for an audit quickly', () => {
    const piece = randomBytes(8 << 20);
    const t0 = performance.now();
    const leaves = leavesOf(
      piece,
      Array.from({ length: 127 }, (_, i) => (i + 1) * 65536),
    );
    const hashMs = performance.now() - t0;
    const t1 = performance.now();
    const tree = buildChunkTree(leaves);
    tree.proof(4095);
    const treeMs = performance.now() - t1;
    assert.equal(bytesToHex(leaves.subarray(0, 32)), bytesToHex(leavesOf(piece.subarray(0, CHUNK_SIZE))));
    assert.ok(hashMs < 2000, `hashing took ${hashMs} ms`);
    assert.ok(treeMs < 500, `the tree took ${treeMs} ms`);
  });
});
