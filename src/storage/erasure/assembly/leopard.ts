import { fft2Out, fft4Out } from './fftButterflies';
import { ifft4In, ifftFftMiddle, xorRow } from './ifftButterflies';
import { copyIn, copyRow, mulRowIn, mulRowOut, zeroRow } from './rows';
import { fft, ifft, skew } from './transforms';

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
  // m = 4^j ≥ 16 with all data in the lower half: the last IFFT level and first FFT level fuse
  // (m = 4 has one level each way, which the in-place first and last levels already cover).
  const powerOf4 = (m & 0x55555555) != 0;
  const fused = m >= 16 && powerOf4 && k <= m >> 1;
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
