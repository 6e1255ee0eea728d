// Hot loops of the erasure coder, compiled by AssemblyScript to WebAssembly with SIMD128.
//
// A GF(2^8) product c·x is two 16-entry lookups: c·(x & 15) ^ c·(x >> 4 << 4). Each constant
// has a 32-byte table (low nibble products, then high nibble products) and i8x16 swizzle does
// 16 lookups at once. The JavaScript side owns the memory: it writes the tables and pointer
// lists (u32 arrays of shard addresses) and calls these functions; nothing here allocates.
//
// Memory map, fixed with src/storage/erasure/wasmLayout.ts:
//   NIBBLE_MASK 16 bytes of 0x0f, loaded rather than a v128.const: V8 rematerializes
//               constants under register pressure with several instructions, a load folds
//   LEO_TABLES  256 × 32 bytes: Leopard products by log (log 255 multiplies by one)
//   ZERO_TABLE  32 zero bytes: a butterfly factor of log 255 multiplies by zero
//   LEO_SKEW    256 bytes: FFT skew logs

const NIBBLE_MASK: usize = 1008;
const LEO_TABLES: usize = 1024;
const ZERO_TABLE: usize = LEO_TABLES + 256 * 32;
const LEO_SKEW: usize = ZERO_TABLE + 32;

// ---------------------------------------------------------------------------------------------
// Products

@inline
function mulv(t: usize, v: v128): v128 {
  const mask = v128.load(NIBBLE_MASK);
  const lo = v128.and(v, mask);
  const hi = v128.and(i16x8.shr_u(v, 4), mask);
  return v128.xor(v128.relaxed_swizzle(v128.load(t), lo), v128.relaxed_swizzle(v128.load(t, 16), hi));
}

@inline
function muls(t: usize, x: u32): u32 {
  return <u32>load<u8>(t + (x & 15)) ^ <u32>load<u8>(t + 16 + (x >> 4));
}

@inline
function leoTable(log: i32): usize {
  return LEO_TABLES + (<usize>log << 5);
}

@inline
function butterflyTable(log: i32): usize {
  return log == 255 ? ZERO_TABLE : LEO_TABLES + (<usize>log << 5);
}

// ---------------------------------------------------------------------------------------------
// Cauchy matrix: out[r] = Σ_j c[r][j] · in[j]
//
// `tables` holds one 32-byte table per coefficient, grouped by batches of output rows: rows are
// taken 4 at a time, then 2, then 1, and within a batch of R rows the tables run [j][row]. Each
// 16-byte column of the inputs is split into nibbles once and feeds R accumulators in registers.

function rows4(inputs: usize, k: i32, out: usize, tables: usize, start: usize, end: usize): void {
  const o0 = load<usize>(out);
  const o1 = load<usize>(out, 4);
  const o2 = load<usize>(out, 8);
  const o3 = load<usize>(out, 12);
  const mask = v128.load(NIBBLE_MASK);
  for (let off = start; off < end; off += 16) {
    let a0 = i8x16.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    let t = tables;
    for (let j = 0; j < k; j++) {
      const v = v128.load(load<usize>(inputs + (<usize>j << 2)) + off);
      const lo = v128.and(v, mask);
      const hi = v128.and(i16x8.shr_u(v, 4), mask);
      a0 = v128.xor(a0, v128.relaxed_swizzle(v128.load(t), lo));
      a0 = v128.xor(a0, v128.relaxed_swizzle(v128.load(t, 16), hi));
      a1 = v128.xor(a1, v128.relaxed_swizzle(v128.load(t, 32), lo));
      a1 = v128.xor(a1, v128.relaxed_swizzle(v128.load(t, 48), hi));
      a2 = v128.xor(a2, v128.relaxed_swizzle(v128.load(t, 64), lo));
      a2 = v128.xor(a2, v128.relaxed_swizzle(v128.load(t, 80), hi));
      a3 = v128.xor(a3, v128.relaxed_swizzle(v128.load(t, 96), lo));
      a3 = v128.xor(a3, v128.relaxed_swizzle(v128.load(t, 112), hi));
      t += 128;
    }
    v128.store(o0 + off, a0);
    v128.store(o1 + off, a1);
    v128.store(o2 + off, a2);
    v128.store(o3 + off, a3);
  }
}

