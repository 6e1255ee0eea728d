import { butterflyTable, leoTable, mt, NIBBLE_MASK } from './products';
import { xorRow } from './ifftButterflies';

// Leopard FFT butterflies over rows of a work area (`len` is a multiple of 32).

// x ^= y · exp(log); y ^= x
export function fft2(x: usize, y: usize, len: usize, log: i32): void {
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

// Two FFT layers at once on rows p, p+d, p+2d, p+3d.
export function fft4(p: usize, d: usize, len: usize, log01: i32, log23: i32, log02: i32): void {
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
export function fft4First(p: usize, d: usize, len: usize, log23: i32): void {
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

// fft4 writing its four rows elsewhere (the parity shards).
export function fft4Out(p: usize, d: usize, o0: usize, o1: usize, o2: usize, o3: usize, len: usize, log01: i32, log23: i32, log02: i32): void {
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
export function fft2Out(x: usize, y: usize, ox: usize, oy: usize, len: usize, log: i32): void {
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
