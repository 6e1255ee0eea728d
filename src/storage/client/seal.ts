/**
 * Sealing a segment (docs/storage.md §3): AES-256-GCM under the segment's own key, nonce = the
 * segment index as a 96-bit big-endian number, AAD = fileId ‖ uint32be(index); the sealed form is
 * ciphertext ‖ 16-byte tag. A deterministic nonce is safe because every segment key is fresh and
 * seals exactly one segment; the AAD stops a segment being replayed at another index or file.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Hex } from 'viem';
import { storageError } from './errors.ts';
import { fileIdBytes } from './fileId.ts';
import { checkIndex, checkKey } from './keys.ts';

/** Bytes sealing adds: the GCM tag. @example sealed.length - SEAL_TAG_BYTES // plaintext size */
export const SEAL_TAG_BYTES = 16;

/** The most plaintext bytes one segment holds (64 MiB). @example Math.ceil(size / MAX_SEGMENT_SIZE) // segments */
export const MAX_SEGMENT_SIZE = 64 * 1024 * 1024;

/** Which segment is sealed, and with which key. */
export type SealContext = { fileId: Hex; index: number; segmentKey: Uint8Array };

/** Cipher calls take slices of this size, so no second whole-segment buffer is ever made. */
const BLOCK = 1 << 20;

/**
 * The sealed size of a segment of `size` plaintext bytes.
 *
 * @example sealedSizeOf(0); // 16
 */
export function sealedSizeOf(size: number): number {
  return size + SEAL_TAG_BYTES;
}

/**
 * Seals a segment into `into` (at least {@link sealedSizeOf}(plaintext.length) bytes, e.g. the erasure
 * shards' buffer) or a new buffer, and returns the sealed bytes (a view of `into` when given). The
 * plaintext may itself lie at the start of `into`: it is then sealed in place (GCM keeps every byte
 * where it is, and each block is read before it is overwritten).
 *
 * @example
 * const sealed = sealSegment(plaintext, { fileId, index: 0, segmentKey: createSegmentKey() });
 */
export function sealSegment(plaintext: Uint8Array, context: SealContext, into?: Uint8Array): Uint8Array {
  if (!(plaintext instanceof Uint8Array) || plaintext.length > MAX_SEGMENT_SIZE) {
    throw storageError(
      'STORAGE_BAD_INPUT',
      `Seal a segment of at most ${MAX_SEGMENT_SIZE} bytes at a time.`,
      {
        size: plaintext instanceof Uint8Array ? plaintext.length : typeof plaintext,
      },
    );
  }
  const size = sealedSizeOf(plaintext.length);
  if (into !== undefined && (!(into instanceof Uint8Array) || into.length < size)) {
    throw storageError('STORAGE_BAD_INPUT', `Give a buffer of at least ${size} bytes to seal into.`, {
      length: into instanceof Uint8Array ? into.length : typeof into,
    });
  }
  const out = into ?? new Uint8Array(size);
  const cipher = createCipheriv('aes-256-gcm', segmentKeyOf(context), nonceOf(context.index));
  cipher.setAAD(aadOf(context));
  let at = 0;
  for (let p = 0; p < plaintext.length; p += BLOCK) {
    const chunk = cipher.update(plaintext.subarray(p, p + BLOCK));
    out.set(chunk, at);
    at += chunk.length;
  }
  const last = cipher.final();
  out.set(last, at);
  at += last.length;
  out.set(cipher.getAuthTag(), at);
  return out.subarray(0, size);
}

/**
 * Opens a sealed segment given whole or as consecutive parts (the data shards, the last one cut to
 * the sealed size), and returns the plaintext, into `into` (at least the plaintext's size, e.g. a
 * buffer reused across segments; the result is a view of it) or a new buffer; throws
 * STORAGE_DECRYPT_FAILED on a wrong key, index or file id, or any changed byte.
 *
 * @example const plaintext = openSegment(sealed, { fileId, index: 0, segmentKey });
 */
export function openSegment(
  sealed: Uint8Array | readonly Uint8Array[],
  context: SealContext,
  into?: Uint8Array,
): Uint8Array {
  const parts = sealed instanceof Uint8Array ? [sealed] : sealed;
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  if (total < SEAL_TAG_BYTES) {
    throw storageError(
      'STORAGE_DECRYPT_FAILED',
      'A sealed segment is at least 16 bytes; the data is truncated.',
      {
        fileId: context.fileId,
        index: context.index,
        size: total,
      },
    );
  }
  const decipher = createDecipheriv('aes-256-gcm', segmentKeyOf(context), nonceOf(context.index));
  decipher.setAAD(aadOf(context));
  const bodySize = total - SEAL_TAG_BYTES;
  if (into !== undefined && (!(into instanceof Uint8Array) || into.length < bodySize)) {
    throw storageError('STORAGE_BAD_INPUT', `Give a buffer of at least ${bodySize} bytes to open into.`, {
      length: into instanceof Uint8Array ? into.length : typeof into,
    });
  }
  const out = into ? into.subarray(0, bodySize) : new Uint8Array(bodySize);
  const tag = new Uint8Array(SEAL_TAG_BYTES);
  let read = 0;
  let written = 0;
  for (const part of parts) {
    const body = Math.max(0, Math.min(part.length, bodySize - read));
    for (let p = 0; p < body; p += BLOCK) {
      const chunk = decipher.update(part.subarray(p, Math.min(body, p + BLOCK)));
      out.set(chunk, written);
      written += chunk.length;
    }
    if (body < part.length) tag.set(part.subarray(body), read + body - bodySize);
    read += part.length;
  }
  decipher.setAuthTag(tag);
  try {
    out.set(decipher.final(), written);
  } catch (cause) {
    out.fill(0);
    throw storageError(
      'STORAGE_DECRYPT_FAILED',
      'The segment does not authenticate: the key, file id or index is wrong, or its bytes were changed. Fetch other pieces or check the secret.',
      { fileId: context.fileId, index: context.index },
      cause,
    );
  }
  return out;
}

function segmentKeyOf(context: SealContext): Uint8Array {
  checkKey(context.segmentKey, 'segment key');
  return context.segmentKey;
}

function nonceOf(index: number): Buffer {
  checkIndex(index);
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(index, 8);
  return nonce;
}

function aadOf(context: SealContext): Buffer {
  const aad = Buffer.alloc(36);
  aad.set(fileIdBytes(context.fileId));
  aad.writeUInt32BE(context.index, 32);
  return aad;
}
