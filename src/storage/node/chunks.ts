/**
 * The piece commitment (docs/storage.md, "Data path" step 5) as the node needs it: a piece is cut
 * into 1 KiB chunks (the last zero-padded), each leaf is keccak256(chunk), and `pieceRoot` is the
 * root of the OpenZeppelin `SimpleMerkleTree` over the leaves — leaves sorted ascending, heap layout,
 * inner node = keccak256(sorted pair) — so `MerkleProof.verify` on chain accepts the proofs.
 *
 * Kept in the node's folder because src/storage/client/pieces.ts did not exist yet when the node
 * needed it; once it does, the two must agree byte for byte (the tests pin the root to
 * @openzeppelin/merkle-tree's).
 *
 * Leaves are hashed incrementally as an upload streams in (noble keccak: ~75 µs per chunk on the
 * reference machine, the upload's main CPU cost); inner nodes go through the project's WebAssembly
 * keccak kernel (~0.3 µs each).
 */
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex, type Hex, hexToBytes } from 'viem';
import { sortRecords } from '../../core/byteRecords.ts';
import {
  createKeccakKernel,
  growKeccakKernel,
  KECCAK_RESERVED_BYTES,
  type KeccakKernel,
} from '../../core/keccak.ts';

/** Bytes per chunk: the unit of audits and of the piece Merkle tree. */
export const CHUNK_SIZE = 1024;

/**
 * Number of chunks (= leaves) of a piece of `size` bytes.
 *
 * @example chunkCount(1025); // 2
 */
export function chunkCount(size: number): number {
  return Math.ceil(size / CHUNK_SIZE);
}

/**
 * The leaf of one chunk: keccak256 of its 1 KiB (zero-padded) bytes.
 *
 * @example hashChunk(new Uint8Array(CHUNK_SIZE)); // Uint8Array(32)
 */
export function hashChunk(chunk: Uint8Array): Uint8Array {
  return keccak_256(chunk);
}

/**
 * Hashes a piece's chunks as its bytes arrive, in any slicing.
 *
 * @example
 * const h = createChunkHasher();
 * for await (const part of body) h.update(part);
 * const leaves = h.digest(); // 32 bytes per chunk, in chunk order
 */
export type ChunkHasher = {
  update(bytes: Uint8Array): void;
  /** The leaves (keccak256 of each zero-padded chunk, in chunk order); call once, at the end. */
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
  const push = (chunk: Uint8Array) => {
    if (32 * (count + 1) > leaves.length) {
      const bigger = new Uint8Array(leaves.length * 2);
      bigger.set(leaves);
      leaves = bigger;
    }
    leaves.set(keccak_256(chunk), 32 * count++);
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
        push(pending);
        fill = 0;
      }
      for (; at + CHUNK_SIZE <= bytes.length; at += CHUNK_SIZE) push(bytes.subarray(at, at + CHUNK_SIZE));
      pending.set(bytes.subarray(at), 0);
      fill = bytes.length - at;
    },
    digest() {
      if (fill > 0) {
        pending.fill(0, fill);
        push(pending);
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
 * tree.root; // the piece's pieceRoot
 * tree.proof(3); // chunk 3's proof
 */
export function buildChunkTree(leaves: Uint8Array): ChunkTree {
  const n = leaves.length / 32;
  if (!Number.isInteger(n) || n < 1) throw new RangeError('a piece tree needs at least one 32-byte leaf');
  const treeBytes = 32 * (2 * n - 1);
  kernel ??= createKeccakKernel(treeBytes, KERNEL_MAX_BYTES);
  growKeccakKernel(kernel, treeBytes);
  const mem = new Uint8Array(kernel.memory.buffer);
  const base = KECCAK_RESERVED_BYTES;
  // OpenZeppelin's layout: the k-th smallest leaf at heap index 2n−2−k.
  const byRank = sortRecords(leaves, 0, 32, 32, n);
  const position = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const leaf = byRank[k]!;
    const at = 2 * n - 2 - k;
    position[leaf] = at;
    mem.set(leaves.subarray(32 * leaf, 32 * leaf + 32), base + 32 * at);
  }
  kernel.hashNodes(base, 0, n - 1);
  const tree = mem.slice(base, base + treeBytes);
  const node = (i: number): Hex => bytesToHex(tree.subarray(32 * i, 32 * i + 32));
  return {
    root: node(0),
    leafCount: n,
    proof(index) {
      if (!Number.isInteger(index) || index < 0 || index >= n) {
        throw new RangeError(`chunk ${index} is outside the piece (0..${n - 1})`);
      }
      const proof: Hex[] = [];
      for (let i = position[index]!; i > 0; i = (i - 1) >> 1) proof.push(node(i % 2 === 1 ? i + 1 : i - 1));
      return proof;
    },
  };
}
let kernel: KeccakKernel | undefined;
/** Tree memory for pieces up to 4 GiB (64 bytes of tree per KiB of piece). */
const KERNEL_MAX_BYTES = 256 * 1024 * 1024;

/**
 * The `pieceRoot` of a whole piece in memory (tests and small pieces; uploads hash as they stream).
 *
 * @example pieceRootOf(new Uint8Array(2048)); // '0x…'
 */
export function pieceRootOf(piece: Uint8Array): Hex {
  const h = createChunkHasher();
  h.update(piece);
  return buildChunkTree(h.digest()).root;
}

/**
 * True when `chunk` (the zero-padded 1 KiB chunk) and `proof` lead to `root` under sorted-pair
 * hashing — what a validator checks on an audit answer.
 *
 * @example verifyChunkProof(tree.root, chunk, tree.proof(0)); // true
 */
export function verifyChunkProof(root: Hex, chunk: Uint8Array, proof: readonly Hex[]): boolean {
  if (chunk.length !== CHUNK_SIZE) return false;
  let node = hashChunk(chunk);
  for (const p of proof) {
    const sibling = hexToBytes(p);
    if (sibling.length !== 32) return false;
    const pair = new Uint8Array(64);
    const first = compare(node, sibling) <= 0;
    pair.set(first ? node : sibling, 0);
    pair.set(first ? sibling : node, 32);
    node = keccak_256(pair);
  }
  return bytesToHex(node) === root.toLowerCase();
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
