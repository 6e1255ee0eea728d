/**
 * Finding corrupted shards with per-shard digests: SHA-256 of every shard is kept beside the
 * shards at encoding time (it is what storage nodes are audited against anyway); a shard whose
 * digest differs is corrupted, and is rebuilt from the others like a lost one. See
 * docs/erasure.md for why this and not Berlekamp–Welch.
 */
import { createHash } from 'node:crypto';
import type { ErasureCoder } from './erasureCoder.ts';
import { erasureError } from './errors.ts';

/**
 * SHA-256 of each shard.
 *
 * @example const digests = digestShards([...data, ...parity]);
 */
export function digestShards(shards: readonly Uint8Array[]): Uint8Array[] {
  return shards.map((s) => new Uint8Array(createHash('sha256').update(s).digest()));
}

/**
 * Indices of the shards present whose digest differs from the recorded one (`undefined` shards
 * are missing, not corrupted).
 *
 * @example findCorruptedShards(received, digests) // [3, 17]
 */
export function findCorruptedShards(
  shards: readonly (Uint8Array | undefined)[],
  digests: readonly Uint8Array[],
): number[] {
  if (digests.length !== shards.length) {
    throw erasureError('ERASURE_WRONG_SHARD_COUNT', 'Pass one digest per shard.', {
      shards: shards.length,
      digests: digests.length,
    });
  }
  const bad: number[] = [];
  shards.forEach((s, i) => {
    if (!s) return;
    const d = createHash('sha256').update(s).digest();
    if (Buffer.compare(d, digests[i]!) !== 0) bad.push(i);
  });
  return bad;
}

/** What {@link repairShards} found and did. */
export type RepairShardsReturnType = { shards: Uint8Array[]; corrupted: number[]; missing: number[] };

/**
 * Drops the corrupted shards (by digest) and rebuilds them and the missing ones from the rest;
 * throws ERASURE_TOO_FEW_SHARDS when fewer than k good shards remain.
 *
 * @example const { shards, corrupted } = repairShards(coder, received, digests);
 */
export function repairShards(
  coder: ErasureCoder,
  shards: readonly (Uint8Array | undefined)[],
  digests: readonly Uint8Array[],
): RepairShardsReturnType {
  const corrupted = findCorruptedShards(shards, digests);
  const missing = shards.flatMap((s, i) => (s ? [] : [i]));
  const good = shards.map((s, i) => (corrupted.includes(i) ? undefined : s));
  return { shards: coder.reconstruct(good), corrupted, missing };
}