function rows2(inputs: usize, k: i32, out: usize, tables: usize, start: usize, end: usize): void {
  const o0 = load<usize>(out);
  const o1 = load<usize>(out, 4);
  const mask = v128.load(NIBBLE_MASK);
  for (let off = start; off < end; off += 32) {
    let a0 = i8x16.splat(0);
    let a1 = a0;
    let b0 = a0;
    let b1 = a0;
    let t = tables;
    for (let j = 0; j < k; j++) {
      const p = load<usize>(inputs + (<usize>j << 2)) + off;
      const v = v128.load(p);
      const w = v128.load(p, 16);
      const vlo = v128.and(v, mask);
      const vhi = v128.and(i16x8.shr_u(v, 4), mask);
      const wlo = v128.and(w, mask);
      const whi = v128.and(i16x8.shr_u(w, 4), mask);
      const t0l = v128.load(t);
      const t0h = v128.load(t, 16);
      const t1l = v128.load(t, 32);
      const t1h = v128.load(t, 48);
      a0 = v128.xor(a0, v128.xor(v128.relaxed_swizzle(t0l, vlo), v128.relaxed_swizzle(t0h, vhi)));
      b0 = v128.xor(b0, v128.xor(v128.relaxed_swizzle(t0l, wlo), v128.relaxed_swizzle(t0h, whi)));
      a1 = v128.xor(a1, v128.xor(v128.relaxed_swizzle(t1l, vlo), v128.relaxed_swizzle(t1h, vhi)));
      b1 = v128.xor(b1, v128.xor(v128.relaxed_swizzle(t1l, wlo), v128.relaxed_swizzle(t1h, whi)));
      t += 64;
    }
    v128.store(o0 + off, a0);
    v128.store(o0 + off, b0, 16);
    v128.store(o1 + off, a1);
    v128.store(o1 + off, b1, 16);
  }
}

function rows1(inputs: usize, k: i32, out: usize, tables: usize, start: usize, end: usize): void {
  const o0 = load<usize>(out);
  for (let off = start; off < end; off += 16) {
    let a0 = i8x16.splat(0);
    let t = tables;
    for (let j = 0; j < k; j++) {
      a0 = v128.xor(a0, mulv(t, v128.load(load<usize>(inputs + (<usize>j << 2)) + off)));
      t += 32;
    }
    v128.store(o0 + off, a0);
  }
}

function rowsTail(inputs: usize, k: i32, out: usize, rows: i32, tables: usize, start: usize, end: usize): void {
  for (let off = start; off < end; off++) {
    for (let r = 0; r < rows; r++) {
      let acc: u32 = 0;
      for (let j = 0; j < k; j++) {
        const x = <u32>load<u8>(load<usize>(inputs + (<usize>j << 2)) + off);
        acc ^= muls(tables + ((<usize>(j * rows + r)) << 5), x);
      }
      store<u8>(load<usize>(out + (<usize>r << 2)) + off, <u8>acc);
    }
  }
}

/**
 * out[r][0..len) = Σ_j c[r][j] · in[j][0..len) for r < rows, j < k, column chunk by column chunk
 * so that the k input chunks stay in L1 while every batch of output rows reads them.
 */
export function cauchyApply(inputs: usize, k: i32, out: usize, rows: i32, tables: usize, len: usize, chunk: usize): void {
  const vecEnd = len & ~(<usize>31);
  for (let c0: usize = 0; c0 < vecEnd; c0 += chunk) {
    const c1 = min(c0 + chunk, vecEnd);
    let r = 0;
    while (rows - r >= 4) {
      rows4(inputs, k, out + (<usize>r << 2), tables + (<usize>(r * k) << 5), c0, c1);
      r += 4;
    }
    if (rows - r >= 2) {
      rows2(inputs, k, out + (<usize>r << 2), tables + (<usize>(r * k) << 5), c0, c1);
      r += 2;
    }
    if (rows - r == 1) rows1(inputs, k, out + (<usize>r << 2), tables + (<usize>(r * k) << 5), c0, c1);
  }
  if (vecEnd == len) return;
  let r = 0;
  while (r < rows) {
    const batch = rows - r >= 4 ? 4 : rows - r >= 2 ? 2 : 1;
    rowsTail(inputs, k, out + (<usize>r << 2), batch, tables + (<usize>(r * k) << 5), vecEnd, len);
    r += batch;
  }
}

// ---------------------------------------------------------------------------------------------
// Leopard butterflies over rows of a work area (`len` is a multiple of 32)

function xorRow(x: usize, y: usize, len: usize): void {
  for (let off: usize = 0; off < len; off += 16) v128.store(x + off, v128.xor(v128.load(x + off), v128.load(y + off)));
}

// y ^= x; x ^= y · exp(log)
function ifft2(x: usize, y: usize, len: usize, log: i32): void {
  if (log == 255) {
    xorRow(y, x, len);
    return;
  }
  const t = leoTable(log);
  const tl = v128.load(t);
  const th = v128.load(t, 16);
  const mask = v128.load(NIBBLE_MASK);
  for (let off: usize = 0; off < len; off += 16) {
    let xv = v128.load(x + off);
    const yv = v128.xor(v128.load(y + off), xv);
    v128.store(y + off, yv);
    const lo = v128.and(yv, mask);
    const hi = v128.and(i16x8.shr_u(yv, 4), mask);
    xv = v128.xor(xv, v128.xor(v128.relaxed_swizzle(tl, lo), v128.relaxed_swizzle(th, hi)));
    v128.store(x + off, xv);
  }
}

