import { erasureError } from './errors.ts';

/**
 * Checks that `shards` is a list of `count` Uint8Arrays (or `undefined` where `allowMissing`) of
 * one length, and returns that length.
 *
 * @example const len = validateShards(data, 10, 'data shards');
 */
export function validateShards(
  shards: readonly (Uint8Array | undefined)[],
  count: number,
  what: string,
  allowMissing = false,
): number {
  if (!Array.isArray(shards) || shards.length !== count) {
    throw erasureError('ERASURE_WRONG_SHARD_COUNT', `Pass exactly ${count} ${what}.`, {
      expected: count,
      got: Array.isArray(shards) ? shards.length : typeof shards,
    });
  }
  let len = -1;
  shards.forEach((s, index) => {
    if (s === undefined || s === null) {
      if (allowMissing) return;
      throw erasureError(
        'ERASURE_BAD_ARGUMENT',
        `Pass every one of the ${what}; index ${index} is missing.`,
        {
          index,
        },
      );
    }
    if (!(s instanceof Uint8Array)) {
      throw erasureError('ERASURE_BAD_ARGUMENT', `Pass the ${what} as Uint8Arrays (Buffers are fine).`, {
        index,
      });
    }
    if (len === -1) len = s.length;
    else if (s.length !== len) {
      throw erasureError('ERASURE_SHARD_SIZE_MISMATCH', `All ${what} must have the same length.`, {
        index,
        expected: len,
        got: s.length,
      });
    }
  });
  return len;
}
