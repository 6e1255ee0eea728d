/**
 * The client's key hierarchy (docs/storage.md §1): one slow Argon2id derivation from the user's
 * secret, then cheap HMAC-SHA512 derivations per file, and a fresh random key per segment stored
 * wrapped in the manifest. Only the secret (and the owner address, the salt) is needed to read a
 * file on another machine.
 */
import { argon2, createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { type Hex, hexToBytes, isAddress, isHex, keccak256 } from 'viem';
import { storageError } from './errors.ts';
import { fileIdBytes } from './fileId.ts';

/** Argon2id cost parameters of {@link deriveRootKey}. */
export type RootKeyParams = {
  /** Passes over memory (Argon2 `t`). */
  passes: number;
  /** Memory in KiB (Argon2 `m`). */
  memoryKiB: number;
  /** Lanes (Argon2 `p`). */
  parallelism: number;
};

/**
 * The production parameters: t = 3, m = 64 MiB, p = 1 (~0.2 s on the 2-core reference machine).
 *
 * @example ROOT_KEY_PARAMS.memoryKiB; // 65536
 */
export const ROOT_KEY_PARAMS: RootKeyParams = Object.freeze({ passes: 3, memoryKiB: 65536, parallelism: 1 });

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Wrapped segment key: nonce ‖ AES-256-GCM(segmentKey) ‖ tag. */
const WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES;
const SALT_PREFIX = Buffer.from('depin/v1/');
const enc = (s: string) => Buffer.from(s, 'utf8');

/**
 * The 32-byte root key: Argon2id(secret, salt = "depin/v1/" ‖ the owner's 20 address bytes).
 * The salt binds the key to the owner, so equal passphrases of two owners give unrelated keys.
 * `params` is for tests only (production keys must use {@link ROOT_KEY_PARAMS}).
 *
 * @example
 * const rootKey = await deriveRootKey('correct horse battery staple', '0x1111111111111111111111111111111111111111');
 */
export async function deriveRootKey(
  secret: string | Uint8Array,
  owner: Hex,
  options: { params?: RootKeyParams } = {},
): Promise<Uint8Array> {
  const message = typeof secret === 'string' ? enc(secret) : secret;
  if (!(message instanceof Uint8Array) || message.length === 0) {
    throw storageError('STORAGE_BAD_INPUT', 'Give a non-empty secret to derive the root key from.');
  }
  if (typeof owner !== 'string' || !isAddress(owner, { strict: false })) {
    throw storageError('STORAGE_BAD_INPUT', 'Give the owner as a 0x-prefixed 20-byte address.', { owner });
  }
  const { passes, memoryKiB, parallelism } = options.params ?? ROOT_KEY_PARAMS;
  const nonce = Buffer.concat([SALT_PREFIX, hexToBytes(owner)]);
  const refused = (cause: unknown) =>
    storageError(
      'STORAGE_BAD_INPUT',
      'Argon2id refused the parameters; use at least 1 pass and 8 KiB of memory per lane.',
      { passes, memoryKiB, parallelism },
      cause,
    );
  return new Promise((resolve, reject) => {
    try {
      argon2(
        'argon2id',
        { message, nonce, passes, memory: memoryKiB, parallelism, tagLength: KEY_BYTES },
        (error, key) => (error ? reject(refused(error)) : resolve(new Uint8Array(key))),
      );
    } catch (error) {
      reject(refused(error));
    }
  });
}

/**
 * The file's key, which wraps its segment keys: HMAC-SHA512(rootKey, "file" ‖ fileId)[0..32].
 *
 * @example const key = fileKey(rootKey, fileId);
 */
export function fileKey(rootKey: Uint8Array, fileId: Hex): Uint8Array {
  return derive(rootKey, 'file', fileIdBytes(fileId));
}

/**
 * The key the file's manifest is sealed with: HMAC-SHA512(rootKey, "manifest" ‖ fileId)[0..32].
 *
 * @example const sealed = sealManifest(manifest, manifestKey(rootKey, fileId));
 */
export function manifestKey(rootKey: Uint8Array, fileId: Hex): Uint8Array {
  return derive(rootKey, 'manifest', fileIdBytes(fileId));
}

/**
 * The well-known id the sealed manifest is stored under: keccak256("manifest" ‖ fingerprint), with
 * fingerprint = HMAC-SHA512(fileKey, "fingerprint")[0..32]. Only a holder of the root key can
 * compute it, and it reveals neither the file id nor any key.
 *
 * @example const id = manifestId(rootKey, fileId); // '0x…' bytes32
 */
export function manifestId(rootKey: Uint8Array, fileId: Hex): Hex {
  const fingerprint = derive(fileKey(rootKey, fileId), 'fingerprint', new Uint8Array(0));
  return keccak256(Buffer.concat([enc('manifest'), fingerprint]));
}

/**
 * A fresh random 32-byte segment key (one per segment, never reused).
 *
 * @example const segmentKey = createSegmentKey();
 */
export function createSegmentKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

/** Where a wrapped segment key belongs: bound into the wrapping as additional data. */
export type SegmentKeyContext = { fileId: Hex; index: number };

/**
 * Wraps a segment key under the file key for the manifest: 0x-hex of nonce(12) ‖ AES-256-GCM
 * ciphertext(32) ‖ tag(16), with a random nonce and AAD = fileId ‖ uint32be(index), so a wrapped
 * key cannot be moved to another segment or file.
 *
 * @example const wrappedKey = wrapSegmentKey(fileKey(rootKey, fileId), segmentKey, { fileId, index: 0 });
 */
export function wrapSegmentKey(fileKey: Uint8Array, segmentKey: Uint8Array, context: SegmentKeyContext): Hex {
  checkKey(fileKey, 'file key');
  checkKey(segmentKey, 'segment key');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', fileKey, nonce);
  cipher.setAAD(keyAad(context));
  const body = Buffer.concat([cipher.update(segmentKey), cipher.final()]);
  return `0x${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('hex')}`;
}

/**
 * Unwraps a segment key; throws STORAGE_DECRYPT_FAILED when the file key (so the secret), the
 * context or the wrapped bytes are wrong.
 *
 * @example const segmentKey = unwrapSegmentKey(fileKey(rootKey, fileId), segment.wrappedKey, { fileId, index });
 */
export function unwrapSegmentKey(
  fileKey: Uint8Array,
  wrappedKey: Hex,
  context: SegmentKeyContext,
): Uint8Array {
  checkKey(fileKey, 'file key');
  if (typeof wrappedKey !== 'string' || wrappedKey.length !== 2 + 2 * WRAPPED_BYTES || !isHex(wrappedKey)) {
    throw storageError(
      'STORAGE_BAD_INPUT',
      `A wrapped segment key is 0x + ${2 * WRAPPED_BYTES} hex digits.`,
      {
        wrappedKey,
      },
    );
  }
  const bytes = hexToBytes(wrappedKey);
  const decipher = createDecipheriv('aes-256-gcm', fileKey, bytes.subarray(0, NONCE_BYTES));
  decipher.setAAD(keyAad(context));
  decipher.setAuthTag(bytes.subarray(NONCE_BYTES + KEY_BYTES));
  try {
    const key = Buffer.concat([
      decipher.update(bytes.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES)),
      decipher.final(),
    ]);
    return new Uint8Array(key);
  } catch (cause) {
    throw storageError(
      'STORAGE_DECRYPT_FAILED',
      'Could not unwrap the segment key: check the secret and owner the root key was derived from.',
      { fileId: context.fileId, index: context.index },
      cause,
    );
  }
}

function derive(key: Uint8Array, label: string, data: Uint8Array): Uint8Array {
  checkKey(key, 'root key');
  const mac = createHmac('sha512', key).update(enc(label)).update(data).digest();
  return new Uint8Array(mac.subarray(0, KEY_BYTES));
}

function keyAad({ fileId, index }: SegmentKeyContext): Buffer {
  checkIndex(index);
  const aad = Buffer.alloc(36);
  aad.set(fileIdBytes(fileId));
  aad.writeUInt32BE(index, 32);
  return aad;
}

/**
 * Throws STORAGE_BAD_INPUT unless `key` is 32 bytes.
 *
 * @example checkKey(segmentKey, 'segment key');
 */
export function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw storageError('STORAGE_BAD_INPUT', `The ${what} must be ${KEY_BYTES} bytes.`, {
      length: key instanceof Uint8Array ? key.length : typeof key,
    });
  }
}

/**
 * Throws STORAGE_BAD_INPUT unless `index` is a segment index (uint32).
 *
 * @example checkIndex(0);
 */
export function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw storageError('STORAGE_BAD_INPUT', 'A segment index is a whole number from 0 to 2^32 − 1.', {
      index,
    });
  }
}