// x ^= y · exp(log); y ^= x
function fft2(x: usize, y: usize, len: usize, log: i32): void {
  if (log == 255) {
    xorRow(y, x, len);
    return;
  }
  const t = leoTable(log);
  const tl = v128.load(t);
  const th = v128.load(t, 16);
  const mask = v128.load(NIBBLE_MASK);
  for (let off: usize = 0; off < len; off += 16) {
    const yv = v128.load(y + off);
    const lo = v128.and(yv, mask);
    const hi = v128.and(i16x8.shr_u(yv, 4), mask);
    const xv = v128.xor(v128.load(x + off), v128.xor(v128.relaxed_swizzle(tl, lo), v128.relaxed_swizzle(th, hi)));
    v128.store(x + off, xv);
    v128.store(y + off, v128.xor(yv, xv));
  }
}

@inline
function mt(tl: v128, th: v128, v: v128): v128 {
  const mask = v128.load(NIBBLE_MASK);
  return v128.xor(v128.relaxed_swizzle(tl, v128.and(v, mask)), v128.relaxed_swizzle(th, v128.and(i16x8.shr_u(v, 4), mask)));
}

// Two IFFT layers at once on rows p, p+d, p+2d, p+3d.
function ifft4(p: usize, d: usize, len: usize, log01: i32, log23: i32, log02: i32): void {
  const t01 = butterflyTable(log01);
  const t23 = butterflyTable(log23);
  const t02 = butterflyTable(log02);
  const l01 = v128.load(t01);
  const h01 = v128.load(t01, 16);
  const l23 = v128.load(t23);
  const h23 = v128.load(t23, 16);
  const l02 = v128.load(t02);
  const h02 = v128.load(t02, 16);
  const p1 = p + d;
  const p2 = p1 + d;
  const p3 = p2 + d;
  for (let off: usize = 0; off < len; off += 32) {
    let w0 = v128.load(p + off);
    let w1 = v128.load(p1 + off);
    let w2 = v128.load(p2 + off);
    let w3 = v128.load(p3 + off);
    w1 = v128.xor(w1, w0);
    w0 = v128.xor(w0, mt(l01, h01, w1));
    w3 = v128.xor(w3, w2);
    w2 = v128.xor(w2, mt(l23, h23, w3));
    w2 = v128.xor(w2, w0);
    w3 = v128.xor(w3, w1);
    w0 = v128.xor(w0, mt(l02, h02, w2));
    w1 = v128.xor(w1, mt(l02, h02, w3));
    v128.store(p + off, w0);
    v128.store(p1 + off, w1);
    v128.store(p2 + off, w2);
    v128.store(p3 + off, w3);
  
    let w0b = v128.load(p + off, 16);
    let w1b = v128.load(p1 + off, 16);
    let w2b = v128.load(p2 + off, 16);
    let w3b = v128.load(p3 + off, 16);
    w1b = v128.xor(w1b, w0b);
    w0b = v128.xor(w0b, mt(l01, h01, w1b));
    w3b = v128.xor(w3b, w2b);
    w2b = v128.xor(w2b, mt(l23, h23, w3b));
    w2b = v128.xor(w2b, w0b);
    w3b = v128.xor(w3b, w1b);
    w0b = v128.xor(w0b, mt(l02, h02, w2b));
    w1b = v128.xor(w1b, mt(l02, h02, w3b));
    v128.store(p + off, w0b, 16);
    v128.store(p1 + off, w1b, 16);
    v128.store(p2 + off, w2b, 16);
    v128.store(p3 + off, w3b, 16);
  }
}

// Two FFT layers at once on rows p, p+d, p+2d, p+3d.
function fft4(p: usize, d: usize, len: usize, log01: i32, log23: i32, log02: i32): void {
  const t01 = butterflyTable(log01);
  const t23 = butterflyTable(log23);
  const t02 = butterflyTable(log02);
  const l01 = v128.load(t01);
  const h01 = v128.load(t01, 16);
  const l23 = v128.load(t23);
  const h23 = v128.load(t23, 16);
  const l02 = v128.load(t02);
  const h02 = v128.load(t02, 16);
  const p1 = p + d;
  const p2 = p1 + d;
  const p3 = p2 + d;
  for (let off: usize = 0; off < len; off += 32) {
    let w0 = v128.load(p + off);
    let w1 = v128.load(p1 + off);
    let w2 = v128.load(p2 + off);
    let w3 = v128.load(p3 + off);
    w0 = v128.xor(w0, mt(l02, h02, w2));
    w2 = v128.xor(w2, w0);
    w1 = v128.xor(w1, mt(l02, h02, w3));
    w3 = v128.xor(w3, w1);
    w0 = v128.xor(w0, mt(l01, h01, w1));
    w1 = v128.xor(w1, w0);
    w2 = v128.xor(w2, mt(l23, h23, w3));
    w3 = v128.xor(w3, w2);
    v128.store(p + off, w0);
    v128.store(p1 + off, w1);
    v128.store(p2 + off, w2);
    v128.store(p3 + off, w3);
  
    let w0b = v128.load(p + off, 16);
    let w1b = v128.load(p1 + off, 16);
    let w2b = v128.load(p2 + off, 16);
    let w3b = v128.load(p3 + off, 16);
    w0b = v128.xor(w0b, mt(l02, h02, w2b));
    w2b = v128.xor(w2b, w0b);
    w1b = v128.xor(w1b, mt(l02, h02, w3b));
    w3b = v128.xor(w3b, w1b);
    w0b = v128.xor(w0b, mt(l01, h01, w1b));
    w1b = v128.xor(w1b, w0b);
    w2b = v128.xor(w2b, mt(l23, h23, w3b));
    w3b = v128.xor(w3b, w2b);
    v128.store(p + off, w0b, 16);
    v128.store(p1 + off, w1b, 16);
    v128.store(p2 + off, w2b, 16);
    v128.store(p3 + off, w3b, 16);
  }
}

