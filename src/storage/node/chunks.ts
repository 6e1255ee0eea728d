/**
 * The piece commitment of src/storage/client/pieces.ts (1 KiB chunks, the last zero-padded;
 * leaf i = sha256(uint32be(i) ‖ chunk i); `pieceRoot` = the root of the sorted-pair keccak tree
 * over the leaves in index order), computed the way a node needs it: incrementally while an upload
 * streams in, so a piece is never held in memory whole, and a tree rebuilt from stored leaves for
 * audits without rereading the piece.
 *
 * Leaves are hashed straight from the body's parts (only a chunk split across two parts is copied);
 * the tree is built in the per-thread commitment memory, synchronously inside each call, so
 * concurrent uploads never see each other's bytes there.
 */
import type { Hex } from 'viem';
import { KECCAK_RESERVED_BYTES } from '../../core/keccak.ts';
import { CHUNK_SIZE, chunkLeaves } from '../client/chunkLeaves.ts';
import { commitmentKernel, hashIndexedTree, sortedTreeProof } from '../client/sortedTree.ts';

/**
 * Hashes a piece's chunk leaves as its bytes arrive, in any slicing.
 *
 * @example
 * const h = createChunkHasher();
 * for await (const part of body) h.update(part);
 * const leaves = h.digest(); // 32 bytes per chunk, in chunk order
 */
export type ChunkHasher = {
  update(bytes: Uint8Array): void;
  /** The leaves in chunk order (the last chunk zero-padded); call once, at the end. */
  digest(): Uint8Array;
  /** Bytes seen so far. */
  readonly size: number;
};

export function createChunkHasher(): ChunkHasher {
  const pending = new Uint8Array(CHUNK_SIZE);
  let fill = 0;
  let size = 0;
  let leaves = new Uint8Array(32 * 64);
  let count = 0;
  /** Hashes `n` whole chunks at `bytes[at..]` as chunks count, count+1, …  */
  const hash = (bytes: Uint8Array, at: number, n: number) => {
    if (32 * (count + n) > leaves.length) {
      const bigger = new Uint8Array(Math.max(2 * leaves.length, 32 * (count + n)));
      bigger.set(leaves.subarray(0, 32 * count));
      leaves = bigger;
    }
    chunkLeaves(bytes, at, count, n, leaves, 32 * count);
    count += n;
  };
  return {
    get size() {
      return size;
    },
    update(bytes) {
      size += bytes.length;
      let at = 0;
      if (fill > 0) {
        const take = Math.min(CHUNK_SIZE - fill, bytes.length);
        pending.set(bytes.subarray(0, take), fill);
        fill += take;
        at = take;
        if (fill < CHUNK_SIZE) return;
        hash(pending, 0, 1);
        fill = 0;
      }
      const whole = Math.floor((bytes.length - at) / CHUNK_SIZE);
      if (whole > 0) hash(bytes, at, whole);
      at += whole * CHUNK_SIZE;
      pending.set(bytes.subarray(at), 0);
      fill = bytes.length - at;
    },
    digest() {
      if (fill > 0) {
        pending.fill(0, fill);
        hash(pending, 0, 1);
        fill = 0;
      }
      return leaves.slice(0, 32 * count);
    },
  };
}

/** A piece's Merkle tree: its root and the proof of any chunk. */
export type ChunkTree = {
  readonly root: Hex;
  readonly leafCount: number;
  /** Sibling hashes from chunk `index`'s leaf up to (not including) the root. */
  proof(index: number): Hex[];
};

/**
 * Builds the tree over `leaves` (32 bytes per chunk, in chunk order, at least one).
 *
 * @example
 * const h = createChunkHasher();
 * h.update(piece);
 * const tree = buildChunkTree(h.digest());
 * tree.root; // = pieceRoot(piece)
 * tree.proof(3); // = chunkProof(piece, 3).proof
 */
export function buildChunkTree(leaves: Uint8Array): ChunkTree {
  const m = leaves.length / 32;
  if (!Number.isInteger(m) || m < 1) throw new RangeError('a piece tree needs at least one 32-byte leaf');
  const at = KECCAK_RESERVED_BYTES;
  const kernel = commitmentKernel(at + 32 * (2 * m - 1));
  new Uint8Array(kernel.memory.buffer).set(leaves, at + 32 * (m - 1));
  hashIndexedTree(kernel, at, m);
  const tree = new Uint8Array(kernel.memory.buffer).slice(at, at + 32 * (2 * m - 1));
  return {
    root: `0x${Buffer.from(tree.buffer, 0, 32).toString('hex')}`,
    leafCount: m,
    proof(index) {
      if (!Number.isInteger(index) || index < 0 || index >= m) {
        throw new RangeError(`chunk ${index} is outside the piece (0..${m - 1})`);
      }
      return sortedTreeProof(tree, 0, m - 1 + index);
    },
  };
}
