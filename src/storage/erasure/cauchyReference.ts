/**
 * The Cauchy matrix code in plain TypeScript, one byte at a time: the oracle the WebAssembly
 * path is checked against.
 */
import { cauchyParityMatrix, cauchyRecoveryMatrix } from './cauchyMatrix.ts';
import { gfProductRow } from './gf256.ts';

function applyMatrix(matrix: Uint8Array, rows: number, inputs: readonly Uint8Array[]): Uint8Array[] {
  const k = inputs.length;
  const len = inputs[0]!.length;
  return Array.from({ length: rows }, (_, r) => {
    const out = new Uint8Array(len);
    for (let j = 0; j < k; j++) {
      const p = gfProductRow(matrix[r * k + j]!);
      const src = inputs[j]!;
      for (let b = 0; b < len; b++) out[b]! ^= p[src[b]!]!;
    }
    return out;
  });
}

/**
 * Parity of k data shards with the Cauchy generator.
 *
 * @example cauchyEncodeReference([a, b, c], 2)
 */
export function cauchyEncodeReference(data: readonly Uint8Array[], parityShards: number): Uint8Array[] {
  return applyMatrix(cauchyParityMatrix(data.length, parityShards), parityShards, data);
}

/**
 * Rebuilds every missing shard (`undefined`) from the first k survivors; returns all shards.
 *
 * @example cauchyReconstructReference([undefined, b, c, p0, p1], 3)
 */
export function cauchyReconstructReference(
  shards: readonly (Uint8Array | undefined)[],
  dataShards: number,
): Uint8Array[] {
  const k = dataShards;
  const parity = cauchyParityMatrix(k, shards.length - k);
  const sources: number[] = [];
  const targets: number[] = [];
  shards.forEach((s, i) => {
    if (!s) targets.push(i);
    else if (sources.length < k) sources.push(i);
  });
  const matrix = cauchyRecoveryMatrix(k, parity, sources, targets);
  const rebuilt = applyMatrix(
    matrix,
    targets.length,
    sources.map((i) => shards[i]!),
  );
  return shards.map((s, i) => s ?? rebuilt[targets.indexOf(i)]!);
}