// Two FFT layers where both factors of the first butterflies are zero (log 255), as in the first
// group of every FFT level: only the (2, 3) butterfly multiplies.
function fft4First(p: usize, d: usize, len: usize, log23: i32): void {
  const t23 = butterflyTable(log23);
  const l23 = v128.load(t23);
  const h23 = v128.load(t23, 16);
  const p1 = p + d;
  const p2 = p1 + d;
  const p3 = p2 + d;
  for (let off: usize = 0; off < len; off += 32) {
    const w0 = v128.load(p + off);
    let w1 = v128.load(p1 + off);
    let w2 = v128.xor(v128.load(p2 + off), w0);
    let w3 = v128.xor(v128.load(p3 + off), w1);
    w1 = v128.xor(w1, w0);
    w2 = v128.xor(w2, mt(l23, h23, w3));
    w3 = v128.xor(w3, w2);
    v128.store(p1 + off, w1);
    v128.store(p2 + off, w2);
    v128.store(p3 + off, w3);
  
    const w0b = v128.load(p + off, 16);
    let w1b = v128.load(p1 + off, 16);
    let w2b = v128.xor(v128.load(p2 + off, 16), w0b);
    let w3b = v128.xor(v128.load(p3 + off, 16), w1b);
    w1b = v128.xor(w1b, w0b);
    w2b = v128.xor(w2b, mt(l23, h23, w3b));
    w3b = v128.xor(w3b, w2b);
    v128.store(p1 + off, w1b, 16);
    v128.store(p2 + off, w2b, 16);
    v128.store(p3 + off, w3b, 16);
  }
}

// Inverse of fft4First: the first IFFT group of a level at offset 0 (decoder).
function ifft4First(p: usize, d: usize, len: usize, log23: i32): void {
  const t23 = butterflyTable(log23);
  const l23 = v128.load(t23);
  const h23 = v128.load(t23, 16);
  const p1 = p + d;
  const p2 = p1 + d;
  const p3 = p2 + d;
  for (let off: usize = 0; off < len; off += 32) {
    const w0 = v128.load(p + off);
    const w1 = v128.xor(v128.load(p1 + off), w0);
    let w2 = v128.load(p2 + off);
    let w3 = v128.xor(v128.load(p3 + off), w2);
    w2 = v128.xor(w2, mt(l23, h23, w3));
    v128.store(p1 + off, w1);
    v128.store(p2 + off, v128.xor(w2, w0));
    v128.store(p3 + off, v128.xor(w3, w1));
  
    const w0b = v128.load(p + off, 16);
    const w1b = v128.xor(v128.load(p1 + off, 16), w0b);
    let w2b = v128.load(p2 + off, 16);
    let w3b = v128.xor(v128.load(p3 + off, 16), w2b);
    w2b = v128.xor(w2b, mt(l23, h23, w3b));
    v128.store(p1 + off, w1b, 16);
    v128.store(p2 + off, v128.xor(w2b, w0b), 16);
    v128.store(p3 + off, v128.xor(w3b, w1b), 16);
  }
}

