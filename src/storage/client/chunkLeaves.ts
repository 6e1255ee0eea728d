/**
 * The leaves of a piece's Merkle tree (docs/storage.md §5), keccak256(uint32be(i) ‖ chunk i) over
 * 1 KiB chunks, as WebAssembly generated here at load time. The core keccak kernel (keccak.ts) only
 * hashes one-block inputs (32 or 64 bytes); a leaf is 1028 bytes, eight sponge blocks, and hashing
 * 128 MiB of pieces per 64 MiB segment in JavaScript runs at ~40 MB/s (js-sha3), ~3 s a segment.
 * Here it runs at several hundred MB/s.
 *
 * Per chunk the function writes the big-endian index and copies the chunk into a 1088-byte scratch
 * message whose padding (0x01 at byte 1028, 0x80 at byte 1087) the caller wrote once, then absorbs
 * eight 136-byte blocks into 25 i64 locals with a fully unrolled keccak-f[1600] (the Keccak team's
 * compact form: two states swapping roles each round, so no round writes a lane it still reads).
 *
 * Export: chunks(src, from, to, out, scratch): for from ≤ i < to, out[32i..] = keccak256(uint32be(i) ‖
 * mem[src + 1024i .. +1024]). Callers should hash in batches of a few dozen chunks: V8 runs a
 * WebAssembly function's first calls in its baseline tier (about 10× slower here) and switches to
 * the optimised code only between calls, never inside a running loop. Memory is imported as env.memory, shared, up to 65536 pages, so the function runs
 * on the core kernel's memory and the tree is built in place by its `hashNodes`.
 */

import {
  get,
  I32,
  I64,
  i32,
  i64,
  keccakF1600,
  name,
  op,
  section,
  set,
  uleb,
  VOID,
  vec,
} from '../../core/wasmEmit.ts';

/** Bytes per chunk of a piece: the unit of audits. @example Math.ceil(piece.length / CHUNK_SIZE) // chunks */
export const CHUNK_SIZE = 1024;

/**
 * Bytes of the scratch message `chunks` needs: the padded 1028-byte leaf preimage.
 *
 * @example const data = scratch + Math.ceil(CHUNK_SCRATCH_BYTES / 64) * 64;
 */
export const CHUNK_SCRATCH_BYTES = 1088;

/** The exported function: see the module comment. */
export type ChunkLeavesFunction = (
  src: number,
  from: number,
  to: number,
  out: number,
  scratch: number,
) => void;

const RATE = 136;
// Parameters and locals of `chunks`.
const SRC = 0;
const FROM = 1;
const TO = 2;
const OUT = 3;
const SCRATCH = 4;
const I = 5;
const BLK = 6;
const P = 7;
const S = 8; // state, 25 lanes
const T = 33; // second state
const B = 58; // row temporaries
const C = 63; // column parities
const D = 68;
const I64_LOCALS = 65;

/** The 24 rounds, leaving the result back in S. */
const permutation = (): number[] => keccakF1600({ S, T, B, C, D });

function emitChunks(): number[] {
  const code: number[] = [...get(FROM), ...set(I), op.block, VOID, op.loop, VOID];
  code.push(...get(I), ...get(TO), op.i32GeU, op.brIf, 1);
  // uint32be(i) at scratch[0..4], then the chunk at scratch[4..1028]
  for (let b = 0; b < 4; b++) {
    code.push(...get(SCRATCH), ...get(I), ...i32(24 - 8 * b), op.i32ShrU, op.i32Store8, 0, ...uleb(b));
  }
  code.push(...get(SCRATCH), ...i32(4), op.i32Add);
  code.push(...get(SRC), ...get(I), ...i32(10), op.i32Shl, op.i32Add, ...i32(CHUNK_SIZE));
  code.push(0xfc, ...uleb(10), 0x00, 0x00); // memory.copy
  for (let j = 0; j < 25; j++) code.push(...i64(0n), ...set(S + j));
  code.push(...get(SCRATCH), ...set(P), ...i32(CHUNK_SCRATCH_BYTES / RATE), ...set(BLK));
  code.push(op.loop, VOID);
  for (let j = 0; j < RATE / 8; j++) {
    code.push(...get(S + j), ...get(P), op.i64Load, 3, ...uleb(8 * j), op.i64Xor, ...set(S + j));
  }
  code.push(...permutation());
  code.push(...get(P), ...i32(RATE), op.i32Add, ...set(P));
  code.push(...get(BLK), ...i32(1), op.i32Sub, op.tee, ...uleb(BLK), op.brIf, 0, op.end);
  for (let j = 0; j < 4; j++) {
    code.push(...get(OUT), ...get(I), ...i32(5), op.i32Shl, op.i32Add, ...get(S + j));
    code.push(op.i64Store, 3, ...uleb(8 * j));
  }
  code.push(...get(I), ...i32(1), op.i32Add, ...set(I), op.br, 0, op.end, op.end);
  const body = [
    ...vec([
      [...uleb(3), I32],
      [...uleb(I64_LOCALS), I64],
    ]),
    ...code,
    op.end,
  ];
  return [...uleb(body.length), ...body];
}

/**
 * The module's bytes.
 *
 * @example const module = new WebAssembly.Module(emitChunkLeavesModule());
 */
export function emitChunkLeavesModule(): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])];
  const imports = vec([[...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(65536)]]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(2, imports),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('chunks'), 0x00, 0]])),
    ...section(10, vec([emitChunks()])),
  ];
  return new Uint8Array(bytes);
}

let compiled: WebAssembly.Module | undefined;

/**
 * The `chunks` function over a shared memory (e.g. a core keccak kernel's). The caller writes the
 * scratch padding with {@link writeChunkPadding} before the first call, keeps every address
 * 8-byte aligned, and zero-pads a short last chunk.
 *
 * @example
 * const chunks = instantiateChunkLeaves(kernel.memory);
 * writeChunkPadding(new Uint8Array(kernel.memory.buffer), scratch);
 * chunks(src, 0, n, out, scratch);
 */
export function instantiateChunkLeaves(memory: WebAssembly.Memory): ChunkLeavesFunction {
  compiled ??= new WebAssembly.Module(emitChunkLeavesModule());
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  return instance.exports['chunks'] as ChunkLeavesFunction;
}

/**
 * Writes the keccak padding of a 1028-byte message into the scratch area at `scratch`.
 *
 * @example writeChunkPadding(new Uint8Array(memory.buffer), scratch);
 */
export function writeChunkPadding(bytes: Uint8Array, scratch: number): void {
  bytes.fill(0, scratch + 4 + CHUNK_SIZE, scratch + CHUNK_SCRATCH_BYTES);
  bytes[scratch + 4 + CHUNK_SIZE] = 0x01;
  bytes[scratch + CHUNK_SCRATCH_BYTES - 1]! |= 0x80;
}
