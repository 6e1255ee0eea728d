/**
 * Generates the keccak kernel's WebAssembly module (see keccak.ts for what it computes and why).
 * A tiny emitter for just the opcodes used; the permutation is fully unrolled, 24 rounds over
 * i64 locals, following the Keccak team's compact form: theta's column parities, then per output
 * row rho+pi into five temporaries and chi into a second state, the two states swapping roles each
 * round, so no round writes a lane it still has to read.
 *
 * Exports of the module (all (i32, i32, i32) → ()): k64(a, b, out), k32(p, _, out),
 * leaves(src, n, out), nodes(tree, from, to), blocks(src, n, out); memory is imported as
 * env.memory, shared, up to {@link KECCAK_MAX_PAGES} pages.
 */

/** The most 64 KiB pages a kernel memory may have (4 GiB, wasm32's limit). */
export const KECCAK_MAX_PAGES = 65536;

import {
  call,
  func,
  get,
  I32,
  I64,
  i32,
  i64,
  keccakF1600,
  load8,
  load64,
  name,
  op,
  section,
  set,
  store64,
  tee,
  uleb,
  VOID,
  vec,
} from './wasmEmit.ts';

/** Function (a, b, out) hashing `lanes` (4 or 8) input lanes: 4 from a, then 4 from b. */
function emitKeccak(lanes: 4 | 8): number[] {
  // params 0..2; i64 locals: state S at 3..27 and T at 28..52, row temporaries 53..57, C 58..62, D 63..67
  const B = 53;
  const C = 58;
  const D = 63;
  const code: number[] = [];
  for (let i = 0; i < 25; i++) {
    if (i < 4) code.push(...get(0), ...load64(i * 8));
    else if (i < lanes) code.push(...get(1), ...load64((i - 4) * 8));
    else if (i === lanes) code.push(...i64(1n));
    else if (i === 16) code.push(...i64(1n << 63n));
    else code.push(...i64(0n));
    code.push(...set(3 + i));
  }
  const S = 3;
  code.push(...keccakF1600({ S, T: 28, B, C, D }));
  for (let i = 0; i < 4; i++) code.push(...get(2), ...get(S + i), ...store64(i * 8));
  return func([[65, I64]], code);
}

const F_K64 = 0;
const F_K32 = 1;

/** leaves(src, n, out): double hash of each 64-byte record, the inner hash through `out` itself. */
function emitLeaves(): number[] {
  return func(
    [],
    [
      op.block,
      VOID,
      ...get(1),
      op.i32Eqz,
      op.brIf,
      0,
      op.loop,
      VOID,
      ...get(0),
      ...get(0),
      ...i32(32),
      op.i32Add,
      ...get(2),
      ...call(F_K64),
      ...get(2),
      ...i32(0),
      ...get(2),
      ...call(F_K32),
      ...get(0),
      ...i32(64),
      op.i32Add,
      ...set(0),
      ...get(2),
      ...i32(32),
      op.i32Add,
      ...set(2),
      ...get(1),
      ...i32(1),
      op.i32Sub,
      ...tee(1),
      op.brIf,
      0,
      op.end,
      op.end,
    ],
  );
}

/** blocks(src, n, out): plain keccak of n consecutive 64-byte blocks. */
function emitBlocks(): number[] {
  return func(
    [],
    [
      op.block,
      VOID,
      ...get(1),
      op.i32Eqz,
      op.brIf,
      0,
      op.loop,
      VOID,
      ...get(0),
      ...get(0),
      ...i32(32),
      op.i32Add,
      ...get(2),
      ...call(F_K64),
      ...get(0),
      ...i32(64),
      op.i32Add,
      ...set(0),
      ...get(2),
      ...i32(32),
      op.i32Add,
      ...set(2),
      ...get(1),
      ...i32(1),
      op.i32Sub,
      ...tee(1),
      op.brIf,
      0,
      op.end,
      op.end,
    ],
  );
}

/** nodes(tree, from, to): i from to-1 down to from; locals 3 = left child, 4 = byte index, 5 = a, 6 = b. */
function emitNodes(): number[] {
  const [tree, from, i, left, k, a, b] = [0, 1, 2, 3, 4, 5, 6];
  return func(
    [[4, I32]],
    [
      op.block,
      VOID,
      ...get(i),
      ...get(from),
      op.i32GtU,
      op.i32Eqz,
      op.brIf,
      0,
      op.loop,
      VOID,
      // i--; left = tree + (2i + 1) * 32
      ...get(i),
      ...i32(1),
      op.i32Sub,
      ...tee(i),
      ...i32(6),
      op.i32Shl,
      ...get(tree),
      op.i32Add,
      ...i32(32),
      op.i32Add,
      ...set(left),
      // find the first differing byte (k = 32 when equal)
      ...i32(0),
      ...set(k),
      op.block,
      VOID,
      op.loop,
      VOID,
      ...get(left),
      ...get(k),
      op.i32Add,
      ...tee(a),
      ...load8(0),
      ...get(a),
      ...load8(32),
      op.i32Ne,
      op.brIf,
      1,
      ...get(k),
      ...i32(1),
      op.i32Add,
      ...tee(k),
      ...i32(32),
      op.i32LtU,
      op.brIf,
      0,
      op.end,
      op.end,
      // a = left + k still points at the deciding byte (or the last, equal one): swap if left's is greater
      ...get(a),
      ...load8(0),
      ...get(a),
      ...load8(32),
      op.i32GtU,
      ...set(b),
      ...get(left),
      ...i32(32),
      op.i32Add,
      ...get(left),
      ...get(b),
      op.select,
      ...get(left),
      ...get(left),
      ...i32(32),
      op.i32Add,
      ...get(b),
      op.select,
      ...get(i),
      ...i32(5),
      op.i32Shl,
      ...get(tree),
      op.i32Add,
      ...call(F_K64),
      ...get(i),
      ...get(from),
      op.i32GtU,
      op.brIf,
      0,
      op.end,
      op.end,
    ],
  );
}

/**
 * The module's bytes.
 *
 * @example const module = new WebAssembly.Module(emitKeccakModule());
 */
export function emitKeccakModule(): Uint8Array<ArrayBuffer> {
  const type3 = [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])];
  // memory import: shared (flags 3), min 1 page, max 65536 pages (4 GiB)
  const imports = vec([
    [...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(KECCAK_MAX_PAGES)],
  ]);
  const exported: [string, number][] = [
    ['k64', 0],
    ['k32', 1],
    ['leaves', 2],
    ['nodes', 3],
    ['blocks', 4],
  ];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type3])),
    ...section(2, imports),
    ...section(3, vec(exported.map(() => [0]))),
    ...section(7, vec(exported.map(([n, f]) => [...name(n), 0x00, ...uleb(f)]))),
    ...section(10, vec([emitKeccak(8), emitKeccak(4), emitLeaves(), emitNodes(), emitBlocks()])),
  ];
  return new Uint8Array(bytes);
}