// The last IFFT level (rows 2 and 3 still zero) fused with the first FFT level of the same
// distance, when the data fit in the lower half of the transform: one pass instead of two.
function ifftFftMiddle(p: usize, d: usize, len: usize, log01: i32, log02: i32, log23: i32): void {
  const t01 = butterflyTable(log01);
  const t02 = butterflyTable(log02);
  const t23 = butterflyTable(log23);
  const l01 = v128.load(t01);
  const h01 = v128.load(t01, 16);
  const l02 = v128.load(t02);
  const h02 = v128.load(t02, 16);
  const l23 = v128.load(t23);
  const h23 = v128.load(t23, 16);
  const p1 = p + d;
  const p2 = p1 + d;
  const p3 = p2 + d;
  for (let off: usize = 0; off < len; off += 32) {
    let w0 = v128.load(p + off);
    let w1 = v128.xor(v128.load(p1 + off), w0);
    w0 = v128.xor(w0, mt(l01, h01, w1));
    // IFFT layer 2 with zero rows 2, 3: (w2, w3) = (w0, w1), then w0, w1 scaled.
    let w2 = w0;
    let w3 = w1;
    w0 = v128.xor(w0, mt(l02, h02, w2));
    w1 = v128.xor(w1, mt(l02, h02, w3));
    // FFT first level, both leading factors zero.
    w2 = v128.xor(w2, w0);
    w3 = v128.xor(w3, w1);
    w1 = v128.xor(w1, w0);
    w2 = v128.xor(w2, mt(l23, h23, w3));
    w3 = v128.xor(w3, w2);
    v128.store(p + off, w0);
    v128.store(p1 + off, w1);
    v128.store(p2 + off, w2);
    v128.store(p3 + off, w3);
  
    let w0b = v128.load(p + off, 16);
    let w1b = v128.xor(v128.load(p1 + off, 16), w0b);
    w0b = v128.xor(w0b, mt(l01, h01, w1b));
    // IFFT layer 2 with zero rows 2, 3: (w2b, w3b) = (w0b, w1b), then w0b, w1b scaled.
    let w2b = w0b;
    let w3b = w1b;
    w0b = v128.xor(w0b, mt(l02, h02, w2b));
    w1b = v128.xor(w1b, mt(l02, h02, w3b));
    // FFT first level, both leading factors zero.
    w2b = v128.xor(w2b, w0b);
    w3b = v128.xor(w3b, w1b);
    w1b = v128.xor(w1b, w0b);
    w2b = v128.xor(w2b, mt(l23, h23, w3b));
    w3b = v128.xor(w3b, w2b);
    v128.store(p + off, w0b, 16);
    v128.store(p1 + off, w1b, 16);
    v128.store(p2 + off, w2b, 16);
    v128.store(p3 + off, w3b, 16);
  }
}

// ifft4 reading its four rows from elsewhere (the data shards), writing the work rows.
function ifft4In(s0: usize, s1: usize, s2: usize, s3: usize, p: usize, d: usize, len: usize, log01: i32, log23: i32, log02: i32): void {
  const t01 = butterflyTable(log01);
  const t23 = butterflyTable(log23);
  const t02 = butterflyTable(log02);
  const l01 = v128.load(t01);
  const h01 = v128.load(t01, 16);
  const l23 = v128.load(t23);
  const h23 = v128.load(t23, 16);
  const l02 = v128.load(t02);
  const h02 = v128.load(t02, 16);
  const p1 = p + d;
  const p2 = p1 + d;
  const p3 = p2 + d;
  for (let off: usize = 0; off < len; off += 32) {
    let w0 = v128.load(s0 + off);
    let w1 = v128.load(s1 + off);
    let w2 = v128.load(s2 + off);
    let w3 = v128.load(s3 + off);
    w1 = v128.xor(w1, w0);
    w0 = v128.xor(w0, mt(l01, h01, w1));
    w3 = v128.xor(w3, w2);
    w2 = v128.xor(w2, mt(l23, h23, w3));
    w2 = v128.xor(w2, w0);
    w3 = v128.xor(w3, w1);
    w0 = v128.xor(w0, mt(l02, h02, w2));
    w1 = v128.xor(w1, mt(l02, h02, w3));
    v128.store(p + off, w0);
    v128.store(p1 + off, w1);
    v128.store(p2 + off, w2);
    v128.store(p3 + off, w3);
  
    let w0b = v128.load(s0 + off, 16);
    let w1b = v128.load(s1 + off, 16);
    let w2b = v128.load(s2 + off, 16);
    let w3b = v128.load(s3 + off, 16);
    w1b = v128.xor(w1b, w0b);
    w0b = v128.xor(w0b, mt(l01, h01, w1b));
    w3b = v128.xor(w3b, w2b);
    w2b = v128.xor(w2b, mt(l23, h23, w3b));
    w2b = v128.xor(w2b, w0b);
    w3b = v128.xor(w3b, w1b);
    w0b = v128.xor(w0b, mt(l02, h02, w2b));
    w1b = v128.xor(w1b, mt(l02, h02, w3b));
    v128.store(p + off, w0b, 16);
    v128.store(p1 + off, w1b, 16);
    v128.store(p2 + off, w2b, 16);
    v128.store(p3 + off, w3b, 16);
  }
}

