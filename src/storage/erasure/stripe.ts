/**
 * Stripes: the code works on every byte column on its own, so the same column range of all
 * k + m shards is a complete codeword. An audit fetches a few hundred bytes of each shard and
 * checks or rebuilds just that stripe, without the rest of the file.
 */
import type { ErasureCoder } from './erasureCoder.ts';
import { erasureError } from './errors.ts';

/**
 * Views (no copy) of columns [offset, offset + length) of each shard.
 *
 * @example const stripe = sliceStripe(shards, 4096, 256);
 */
export function sliceStripe<T extends Uint8Array | undefined>(
  shards: readonly T[],
  offset: number,
  length: number,
): T[] {
  const size = shards.find((s) => s)?.length ?? 0;
  if (
    !Number.isInteger(offset) ||
    !Number.isInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw erasureError(
      'ERASURE_BAD_ARGUMENT',
      `Pick a stripe inside the shards (0 ≤ offset, offset + length ≤ ${size}).`,
      {
        offset,
        length,
        shardSize: size,
      },
    );
  }
  return shards.map((s) => (s ? s.subarray(offset, offset + length) : s)) as T[];
}

/**
 * Encodes one stripe: the parity columns of the given data columns.
 *
 * @example const parity = encodeStripe(coder, data, 0, 256);
 */
export function encodeStripe(
  coder: ErasureCoder,
  data: readonly Uint8Array[],
  offset: number,
  length: number,
): Uint8Array[] {
  return coder.encode(sliceStripe(data, offset, length));
}

/**
 * True when one stripe of all k + m shards is a codeword (its parity matches its data).
 *
 * @example verifyStripe(coder, fetchedShards, 0, fetchedShards[0].length)
 */
export function verifyStripe(
  coder: ErasureCoder,
  shards: readonly Uint8Array[],
  offset: number,
  length: number,
): boolean {
  return coder.verify(sliceStripe(shards, offset, length));
}

/**
 * Rebuilds one stripe of the missing (`undefined`) shards; returns the stripe of all shards.
 *
 * @example const stripe = reconstructStripe(coder, [undefined, ...others], 512, 64);
 */
export function reconstructStripe(
  coder: ErasureCoder,
  shards: readonly (Uint8Array | undefined)[],
  offset: number,
  length: number,
): Uint8Array[] {
  return coder.reconstruct(sliceStripe(shards, offset, length));
}
