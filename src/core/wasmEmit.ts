/**
 * A tiny WebAssembly emitter shared by the project's generated kernels (keccak in src/core, piece
 * chunk leaves in src/storage/client): the opcodes they use, LEB128, sections, locals, and the
 * Keccak-f[1600] constants. Generated at load time, so no binary is committed.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const op = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  call: 0x10,
  select: 0x1b,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i64Load: 0x29,
  i32Load8u: 0x2d,
  i32Store8: 0x3a,
  i64Store: 0x37,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  i64And: 0x83,
  i64Xor: 0x85,
  i64Rotl: 0x89,
} as const;
export const VOID = 0x40;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
export function sleb(value: bigint): number[] {
  const out: number[] = [];
  let n = value;
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && !(b & 0x40)) || (n === -1n && b & 0x40)) return out.concat(b);
    out.push(b | 0x80);
  }
}
export const vec = (items: number[][]): number[] => uleb(items.length).concat(...items);
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));
export const get = (i: number) => [op.get, ...uleb(i)];
export const set = (i: number) => [op.set, ...uleb(i)];
export const tee = (i: number) => [op.tee, ...uleb(i)];
export const i32 = (v: number) => [op.i32Const, ...sleb(BigInt(v))];
export const i64 = (v: bigint) => [op.i64Const, ...sleb(BigInt.asIntN(64, v))];
export const load64 = (offset: number) => [op.i64Load, 3, ...uleb(offset)];
export const store64 = (offset: number) => [op.i64Store, 3, ...uleb(offset)];
export const load8 = (offset: number) => [op.i32Load8u, 0, ...uleb(offset)];
export const call = (f: number) => [op.call, ...uleb(f)];
export function func(locals: [count: number, type: number][], code: number[]): number[] {
  const body = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, op.end];
  return [...uleb(body.length), ...body];
}

/** Rotation offsets, lane x + 5y. */
export const RHO = [
  0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
];
/** Round constants, from the LFSR of the Keccak reference. */
export const ROUND_CONSTANTS: bigint[] = (() => {
  const out: bigint[] = [];
  let r = 1;
  for (let round = 0; round < 24; round++) {
    let c = 0n;
    for (let j = 0; j < 7; j++) {
      r = ((r << 1) ^ ((r >> 7) * 0x71)) & 0xff;
      if (r & 2) c |= 1n << BigInt((1 << j) - 1);
    }
    out.push(c);
  }
  return out;
})();

/**
 * The 24 rounds of Keccak-f[1600], fully unrolled over i64 locals in the Keccak team's compact
 * form: theta's column parities (C, then D), rho+pi of each output row into five temporaries (B), chi
 * into the second state (T), the two states swapping roles each round, so no round writes a lane it
 * still reads. After the even number of rounds the result is back in S.
 *
 * @example code.push(...keccakF1600({ S: 8, T: 33, B: 58, C: 63, D: 68 }));
 */
export function keccakF1600(locals: { S: number; T: number; B: number; C: number; D: number }): number[] {
  const { B, C, D } = locals;
  const code: number[] = [];
  let s = locals.S;
  let t = locals.T;
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) {
      code.push(...get(s + x), ...get(s + x + 5), op.i64Xor, ...get(s + x + 10), op.i64Xor);
      code.push(...get(s + x + 15), op.i64Xor, ...get(s + x + 20), op.i64Xor, ...set(C + x));
    }
    for (let x = 0; x < 5; x++) {
      code.push(...get(C + ((x + 4) % 5)), ...get(C + ((x + 1) % 5)), ...i64(1n), op.i64Rotl, op.i64Xor);
      code.push(...set(D + x));
    }
    for (let Y = 0; Y < 5; Y++) {
      // Output lane (X, Y) of rho+pi comes from lane (x, y) with X = y and Y = 2x + 3y (mod 5).
      for (let X = 0; X < 5; X++) {
        const x = (3 * (((Y - 3 * X) % 5) + 5)) % 5;
        const lane = x + 5 * X;
        code.push(...get(s + lane), ...get(D + x), op.i64Xor);
        if (RHO[lane]) code.push(...i64(BigInt(RHO[lane]!)), op.i64Rotl);
        code.push(...set(B + X));
      }
      for (let X = 0; X < 5; X++) {
        code.push(...get(B + X), ...get(B + ((X + 1) % 5)), ...i64(-1n), op.i64Xor);
        code.push(...get(B + ((X + 2) % 5)), op.i64And, op.i64Xor);
        if (X === 0 && Y === 0) code.push(...i64(ROUND_CONSTANTS[round]!), op.i64Xor);
        code.push(...set(t + X + 5 * Y));
      }
    }
    [s, t] = [t, s];
  }
  return code;
}