// fft4 writing its four rows elsewhere (the parity shards).
function fft4Out(p: usize, d: usize, o0: usize, o1: usize, o2: usize, o3: usize, len: usize, log01: i32, log23: i32, log02: i32): void {
  const t01 = butterflyTable(log01);
  const t23 = butterflyTable(log23);
  const t02 = butterflyTable(log02);
  const l01 = v128.load(t01);
  const h01 = v128.load(t01, 16);
  const l23 = v128.load(t23);
  const h23 = v128.load(t23, 16);
  const l02 = v128.load(t02);
  const h02 = v128.load(t02, 16);
  const p1 = p + d;
  const p2 = p1 + d;
  const p3 = p2 + d;
  for (let off: usize = 0; off < len; off += 32) {
    let w0 = v128.load(p + off);
    let w1 = v128.load(p1 + off);
    let w2 = v128.load(p2 + off);
    let w3 = v128.load(p3 + off);
    w0 = v128.xor(w0, mt(l02, h02, w2));
    w2 = v128.xor(w2, w0);
    w1 = v128.xor(w1, mt(l02, h02, w3));
    w3 = v128.xor(w3, w1);
    w0 = v128.xor(w0, mt(l01, h01, w1));
    w1 = v128.xor(w1, w0);
    w2 = v128.xor(w2, mt(l23, h23, w3));
    w3 = v128.xor(w3, w2);
    v128.store(o0 + off, w0);
    v128.store(o1 + off, w1);
    v128.store(o2 + off, w2);
    v128.store(o3 + off, w3);
  
    let w0b = v128.load(p + off, 16);
    let w1b = v128.load(p1 + off, 16);
    let w2b = v128.load(p2 + off, 16);
    let w3b = v128.load(p3 + off, 16);
    w0b = v128.xor(w0b, mt(l02, h02, w2b));
    w2b = v128.xor(w2b, w0b);
    w1b = v128.xor(w1b, mt(l02, h02, w3b));
    w3b = v128.xor(w3b, w1b);
    w0b = v128.xor(w0b, mt(l01, h01, w1b));
    w1b = v128.xor(w1b, w0b);
    w2b = v128.xor(w2b, mt(l23, h23, w3b));
    w3b = v128.xor(w3b, w2b);
    v128.store(o0 + off, w0b, 16);
    v128.store(o1 + off, w1b, 16);
    v128.store(o2 + off, w2b, 16);
    v128.store(o3 + off, w3b, 16);
  }
}

// fft2 writing its two rows elsewhere (the parity shards).
function fft2Out(x: usize, y: usize, ox: usize, oy: usize, len: usize, log: i32): void {
  const t = butterflyTable(log);
  const tl = v128.load(t);
  const th = v128.load(t, 16);
  const mask = v128.load(NIBBLE_MASK);
  for (let off: usize = 0; off < len; off += 16) {
    const yv = v128.load(y + off);
    const lo = v128.and(yv, mask);
    const hi = v128.and(i16x8.shr_u(yv, 4), mask);
    const xv = v128.xor(v128.load(x + off), v128.xor(v128.relaxed_swizzle(tl, lo), v128.relaxed_swizzle(th, hi)));
    v128.store(ox + off, xv);
    v128.store(oy + off, v128.xor(yv, xv));
  }
}

@inline
function skew(i: i32): i32 {
  return <i32>load<u8>(LEO_SKEW + <usize>i);
}

// Inverse FFT of `size` rows (stride bytes apart) at points offset.., rows ≥ trunc being zero.
// Runs the levels from distance `startDist` (1 for all) up to, not including, `stopDist` (0 for all).
// `present` (0 for none) points at 257 u16 prefix counts of the rows that hold data: a group
// with none holds zeros and is skipped.
function ifft(work: usize, stride: usize, size: i32, offset: i32, trunc: i32, len: usize, startDist: i32, stopDist: i32, present: usize): void {
  let dist = startDist;
  for (; dist * 4 <= size && dist != stopDist; dist *= 4) {
    for (let r = 0; r < trunc; r += dist * 4) {
      if (present != 0 && load<u16>(present + (<usize>(r + dist * 4) << 1)) == load<u16>(present + (<usize>r << 1))) continue;
      const iend = r + dist;
      const log01 = skew(offset + iend - 1);
      const log02 = skew(offset + iend + dist - 1);
      const log23 = skew(offset + iend + dist * 2 - 1);
      if (log01 == 255 && log02 == 255) {
        for (let i = r; i < iend; i++) ifft4First(work + <usize>i * stride, <usize>dist * stride, len, log23);
      } else {
        for (let i = r; i < iend; i++) ifft4(work + <usize>i * stride, <usize>dist * stride, len, log01, log23, log02);
      }
    }
  }
  if (dist < size && dist != stopDist) {
    const log = skew(offset + dist - 1);
    for (let i = 0; i < dist; i++) ifft2(work + <usize>i * stride, work + <usize>(i + dist) * stride, len, log);
  }
}

// Forward FFT of `size` rows at points 0..size-1; rows ≥ trunc of the output are not needed.
// Runs the levels spanning `startSpan` rows (size for all) down to, not including, `stopSpan` (0).
// `needed` (0 for all) points at 257 u16 prefix counts of the output rows wanted: a group with
// none is skipped.
function fft(work: usize, stride: usize, size: i32, trunc: i32, len: usize, startSpan: i32, stopSpan: i32, needed: usize): void {
  let dist4 = startSpan;
  let dist = startSpan >> 2;
  for (; dist != 0 && dist4 != stopSpan; dist4 = dist, dist >>= 2) {
    for (let r = 0; r < trunc; r += dist4) {
      if (needed != 0 && load<u16>(needed + (<usize>(r + dist4) << 1)) == load<u16>(needed + (<usize>r << 1))) continue;
      const iend = r + dist;
      const log01 = skew(iend - 1);
      const log02 = skew(iend + dist - 1);
      const log23 = skew(iend + dist * 2 - 1);
      if (log01 == 255 && log02 == 255) {
        for (let i = r; i < iend; i++) fft4First(work + <usize>i * stride, <usize>dist * stride, len, log23);
      } else {
        for (let i = r; i < iend; i++) fft4(work + <usize>i * stride, <usize>dist * stride, len, log01, log23, log02);
      }
    }
  }
  if (dist4 == 2 && stopSpan != 2) {
    for (let r = 0; r < trunc; r += 2) {
      if (needed != 0 && load<u16>(needed + (<usize>(r + 2) << 1)) == load<u16>(needed + (<usize>r << 1))) continue;
      fft2(work + <usize>r * stride, work + <usize>(r + 1) * stride, len, skew(r));
    }
  }
}

