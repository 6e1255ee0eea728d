import { DepinError } from '../../core/errors.ts';

/** Every stable code the erasure coder throws with. */
export type ErasureErrorCode =
  | 'ERASURE_BAD_SHAPE'
  | 'ERASURE_TOO_FEW_SHARDS'
  | 'ERASURE_SHARD_SIZE_MISMATCH'
  | 'ERASURE_WRONG_SHARD_COUNT'
  | 'ERASURE_BAD_ALGORITHM'
  | 'ERASURE_BAD_ARGUMENT'
  | 'ERASURE_NOT_BUILT'
  | 'ERASURE_WORKER_FAILED';

/** A {@link DepinError} thrown by the erasure coder. */
export type ErasureError = DepinError<ErasureErrorCode>;

/**
 * Builds an erasure error with a message that says what to do next.
 *
 * @example throw erasureError('ERASURE_BAD_SHAPE', 'Use 1 to 255 data shards.', { dataShards: 0 });
 */
export function erasureError(
  code: ErasureErrorCode,
  shortMessage: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): ErasureError {
  return new DepinError(code, shortMessage, {
    ...(details ? { details } : {}),
    ...(cause === undefined ? {} : { cause }),
  });
}
