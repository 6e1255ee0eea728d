/**
 * Piece commitments (docs/storage.md §5–6): a piece is cut into 1 KiB chunks (the last zero-padded),
 * leaf i = sha256(uint32be(i) ‖ chunk i) — the index is inside the leaf because sorted-pair trees
 * do not bind positions, and an audit must prove chunk i, not any chunk — and the piece root is the
 * root of a sorted-pair keccak tree over the leaves in index order (OpenZeppelin's heap layout, leaf
 * i at position m − 1 + i). Audits ask for chunk i with its proof against the root.
 *
 * Leaves are hashed straight from the piece (chunkLeaves.ts) into the commitment memory, where the
 * inner nodes are hashed in one WebAssembly call (sortedTree.ts).
 */
import { type Hex, keccak256 } from 'viem';
import { KECCAK_RESERVED_BYTES } from '../../core/keccak.ts';
import { CHUNK_SIZE, chunkLeaf, chunkLeaves } from './chunkLeaves.ts';
import { storageError } from './errors.ts';
import { bytes32, fileIdBytes } from './fileId.ts';
import { commitmentKernel, hashIndexedTree, sortedTreeProof, verifySortedProof } from './sortedTree.ts';

export { CHUNK_SIZE } from './chunkLeaves.ts';

/** A chunk of a piece (always {@link CHUNK_SIZE} bytes, zero-padded) and its proof. */
export type ChunkProof = { chunk: Uint8Array; proof: Hex[] };

/**
 * How many chunks a piece of `size` bytes has.
 *
 * @example chunkCount(8 * 1024 * 1024 + 64); // 8193
 */
export function chunkCount(size: number): number {
  return Math.ceil(size / CHUNK_SIZE);
}

/**
 * The piece's Merkle root, as 0x-hex bytes32. Throws STORAGE_BAD_INPUT for an empty piece (the
 * data path never makes one: the smallest piece is 64 bytes).
 *
 * @example const root = pieceRoot(piece); // what PutOrder and the manifest carry
 */
export function pieceRoot(piece: Uint8Array): Hex {
  const { bytes, tree } = commitPiece(piece);
  return bytesToHex32(bytes, tree);
}

/**
 * Chunk `index` of the piece (zero-padded to 1 KiB) and its Merkle proof: what a node answers an
 * audit with, and what it posts on chain to answer a challenge.
 *
 * @example const { chunk, proof } = chunkProof(piece, 3);
 */
export function chunkProof(piece: Uint8Array, index: number): ChunkProof {
  const chunks = piece instanceof Uint8Array ? chunkCount(piece.length) : 0;
  if (!Number.isInteger(index) || index < 0 || index >= chunks) {
    throw storageError('STORAGE_BAD_INPUT', `Ask for a chunk from 0 to ${chunks - 1} of this piece.`, {
      index,
      chunks,
    });
  }
  const { bytes, tree, m } = commitPiece(piece);
  const chunk = new Uint8Array(CHUNK_SIZE);
  chunk.set(piece.subarray(index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE));
  return { chunk, proof: sortedTreeProof(bytes, tree, m - 1 + index) };
}

/**
 * True when `chunk` (exactly 1 KiB) is chunk `index` of the piece committed to by `pieceRoot`.
 * Computes the leaf independently of the WebAssembly path; malformed input gives false.
 *
 * @example verifyChunk(manifestPiece.pieceRoot, 3, answer.chunk, answer.proof); // true
 */
export function verifyChunk(
  pieceRoot: Hex,
  index: number,
  chunk: Uint8Array,
  proof: readonly Hex[],
): boolean {
  if (!(chunk instanceof Uint8Array) || chunk.length !== CHUNK_SIZE) return false;
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) return false;
  return verifySortedProof(pieceRoot, chunkLeaf(index, chunk), proof);
}

/**
 * The piece id, keccak256(fileId ‖ uint32be(segment) ‖ uint16be(index) ‖ pieceRoot): what nodes,
 * orders and the deal root see; it reveals nothing about the file.
 *
 * @example const id = pieceId(fileId, 0, 5, pieceRoot(piece));
 */
export function pieceId(fileId: Hex, segment: number, index: number, pieceRoot: Hex): Hex {
  if (!Number.isInteger(segment) || segment < 0 || segment > 0xffffffff) {
    throw storageError('STORAGE_BAD_INPUT', 'A segment index is a whole number from 0 to 2^32 − 1.', {
      segment,
    });
  }
  if (!Number.isInteger(index) || index < 0 || index > 0xffff) {
    throw storageError('STORAGE_BAD_INPUT', 'A piece index is a whole number from 0 to 65535.', { index });
  }
  const preimage = new Uint8Array(70);
  preimage.set(fileIdBytes(fileId), 0);
  new DataView(preimage.buffer).setUint32(32, segment);
  new DataView(preimage.buffer).setUint16(36, index);
  preimage.set(bytes32(pieceRoot, 'piece root'), 38);
  return keccak256(preimage);
}

/** Hashes the piece's tree in the commitment memory; returns the memory, the tree and its leaf count. */
function commitPiece(piece: Uint8Array): { bytes: Uint8Array; tree: number; m: number } {
  if (!(piece instanceof Uint8Array) || piece.length === 0) {
    throw storageError('STORAGE_BAD_INPUT', 'Commit a non-empty piece (a Uint8Array of at least 1 byte).', {
      size: piece instanceof Uint8Array ? 0 : typeof piece,
    });
  }
  const m = chunkCount(piece.length);
  const tree = KECCAK_RESERVED_BYTES;
  const kernel = commitmentKernel(tree + 32 * (2 * m - 1));
  const bytes = new Uint8Array(kernel.memory.buffer);
  const leaves = tree + 32 * (m - 1);
  const whole = Math.floor(piece.length / CHUNK_SIZE);
  chunkLeaves(piece, 0, 0, whole, bytes, leaves);
  if (whole < m) {
    const last = new Uint8Array(CHUNK_SIZE);
    last.set(piece.subarray(whole * CHUNK_SIZE));
    chunkLeaves(last, 0, whole, 1, bytes, leaves + 32 * whole);
  }
  hashIndexedTree(kernel, tree, m);
  return { bytes, tree, m };
}

function bytesToHex32(bytes: Uint8Array, at: number): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset + at, 32).toString('hex')}`;
}