// dst[0..w) = src[0..w) · exp(log), then zeros up to pad.
function mulRowIn(dst: usize, src: usize, w: usize, pad: usize, log: i32): void {
  const t = leoTable(log);
  const tl = v128.load(t);
  const th = v128.load(t, 16);
  const vecEnd = w & ~(<usize>15);
  for (let off: usize = 0; off < vecEnd; off += 16) v128.store(dst + off, mt(tl, th, v128.load(src + off)));
  for (let off = vecEnd; off < w; off++) store<u8>(dst + off, <u8>muls(t, <u32>load<u8>(src + off)));
  for (let off = w; off < pad; off++) store<u8>(dst + off, 0);
}

// dst[0..w) = src[0..w) · exp(log)
function mulRowOut(dst: usize, src: usize, w: usize, log: i32): void {
  const t = leoTable(log);
  const tl = v128.load(t);
  const th = v128.load(t, 16);
  const vecEnd = w & ~(<usize>15);
  for (let off: usize = 0; off < vecEnd; off += 16) v128.store(dst + off, mt(tl, th, v128.load(src + off)));
  for (let off = vecEnd; off < w; off++) store<u8>(dst + off, <u8>muls(t, <u32>load<u8>(src + off)));
}

// Short row copies and fills in SIMD: memory.copy and memory.fill cost a runtime call each.
function copyRow(dst: usize, src: usize, w: usize): void {
  const vecEnd = w & ~(<usize>15);
  for (let off: usize = 0; off < vecEnd; off += 16) v128.store(dst + off, v128.load(src + off));
  for (let off = vecEnd; off < w; off++) store<u8>(dst + off, load<u8>(src + off));
}

function zeroRow(dst: usize, len: usize): void {
  const z = i8x16.splat(0);
  for (let off: usize = 0; off < len; off += 16) v128.store(dst + off, z);
}

function copyIn(dst: usize, src: usize, w: usize, pad: usize): void {
  const vecEnd = w & ~(<usize>15);
  for (let off: usize = 0; off < vecEnd; off += 16) v128.store(dst + off, v128.load(src + off));
  for (let off = vecEnd; off < w; off++) store<u8>(dst + off, load<u8>(src + off));
  for (let off = w; off < pad; off++) store<u8>(dst + off, 0);
}

/**
 * Leopard encoding of k data shards into `parityCount` parity shards of `len` bytes, `chunk`
 * columns at a time through `work` (2·m rows of `chunk` bytes, m = parity rounded up to a power
 * of two): each m-sized group of data shards is copied in, inverse-transformed at its own offset
 * and summed; the sum is transformed at the parity points and copied out.
 */
