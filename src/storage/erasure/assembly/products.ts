// Memory map shared with src/storage/erasure/wasmLayout.ts, and the GF(2^8) product by table.
//
// A product c·x is two 16-entry lookups: c·(x & 15) ^ c·(x >> 4 << 4). Each constant has a
// 32-byte table (low nibble products, then high nibble products) and i8x16 swizzle does 16
// lookups at once (the indices are masked, so relaxed swizzle is exact).
//
//   NIBBLE_MASK 16 bytes of 0x0f, loaded rather than a v128.const: V8 rematerializes constants
//               under register pressure with several instructions, a load folds
//   LEO_TABLES  256 × 32 bytes: Leopard products by log (log 255 multiplies by one)
//   ZERO_TABLE  32 zero bytes: a butterfly factor of log 255 multiplies by zero
//   LEO_SKEW    256 bytes: FFT skew logs

export const NIBBLE_MASK: usize = 1008;
export const LEO_TABLES: usize = 1024;
export const ZERO_TABLE: usize = LEO_TABLES + 256 * 32;
export const LEO_SKEW: usize = ZERO_TABLE + 32;

@inline
export function mulv(t: usize, v: v128): v128 {
  const mask = v128.load(NIBBLE_MASK);
  const lo = v128.and(v, mask);
  const hi = v128.and(i16x8.shr_u(v, 4), mask);
  return v128.xor(v128.relaxed_swizzle(v128.load(t), lo), v128.relaxed_swizzle(v128.load(t, 16), hi));
}

@inline
export function muls(t: usize, x: u32): u32 {
  return <u32>load<u8>(t + (x & 15)) ^ <u32>load<u8>(t + 16 + (x >> 4));
}

@inline
export function leoTable(log: i32): usize {
  return LEO_TABLES + (<usize>log << 5);
}

@inline
export function butterflyTable(log: i32): usize {
  return log == 255 ? ZERO_TABLE : LEO_TABLES + (<usize>log << 5);
}

@inline
export function mt(tl: v128, th: v128, v: v128): v128 {
  const mask = v128.load(NIBBLE_MASK);
  return v128.xor(v128.relaxed_swizzle(tl, v128.and(v, mask)), v128.relaxed_swizzle(th, v128.and(i16x8.shr_u(v, 4), mask)));
}

// Two IFFT layers at once on rows p, p+d, p+2d, p+3d.
