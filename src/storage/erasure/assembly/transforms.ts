import { LEO_SKEW } from './products';
import { fft2, fft4, fft4First } from './fftButterflies';
import { ifft2, ifft4, ifft4First } from './ifftButterflies';

// Whole transforms, two layers per pass.

@inline
export function skew(i: i32): i32 {
  return <i32>load<u8>(LEO_SKEW + <usize>i);
}

// Inverse FFT of `size` rows (stride bytes apart) at points offset.., rows ≥ trunc being zero.
// Runs the levels from distance `startDist` (1 for all) up to, not including, `stopDist` (0 for all).
// `present` (0 for none) points at 257 u16 prefix counts of the rows that hold data: a group
// with none holds zeros and is skipped.
export function ifft(work: usize, stride: usize, size: i32, offset: i32, trunc: i32, len: usize, startDist: i32, stopDist: i32, present: usize): void {
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
export function fft(work: usize, stride: usize, size: i32, trunc: i32, len: usize, startSpan: i32, stopSpan: i32, needed: usize): void {
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