export function leoEncode(data: usize, k: i32, parity: usize, parityCount: i32, m: i32, len: usize, work: usize, chunk: usize): void {
  const acc = work;
  const tmp = work + <usize>m * chunk;
  const quarter = m >> 2;
  // m = 4^j with all data in the lower half: the last IFFT level and first FFT level fuse.
  const powerOf4 = (m & 0x55555555) != 0;
  const fused = m >= 4 && powerOf4 && k <= m >> 1;
  const zeroEnd = fused ? m >> 1 : m;
  // The last FFT level: 4 rows at distance 1 (m = 4^j) or pairs (m = 2·4^j).
  const lastSpan = powerOf4 ? 4 : 2;
  for (let c0: usize = 0; c0 < len; c0 += chunk) {
    const w = min(chunk, len - c0);
    const pad = (w + 31) & ~(<usize>31);
    // Whole chunks read the data and write the parity in place; a ragged last chunk is copied.
    const direct = w == pad && m >= 4;
    for (let first = 0; first < k; first += m) {
      const rows = min(m, k - first);
      const dst = first == 0 ? acc : tmp;
      const offset = m + first;
      for (let i = rows; i < zeroEnd; i++) zeroRow(dst + <usize>i * chunk, pad);
      if (direct) {
        for (let r = 0; r < rows; r += 4) {
          const s0 = load<usize>(data + (<usize>(first + r) << 2)) + c0;
          const s1 = r + 1 < rows ? load<usize>(data + (<usize>(first + r + 1) << 2)) + c0 : dst + <usize>(r + 1) * chunk;
          const s2 = r + 2 < rows ? load<usize>(data + (<usize>(first + r + 2) << 2)) + c0 : dst + <usize>(r + 2) * chunk;
          const s3 = r + 3 < rows ? load<usize>(data + (<usize>(first + r + 3) << 2)) + c0 : dst + <usize>(r + 3) * chunk;
          ifft4In(s0, s1, s2, s3, dst + <usize>r * chunk, chunk, pad, skew(offset + r), skew(offset + r + 2), skew(offset + r + 1));
        }
      } else {
        for (let i = 0; i < rows; i++) copyIn(dst + <usize>i * chunk, load<usize>(data + (<usize>(first + i) << 2)) + c0, w, pad);
      }
      ifft(dst, chunk, m, offset, rows, pad, direct ? 4 : 1, fused ? quarter : 0, 0);
      if (first != 0) for (let i = 0; i < m; i++) xorRow(acc + <usize>i * chunk, tmp + <usize>i * chunk, pad);
    }
    let span = m;
    if (fused) {
      const log01 = skew(m + quarter - 1);
      const log02 = skew(m + quarter * 2 - 1);
      const log23 = skew(quarter * 3 - 1);
      for (let i = 0; i < quarter; i++) ifftFftMiddle(acc + <usize>i * chunk, <usize>quarter * chunk, pad, log01, log02, log23);
      span = quarter;
    }
    if (!direct) {
      fft(acc, chunk, m, parityCount, pad, span, 0, 0);
      for (let i = 0; i < parityCount; i++) copyRow(load<usize>(parity + (<usize>i << 2)) + c0, acc + <usize>i * chunk, w);
      continue;
    }
    fft(acc, chunk, m, parityCount, pad, span, lastSpan, 0);
    for (let r = 0; r < parityCount; r += lastSpan) {
      const o0 = load<usize>(parity + (<usize>r << 2)) + c0;
      const o1 = r + 1 < parityCount ? load<usize>(parity + (<usize>(r + 1) << 2)) + c0 : acc + <usize>(r + 1) * chunk;
      if (lastSpan == 2) {
        fft2Out(acc + <usize>r * chunk, acc + <usize>(r + 1) * chunk, o0, o1, pad, skew(r));
        continue;
      }
      const o2 = r + 2 < parityCount ? load<usize>(parity + (<usize>(r + 2) << 2)) + c0 : acc + <usize>(r + 2) * chunk;
      const o3 = r + 3 < parityCount ? load<usize>(parity + (<usize>(r + 3) << 2)) + c0 : acc + <usize>(r + 3) * chunk;
      fft4Out(acc + <usize>r * chunk, chunk, o0, o1, o2, o3, pad, skew(r), skew(r + 2), skew(r + 1));
    }
  }
}

/**
 * Leopard decoding: `shards` lists n = k + parityCount addresses (data first, 0 = missing),
 * `loc` the 256 error-locator logs by position, then 257 u16 prefix counts of the rows present and
 * 257 of the rows wanted, `out` the addresses to write each missing shard
 * to (same order, 0 = present). `work` holds `size` rows of `chunk` bytes, size = next power of
 * two ≥ m + k.
 */
export function leoDecode(shards: usize, k: i32, parityCount: i32, m: i32, size: i32, loc: usize, out: usize, len: usize, work: usize, chunk: usize): void {
  const n = k + parityCount;
  for (let c0: usize = 0; c0 < len; c0 += chunk) {
    const w = min(chunk, len - c0);
    const pad = (w + 31) & ~(<usize>31);
    for (let p = 0; p < size; p++) {
      const row = work + <usize>p * chunk;
      const index = p < m ? (p < parityCount ? k + p : -1) : p - m < k ? p - m : -1;
      const src = index < 0 ? 0 : load<usize>(shards + (<usize>index << 2));
      if (src == 0) zeroRow(row, pad);
      else mulRowIn(row, src + c0, w, pad, <i32>load<u8>(loc + <usize>p));
    }
    ifft(work, chunk, size, 0, m + k, pad, 1, 0, loc + 256);
    for (let i = 1; i < size; i++) {
      const width = ((i ^ (i - 1)) + 1) >> 1;
      for (let j = 0; j < width; j++) xorRow(work + <usize>(i - width + j) * chunk, work + <usize>(i + j) * chunk, pad);
    }
    fft(work, chunk, size, m + k, pad, size, 0, loc + 256 + 514);
    for (let index = 0; index < n; index++) {
      const dst = load<usize>(out + (<usize>index << 2));
      if (dst == 0) continue;
      const p = index < k ? m + index : index - k;
      mulRowOut(dst + c0, work + <usize>p * chunk, w, 255 - <i32>load<u8>(loc + <usize>p));
    }
  }
}

/** a[0..len) ^= b[0..len) for any len (parity checks and XOR-only shapes). */
export function xorInto(a: usize, b: usize, len: usize): void {
  const vecEnd = len & ~(<usize>15);
  xorRow(a, b, vecEnd);
  for (let off = vecEnd; off < len; off++) store<u8>(a + off, load<u8>(a + off) ^ load<u8>(b + off));
}
