import { erasureError } from './errors.ts';
import { gfInv, gfInvertMatrix, gfMul } from './gf256.ts';

/**
 * The parity rows of the systematic Cauchy generator: parity i, data j ↦ 1 / ((k + i) ⊕ j).
 * Every square submatrix of a Cauchy matrix is invertible, so any k shards recover the rest.
 *
 * @example cauchyParityMatrix(10, 4) // 4×10 row-major
 */
export function cauchyParityMatrix(k: number, m: number): Uint8Array {
  const out = new Uint8Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) out[i * k + j] = gfInv((k + i) ^ j);
  return out;
}

/**
 * The matrix that rebuilds the `targets` (shard indices, data first) from the survivors
 * `sources` (exactly k shard indices): targets × k, row-major, applied to sources in order.
 *
 * @example cauchyRecoveryMatrix(2, parity, [1, 2], [0])
 */
export function cauchyRecoveryMatrix(
  k: number,
  parity: Uint8Array,
  sources: readonly number[],
  targets: readonly number[],
): Uint8Array {
  const generatorRow = (index: number, out: Uint8Array, at: number) => {
    if (index < k) out[at + index] = 1;
    else out.set(parity.subarray((index - k) * k, (index - k + 1) * k), at);
  };
  const a = new Uint8Array(k * k);
  sources.forEach((s, r) => {
    generatorRow(s, a, r * k);
  });
  const inv = gfInvertMatrix(a, k);
  if (!inv)
    throw erasureError('ERASURE_BAD_ARGUMENT', 'Pass k distinct surviving shard indices.', { sources });
  const out = new Uint8Array(targets.length * k);
  const row = new Uint8Array(k);
  targets.forEach((t, r) => {
    row.fill(0);
    generatorRow(t, row, 0);
    for (let c = 0; c < k; c++) {
      let acc = 0;
      for (let j = 0; j < k; j++) {
        const g = row[j]!;
        if (g !== 0) acc ^= gfMul(g, inv[j * k + c]!);
      }
      out[r * k + c] = acc;
    }
  });
  return out;
}
