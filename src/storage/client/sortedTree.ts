/**
 * Sorted-pair keccak Merkle trees in OpenZeppelin's heap layout. The deal commitment of
 * docs/storage.md §8 is laid out exactly as @openzeppelin/merkle-tree's `SimpleMerkleTree` builds
 * it (`buildSortedTree`); a piece's tree (§5) keeps its leaves in index order (`hashIndexedTree`).
 * The `SimpleMerkleTree` layout: the leaves sorted
 * ascending as big-endian numbers and stored from the end of a heap array of 2m−1 nodes (the
 * smallest leaf at index 2m−2), inner node i = keccak256(sort(node[2i+1], node[2i+2])). Proofs are
 * the siblings from a leaf up to the root, which OpenZeppelin's `MerkleProof.verify` accepts.
 *
 * Trees are built in one WebAssembly memory per thread (the core keccak kernel's, grown on demand),
 * the inner nodes hashed there in one call; no per-node objects or hex strings.
 */
import { bytesToHex, type Hex, hexToBytes } from 'viem';
import {
  createKeccakKernel,
  growKeccakKernel,
  KECCAK_RESERVED_BYTES,
  type KeccakKernel,
  keccak256Small,
} from '../../core/keccak.ts';
import { storageError } from './errors.ts';

/** The most bytes the commitment memory may grow to (a piece of ~1.9 GiB). @example commitmentKernel(COMMITMENT_MAX_BYTES - 64) */
export const COMMITMENT_MAX_BYTES = 2 ** 31;

/** Root of a tree with no leaves: bytes32(0), which no proof verifies against. @example dealRoot([]) === EMPTY_ROOT */
export const EMPTY_ROOT: Hex = `0x${'0'.repeat(64)}`;

let workspace: KeccakKernel | undefined;

/**
 * This thread's commitment kernel, grown to hold at least `bytes` bytes after the reserved prefix.
 * Take new views of its memory after each call (growth replaces `memory.buffer`).
 *
 * @example const kernel = commitmentKernel(64 + 1024 * chunks);
 */
export function commitmentKernel(bytes: number): KeccakKernel {
  if (bytes > COMMITMENT_MAX_BYTES - KECCAK_RESERVED_BYTES) {
    throw storageError(
      'STORAGE_PIECE_TOO_LARGE',
      'Commit at most ~1.9 GiB at a time: use smaller segments or more data shards.',
      { bytes },
    );
  }
  workspace ??= createKeccakKernel(1 << 20, COMMITMENT_MAX_BYTES - KECCAK_RESERVED_BYTES);
  growKeccakKernel(workspace, bytes);
  return workspace;
}

/**
 * Builds the tree over the `m` 32-byte leaves at `hashes` (in leaf-index order) into the 32(2m−1)
 * bytes at `tree` (both 32-byte aligned, not overlapping) and returns each leaf's heap position.
 *
 * @example
 * const positions = buildSortedTree(kernel, hashes, m, tree);
 * const root = bytes.slice(tree, tree + 32);
 */
export function buildSortedTree(kernel: KeccakKernel, hashes: number, m: number, tree: number): Uint32Array {
  const words = new Uint32Array(kernel.memory.buffer);
  const order = sortLeaves(words, hashes >>> 2, m);
  const positions = new Uint32Array(m);
  for (let rank = 0; rank < m; rank++) {
    const leaf = order[rank]!;
    const at = 2 * m - 2 - rank;
    positions[leaf] = at;
    const from = (hashes >>> 2) + 8 * leaf;
    const to = (tree >>> 2) + 8 * at;
    for (let w = 0; w < 8; w++) words[to + w] = words[from + w]!;
  }
  if (m > 1) kernel.hashNodes(tree, 0, m - 1);
  return positions;
}

/**
 * Hashes the inner nodes of a tree whose `m` leaves are already in place at heap positions
 * `m − 1 … 2m − 2`, in index order, in the 32(2m−1) bytes at `tree`: the piece commitment's tree
 * (docs/storage.md §5), whose leaves bind their own index, so they need no sorting. Leaf i's proof
 * is `sortedTreeProof(bytes, tree, m - 1 + i)`, and OpenZeppelin's `MerkleProof.verify` accepts it.
 *
 * @example
 * bytes.set(leaves, tree + 32 * (m - 1));
 * hashIndexedTree(kernel, tree, m);
 */
export function hashIndexedTree(kernel: KeccakKernel, tree: number, m: number): void {
  if (m > 1) kernel.hashNodes(tree, 0, m - 1);
}

/**
 * The proof of the leaf at heap `position` of the tree at `tree`: siblings from the leaf upwards.
 *
 * @example const proof = sortedTreeProof(bytes, tree, positions[i]);
 */
export function sortedTreeProof(bytes: Uint8Array, tree: number, position: number): Hex[] {
  const proof: Hex[] = [];
  for (let j = position; j > 0; j = (j - 1) >> 1) {
    const sibling = j % 2 === 1 ? j + 1 : j - 1;
    proof.push(bytesToHex(bytes.subarray(tree + 32 * sibling, tree + 32 * sibling + 32)));
  }
  return proof;
}

/**
 * True when `proof` leads from `leaf` to `root` with sorted-pair keccak (OpenZeppelin's
 * `MerkleProof.verify`). Malformed proof entries make it false, not throw.
 *
 * @example verifySortedProof(root, leaf, proof); // true
 */
export function verifySortedProof(root: Hex, leaf: Uint8Array, proof: readonly Hex[]): boolean {
  if (!Array.isArray(proof) || leaf.length !== 32 || !isBytes32(root)) return false;
  const pair = new Uint8Array(64);
  let node = leaf;
  for (const sibling of proof) {
    if (!isBytes32(sibling)) return false;
    const other = hexToBytes(sibling);
    const nodeFirst = Buffer.compare(node, other) <= 0;
    pair.set(nodeFirst ? node : other, 0);
    pair.set(nodeFirst ? other : node, 32);
    node = keccak256Small(pair);
  }
  return bytesToHex(node) === root.toLowerCase();
}

function isBytes32(value: unknown): value is Hex {
  return typeof value === 'string' && /^0x[0-9a-fA-F]{64}$/.test(value);
}

/** Leaf indices in ascending order of their hashes (at word offset `base`, 8 words each). */
function sortLeaves(words: Uint32Array, base: number, m: number): Uint32Array {
  // The first four bytes as a big-endian number, with the index below it, sort in one native call;
  // leaves that share those bytes (rare) are then ordered by a full comparison.
  const compare = (a: number, b: number) => {
    for (let w = 0; w < 8; w++) {
      const x = words[base + 8 * a + w]!;
      const y = words[base + 8 * b + w]!;
      if (x !== y) return bswap(x) - bswap(y);
    }
    return 0;
  };
  if (m >= INDEX_SPAN) return Uint32Array.from({ length: m }, (_, i) => i).sort(compare);
  const keys = new Float64Array(m);
  for (let i = 0; i < m; i++) keys[i] = bswap(words[base + 8 * i]!) * INDEX_SPAN + i;
  keys.sort();
  const order = new Uint32Array(m);
  for (let r = 0; r < m; r++) order[r] = keys[r]! % INDEX_SPAN;
  for (let r = 0; r < m; ) {
    let end = r + 1;
    while (end < m && Math.floor(keys[end]! / INDEX_SPAN) === Math.floor(keys[r]! / INDEX_SPAN)) end++;
    if (end - r > 1) order.subarray(r, end).sort(compare);
    r = end;
  }
  return order;
}
const INDEX_SPAN = 2 ** 21;

function bswap(w: number): number {
  return (((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24)) >>> 0;
}
