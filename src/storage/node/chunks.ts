/**
 * The piece commitment of src/storage/client/pieces.ts (1 KiB chunks, the last zero-padded;
 * leaf i = keccak256(uint32be(i) ‖ chunk i); `pieceRoot` = the `SimpleMerkleTree` root of the
 * leaves), computed the way a node needs it: incrementally while an upload streams in, so a piece is
 * never held in memory whole, and a tree rebuilt from stored leaves for audits without rereading
 * the piece.
 *
 * It runs the client's WebAssembly leaf hasher and tree builder on the same per-thread commitment
 * memory, synchronously inside each call, so concurrent uploads keep their state in their own
 * JavaScript buffers and never see each other's bytes in the shared memory.
 */
import type { Hex } from 'viem';
import { KECCAK_RESERVED_BYTES } from '../../core/keccak.ts';
import {
  CHUNK_SCRATCH_BYTES,
  CHUNK_SIZE,
  type ChunkLeavesFunction,
  instantiateChunkLeaves,
  writeChunkPadding,
} from '../client/chunkLeaves.ts';
import { buildSortedTree, commitmentKernel, sortedTreeProof } from '../client/sortedTree.ts';

/** Chunks hashed per WebAssembly call (see chunkLeaves.ts on why in batches). */
const BATCH = 64;
const SCRATCH = KECCAK_RESERVED_BYTES;
const DATA = SCRATCH + Math.ceil(CHUNK_SCRATCH_BYTES / 64) * 64;
const OUT = DATA + BATCH * CHUNK_SIZE;

let chunkLeaves: ChunkLeavesFunction | undefined;

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
  let leaves = new Uint8Array(32 * BATCH);
  let count = 0;
  /** Hashes `n` whole chunks at `bytes[at..]` as chunks count, count+1, …  */
  const hash = (bytes: Uint8Array, at: number, n: number) => {
    if (32 * (count + n) > leaves.length) {
      const bigger = new Uint8Array(Math.max(2 * leaves.length, 32 * (count + n)));
      bigger.set(leaves.subarray(0, 32 * count));
      leaves = bigger;
    }
    const kernel = commitmentKernel(OUT + 32 * BATCH);
    chunkLeaves ??= instantiateChunkLeaves(kernel.memory);
    const mem = new Uint8Array(kernel.memory.buffer);
    writeChunkPadding(mem, SCRATCH);
    for (let done = 0; done < n; done += BATCH) {
      const k = Math.min(BATCH, n - done);
      const from = count + done;
      mem.set(bytes.subarray(at + done * CHUNK_SIZE, at + (done + k) * CHUNK_SIZE), DATA);
      // Chunk i is read at src + 1024i and its leaf written at out + 32i (i32 arithmetic wraps), so
      // offsetting both by the first index puts this batch at DATA and its leaves at OUT.
      chunkLeaves((DATA - CHUNK_SIZE * from) | 0, from, from + k, (OUT - 32 * from) | 0, SCRATCH);
      leaves.set(mem.subarray(OUT, OUT + 32 * k), 32 * from);
    }
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
  const hashes = KECCAK_RESERVED_BYTES;
  const at = hashes + 32 * m;
  const kernel = commitmentKernel(at + 32 * (2 * m - 1));
  new Uint8Array(kernel.memory.buffer).set(leaves, hashes);
  const positions = buildSortedTree(kernel, hashes, m, at);
  const tree = new Uint8Array(kernel.memory.buffer).slice(at, at + 32 * (2 * m - 1));
  return {
    root: `0x${Buffer.from(tree.buffer, 0, 32).toString('hex')}`,
    leafCount: m,
    proof(index) {
      if (!Number.isInteger(index) || index < 0 || index >= m) {
        throw new RangeError(`chunk ${index} is outside the piece (0..${m - 1})`);
      }
      return sortedTreeProof(tree, 0, positions[index]!);
    },
  };
}
