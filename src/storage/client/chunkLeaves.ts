/**
 * The leaves of a piece's Merkle tree (docs/storage.md §5): leaf i = sha256(uint32be(i) ‖ chunk i)
 * over 1 KiB chunks, the last one zero-padded.
 *
 * Why SHA-256 and not keccak256, which the tree's inner nodes use: leaves are nearly all of the
 * commitment's work (1028 bytes hashed per chunk against 64 bytes per inner node), and both the
 * client and the node commit every byte stored. OpenSSL's SHA-256 runs on the CPU's SHA extensions:
 * ~650 MB/s per core here through node:crypto, leaf by leaf, against ~330 MB/s for the
 * WebAssembly keccak this replaced. On chain the leaf is one call to the SHA-256 precompile
 * (60 + 12 gas a word, ~450 gas), as cheap as keccak for all that matters to a challenge.
 */
import { hash } from 'node:crypto';

/** Bytes per chunk of a piece: the unit of audits. @example Math.ceil(piece.length / CHUNK_SIZE) // chunks */
export const CHUNK_SIZE = 1024;

/** The leaf preimage, uint32be(i) ‖ chunk, reused for every leaf (leaves are hashed synchronously). */
const preimage = Buffer.alloc(4 + CHUNK_SIZE);

/**
 * Writes the leaves of chunks `first` … `first + n − 1`, read from `src[at + 1024j]`, to
 * `out[outAt + 32j]`. The caller zero-pads a short last chunk.
 *
 * @example chunkLeaves(piece, 0, 0, piece.length / CHUNK_SIZE, leaves, 0);
 */
export function chunkLeaves(
  src: Uint8Array,
  at: number,
  first: number,
  n: number,
  out: Uint8Array,
  outAt: number,
): void {
  for (let j = 0; j < n; j++) {
    const from = at + j * CHUNK_SIZE;
    preimage.writeUInt32BE(first + j, 0);
    preimage.set(src.subarray(from, from + CHUNK_SIZE), 4);
    out.set(hash('sha256', preimage, 'buffer') as Buffer, outAt + 32 * j);
  }
}

/**
 * The leaf of one chunk (exactly 1 KiB), computed on its own: what a verifier checks an answer with.
 *
 * @example chunkLeaf(3, answer.chunk); // 32 bytes
 */
export function chunkLeaf(index: number, chunk: Uint8Array): Uint8Array {
  const message = Buffer.alloc(4 + chunk.length);
  message.writeUInt32BE(index, 0);
  message.set(chunk, 4);
  return new Uint8Array(hash('sha256', message, 'buffer') as Buffer);
}
