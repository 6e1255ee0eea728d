/**
 * Leopard-RS over GF(2^8) in plain TypeScript, one byte at a time, written for clarity: the
 * oracle the WebAssembly path is checked against. Positions: parity i at i (0 ≤ i < m'), data j
 * at m' + j, where m' is the parity count rounded up to a power of two.
 */
import { LEO_FFT_SKEW, LEO_MODULUS, leoErrorLocator, leoMulLog } from './leopardField.ts';
import { nextPow2 } from './shape.ts';

function mulTable(log: number): Uint8Array {
  const t = new Uint8Array(256);
  for (let x = 0; x < 256; x++) t[x] = leoMulLog(x, log);
  return t;
}

function ifftButterfly(x: Uint8Array, y: Uint8Array, log: number): void {
  for (let b = 0; b < x.length; b++) y[b]! ^= x[b]!;
  if (log === LEO_MODULUS) return;
  const t = mulTable(log);
  for (let b = 0; b < x.length; b++) x[b]! ^= t[y[b]!]!;
}

function fftButterfly(x: Uint8Array, y: Uint8Array, log: number): void {
  if (log !== LEO_MODULUS) {
    const t = mulTable(log);
    for (let b = 0; b < x.length; b++) x[b]! ^= t[y[b]!]!;
  }
  for (let b = 0; b < x.length; b++) y[b]! ^= x[b]!;
}

/**
 * Inverse FFT over `size` rows evaluated at points offset..offset+size−1; rows ≥ trunc are zero.
 *
 * @example leoIfft(rows, 64, 64, 29) // the data chunk of a 29+51 encoding
 */
export function leoIfft(work: Uint8Array[], size: number, offset: number, trunc: number): void {
  for (let dist = 1; dist < size; dist <<= 1) {
    for (let r = 0; r < trunc; r += dist << 1) {
      const log = LEO_FFT_SKEW[offset + r + dist - 1]!;
      for (let i = r; i < r + dist; i++) ifftButterfly(work[i]!, work[i + dist]!, log);
    }
  }
}

/**
 * Forward FFT over `size` rows at points 0..size−1; only rows < trunc are needed.
 *
 * @example leoFft(rows, 64, 51) // the 51 parity rows of a 29+51 encoding
 */
export function leoFft(work: Uint8Array[], size: number, trunc: number): void {
  for (let dist = size >> 1; dist > 0; dist >>= 1) {
    for (let r = 0; r < trunc; r += dist << 1) {
      const log = LEO_FFT_SKEW[r + dist - 1]!;
      for (let i = r; i < r + dist; i++) fftButterfly(work[i]!, work[i + dist]!, log);
    }
  }
}

/**
 * Parity of k data shards (Leopard encoding): IFFT of each m'-sized chunk of data at its own
 * offset, summed, then an FFT evaluated at the parity points.
 *
 * @example leopardEncodeReference([a, b, c], 2)
 */
export function leopardEncodeReference(data: readonly Uint8Array[], parityShards: number): Uint8Array[] {
  const k = data.length;
  const len = data[0]!.length;
  const m = nextPow2(parityShards);
  const acc = Array.from({ length: m }, () => new Uint8Array(len));
  for (let first = 0; first < k; first += m) {
    const work = Array.from({ length: m }, (_, i) => Uint8Array.from(data[first + i] ?? new Uint8Array(len)));
    leoIfft(work, m, m + first, Math.min(m, k - first));
    for (let i = 0; i < m; i++) for (let b = 0; b < len; b++) acc[i]![b]! ^= work[i]![b]!;
  }
  leoFft(acc, m, parityShards);
  return acc.slice(0, parityShards);
}

/**
 * Rebuilds every missing shard (data first, then parity; `undefined` = missing) from the
 * survivors with Leopard's decoder: error locator by Walsh transform, IFFT, formal derivative,
 * FFT. Returns all k + m shards.
 *
 * @example leopardReconstructReference([undefined, b, c, p0, p1], 3)
 */
export function leopardReconstructReference(
  shards: readonly (Uint8Array | undefined)[],
  dataShards: number,
): Uint8Array[] {
  const k = dataShards;
  const parityShards = shards.length - k;
  const m = nextPow2(parityShards);
  const n = nextPow2(m + k);
  const len = shards.find((s) => s)!.length;
  const position = (index: number) => (index < k ? m + index : index - k);
  const erased = new Uint8Array(256);
  for (let i = parityShards; i < m; i++) erased[i] = 1;
  shards.forEach((s, index) => {
    if (!s) erased[position(index)] = 1;
  });
  const loc = leoErrorLocator(erased);
  const work = Array.from({ length: n }, () => new Uint8Array(len));
  shards.forEach((s, index) => {
    if (!s) return;
    const p = position(index);
    const t = mulTable(loc[p]!);
    for (let b = 0; b < len; b++) work[p]![b] = t[s[b]!]!;
  });
  leoIfft(work, n, 0, m + k);
  for (let i = 1; i < n; i++) {
    const width = ((i ^ (i - 1)) + 1) >> 1;
    for (let j = 0; j < width; j++) {
      const dst = work[i - width + j]!;
      const src = work[i + j]!;
      for (let b = 0; b < len; b++) dst[b]! ^= src[b]!;
    }
  }
  leoFft(work, n, m + k);
  return shards.map((s, index) => {
    if (s) return s;
    const p = position(index);
    const t = mulTable(LEO_MODULUS - loc[p]!);
    const out = new Uint8Array(len);
    for (let b = 0; b < len; b++) out[b] = t[work[p]![b]!]!;
    return out;
  });
}
