import { DepinError } from '../../core/errors.ts';

/** Every stable code the client-side storage data path throws with. */
export type StorageClientErrorCode =
  /** An argument has the wrong shape (bad hex, wrong key length, index out of range…). */
  | 'STORAGE_BAD_INPUT'
  /** Authenticated decryption failed: wrong key or secret, or tampered bytes. */
  | 'STORAGE_DECRYPT_FAILED'
  /** Fewer than k pieces of a segment are present and match their roots. */
  | 'STORAGE_TOO_FEW_PIECES'
  /** A manifest decrypted but is not a valid manifest. */
  | 'STORAGE_BAD_MANIFEST'
  /** A piece too large to commit in one WebAssembly memory. */
  | 'STORAGE_PIECE_TOO_LARGE'
  /** A segment worker thread stopped (crashed or closed) before answering. */
  | 'STORAGE_WORKER_FAILED';

/** A {@link DepinError} thrown by the client-side storage code. */
export type StorageClientError = DepinError<StorageClientErrorCode>;

/**
 * Builds a storage client error with a message that says what to do next.
 *
 * @example throw storageError('STORAGE_BAD_INPUT', 'Pass the file id as 0x + 64 hex digits.', { fileId });
 */
export function storageError(
  code: StorageClientErrorCode,
  shortMessage: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): StorageClientError {
  return new DepinError(code, shortMessage, {
    ...(details ? { details } : {}),
    ...(cause === undefined ? {} : { cause }),
  });
}
