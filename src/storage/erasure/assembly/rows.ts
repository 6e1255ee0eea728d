import { leoTable, mt, muls } from './products';

// Row copies, fills and scalings in SIMD: memory.copy and memory.fill cost a runtime call each.

// dst[0..w) = src[0..w) · exp(log), then zeros up to pad.
export function mulRowIn(dst: usize, src: usize, w: usize, pad: usize, log: i32): void {
  const t = leoTable(log);
  const tl = v128.load(t);
  const th = v128.load(t, 16);
  const vecEnd = w & ~(<usize>15);
  for (let off: usize = 0; off < vecEnd; off += 16) v128.store(dst + off, mt(tl, th, v128.load(src + off)));
  for (let off = vecEnd; off < w; off++) store<u8>(dst + off, <u8>muls(t, <u32>load<u8>(src + off)));
  for (let off = w; off < pad; off++) store<u8>(dst + off, 0);
}

// dst[0..w) = src[0..w) · exp(log)
export function mulRowOut(dst: usize, src: usize, w: usize, log: i32): void {
  const t = leoTable(log);
  const tl = v128.load(t);
  const th = v128.load(t, 16);
  const vecEnd = w & ~(<usize>15);
  for (let off: usize = 0; off < vecEnd; off += 16) v128.store(dst + off, mt(tl, th, v128.load(src + off)));
  for (let off = vecEnd; off < w; off++) store<u8>(dst + off, <u8>muls(t, <u32>load<u8>(src + off)));
}

export function copyRow(dst: usize, src: usize, w: usize): void {
  const vecEnd = w & ~(<usize>15);
  for (let off: usize = 0; off < vecEnd; off += 16) v128.store(dst + off, v128.load(src + off));
  for (let off = vecEnd; off < w; off++) store<u8>(dst + off, load<u8>(src + off));
}

export function zeroRow(dst: usize, len: usize): void {
  const z = i8x16.splat(0);
  for (let off: usize = 0; off < len; off += 16) v128.store(dst + off, z);
}

export function copyIn(dst: usize, src: usize, w: usize, pad: usize): void {
  const vecEnd = w & ~(<usize>15);
  for (let off: usize = 0; off < vecEnd; off += 16) v128.store(dst + off, v128.load(src + off));
  for (let off = vecEnd; off < w; off++) store<u8>(dst + off, load<u8>(src + off));
  for (let off = w; off < pad; off++) store<u8>(dst + off, 0);
}
