import { muls, mulv, NIBBLE_MASK } from './products';

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
