import { randomBytes } from 'node:crypto';
import { type Hex, hexToBytes, isHex } from 'viem';
import { storageError } from './errors.ts';

/**
 * A fresh file id: 32 random bytes as 0x-hex, chosen by the client at upload (docs/storage.md §2).
 *
 * @example const fileId = createFileId(); // '0x3f…' (66 characters)
 */
export function createFileId(): Hex {
  return `0x${randomBytes(32).toString('hex')}`;
}

/**
 * The 32 bytes of a file id; throws STORAGE_BAD_INPUT unless it is 0x + 64 hex digits.
 *
 * @example fileIdBytes(createFileId()).length; // 32
 */
export function fileIdBytes(fileId: Hex): Uint8Array {
  return bytes32(fileId, 'file id');
}

/**
 * The 32 bytes of any 0x + 64-hex-digit value (`what` names it in the error).
 *
 * @example bytes32(pieceRoot, 'piece root');
 */
export function bytes32(value: Hex, what: string): Uint8Array {
  if (typeof value !== 'string' || value.length !== 66 || !isHex(value, { strict: true })) {
    throw storageError('STORAGE_BAD_INPUT', `Pass the ${what} as 0x followed by 64 hex digits.`, {
      [what]: value,
    });
  }
  return hexToBytes(value);
}
