import { erasureError } from './errors.ts';

/** Most shards (data + parity) one stripe may have: GF(2^8) has 256 distinct evaluation points. */
export const ERASURE_MAX_SHARDS = 256;

/** The two codes: a Cauchy matrix for few shards, Leopard's additive FFT for many. */
export type ErasureAlgorithm = 'cauchy' | 'leopard';

/** How many data and parity shards a stripe has. */
export type ErasureShape = { dataShards: number; parityShards: number };

/**
 * Throws ERASURE_BAD_SHAPE unless k ≥ 1, m ≥ 1 and k + m ≤ 256 (integers).
 *
 * @example validateShape({ dataShards: 29, parityShards: 51 });
 */
export function validateShape(shape: ErasureShape): void {
  const { dataShards: k, parityShards: m } = shape;
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 1 || k + m > ERASURE_MAX_SHARDS) {
    throw erasureError(
      'ERASURE_BAD_SHAPE',
      `Use at least 1 data and 1 parity shard and at most ${ERASURE_MAX_SHARDS} shards in total.`,
      { dataShards: k, parityShards: m },
    );
  }
}

/**
 * Smallest power of two ≥ x (x ≥ 1).
 *
 * @example nextPow2(51) // 64
 */
export function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p <<= 1;
  return p;
}

/**
 * True when Leopard's FFT coder can code this shape: the data must fit beside the parity
 * rounded up to a power of two, k + 2^⌈log2 m⌉ ≤ 256.
 *
 * @example leopardSupports({ dataShards: 200, parityShards: 56 }) // false: 200 + 64 > 256
 */
export function leopardSupports(shape: ErasureShape): boolean {
  return shape.dataShards + nextPow2(shape.parityShards) <= ERASURE_MAX_SHARDS;
}

/**
 * Estimated work per byte column to encode and then rebuild after losing m shards, in units of
 * one multiply-add of a 16-byte vector. Cauchy: k·m each way. Leopard: (m'/2)·log2 m' butterflies
 * per group of m' data shards plus the same again for the parity (m' = m rounded up to 2^j), and a
 * decoder of (n'/2)·log2 n' butterflies each way plus the formal derivative (n' = next 2^j ≥ m' + k),
 * a butterfly costing about 1.3 multiply-adds. The model matches the measured order of the two
 * coders on every shape benchmarked (see docs/erasure.md).
 *
 * @example erasureCost({ dataShards: 29, parityShards: 51 }) // { cauchy: 2958, leopard: 1955.2 }
 */
export function erasureCost(shape: ErasureShape): Record<ErasureAlgorithm, number> {
  const { dataShards: k, parityShards: m } = shape;
  const mPow = nextPow2(m);
  const size = nextPow2(mPow + k);
  const layer = (rows: number) => (rows / 2) * Math.log2(rows);
  const encode = Math.ceil(k / mPow) * layer(mPow) + layer(mPow);
  const decode = 2.5 * layer(size);
  return { cauchy: 2 * k * m, leopard: 1.3 * (encode + decode) };
}

/** From this many shards in total Leopard may be chosen by default. */
export const LEOPARD_MIN_SHARDS = 32;

/**
 * The algorithm a shape is coded with by default; store it beside the shards, because the two
 * codes give different parity for the same data. Deterministic: Leopard from
 * {@link LEOPARD_MIN_SHARDS} shards when the shape fits it and its {@link erasureCost} is at most
 * 25 % above Cauchy's (its encoder, which every upload runs, is much faster; its decoder, which
 * only a loss runs, is slower), Cauchy otherwise. So 10+4 and 24+6 get Cauchy, 20+20, 29+51 and
 * 128+128 Leopard, and few data shards beside many parity shards (6+30, 12+20) stay on Cauchy.
 *
 * @example chooseErasureAlgorithm({ dataShards: 29, parityShards: 51 }) // 'leopard'
 */
export function chooseErasureAlgorithm(shape: ErasureShape): ErasureAlgorithm {
  validateShape(shape);
  if (shape.dataShards + shape.parityShards < LEOPARD_MIN_SHARDS || !leopardSupports(shape)) return 'cauchy';
  const cost = erasureCost(shape);
  return cost.leopard <= 1.25 * cost.cauchy ? 'leopard' : 'cauchy';
}

/**
 * Checks an explicitly requested algorithm against the shape (or picks the default).
 *
 * @example resolveAlgorithm({ dataShards: 4, parityShards: 2 }, 'leopard') // 'leopard'
 */
export function resolveAlgorithm(shape: ErasureShape, algorithm?: ErasureAlgorithm): ErasureAlgorithm {
  validateShape(shape);
  if (algorithm === undefined) return chooseErasureAlgorithm(shape);
  if (algorithm === 'cauchy') return algorithm;
  if (algorithm === 'leopard' && leopardSupports(shape)) return algorithm;
  throw erasureError(
    'ERASURE_BAD_ALGORITHM',
    algorithm === 'leopard'
      ? 'Leopard needs data shards + parity rounded up to a power of two ≤ 256; use cauchy for this shape.'
      : `Unknown erasure algorithm; use 'cauchy' or 'leopard'.`,
    { ...shape, algorithm },
  );
}
