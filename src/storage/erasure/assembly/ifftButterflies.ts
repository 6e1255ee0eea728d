import { butterflyTable, leoTable, mt, NIBBLE_MASK } from './products';

// Leopard inverse-FFT butterflies over rows of a work area (`len` is a multiple of 32).

export function xorRow(x: usize, y: usize, len: usize): void {
  for (let off: usize = 0; off < len; off += 16) v128.store(x + off, v128.xor(v128.load(x + off), v128.load(y + off)));
}

// y ^= x; x ^= y · exp(log)
export function ifft2(x: usize, y: usize, len: usize, log: i32): void {
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

// Two IFFT layers at once on rows p, p+d, p+2d, p+3d.
export function ifft4(p: usize, d: usize, len: usize, log01: i32, log23: i32, log02: i32): void {
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

// Inverse of fft4First: the first IFFT group of a level at offset 0 (decoder).
export function ifft4First(p: usize, d: usize, len: usize, log23: i32): void {
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
export function ifftFftMiddle(p: usize, d: usize, len: usize, log01: i32, log02: i32, log23: i32): void {
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
export function ifft4In(s0: usize, s1: usize, s2: usize, s3: usize, p: usize, d: usize, len: usize, log01: i32, log23: i32, log02: i32): void {
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
