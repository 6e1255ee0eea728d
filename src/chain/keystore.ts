/**
 * Web3 Secret Storage (version 3) keystores: the encrypted key files that geth, Foundry (`cast wallet`)
 * and ethers write and read, and that MetaMask imports. A key is encrypted with AES-128-CTR under the first half of
 * a password-derived key (scrypt or PBKDF2-HMAC-SHA256); keccak256(second half ‖ ciphertext) is the
 * MAC that tells a wrong password from a right one.
 *
 * The key derivation runs on libuv's thread pool (node:crypto's async scrypt/pbkdf2), so a daemon
 * unlocking its key does not stall its event loop for the second that scrypt at n = 2^18 takes;
 * only scrypt parameters that OpenSSL refuses fall back to @noble/hashes (which yields as it goes).
 */
import {
  createCipheriv,
  createDecipheriv,
  pbkdf2 as pbkdf2Callback,
  randomBytes,
  randomUUID,
  type ScryptOptions,
  scrypt as scryptCallback,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';
import { scryptAsync as nobleScrypt } from '@noble/hashes/scrypt.js';
import { bytesToHex, type Hex, keccak256 } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { z } from 'zod';
import { DepinError } from '../core/errors.ts';

const scrypt = promisify(scryptCallback) as (
  password: Buffer,
  salt: Buffer,
  keylen: number,
  options: ScryptOptions,
) => Promise<Buffer>;
const pbkdf2 = promisify(pbkdf2Callback);

/** Error codes of keystore handling. */
export type KeystoreErrorCode = 'KEYSTORE_BAD_PASSWORD' | 'KEYSTORE_INVALID';

/** A version 3 keystore, as JSON.stringify writes it to a file. */
export type KeystoreV3 = {
  version: 3;
  id: string;
  /** Lower-case hex, without 0x. */
  address: string;
  crypto: {
    cipher: 'aes-128-ctr';
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: 'scrypt' | 'pbkdf2';
    kdfparams: ScryptParams | Pbkdf2Params;
    mac: string;
  };
};

export type ScryptParams = { dklen: number; n: number; r: number; p: number; salt: string };
export type Pbkdf2Params = { dklen: number; c: number; prf: 'hmac-sha256'; salt: string };

export type EncryptKeystoreParameters = {
  /** Key derivation; scrypt (the default) is what geth and Foundry write. */
  kdf?: 'scrypt' | 'pbkdf2';
  /** scrypt cost, a power of two; 2^18 (geth's "standard", ~256 MiB with r = 8). Lower only for tests. */
  n?: number;
  r?: number;
  p?: number;
  /** PBKDF2 iterations; 262,144 by default. */
  c?: number;
  /** For reproducible files in tests: 32-byte salt and 16-byte IV, hex. Random otherwise. */
  salt?: Hex;
  iv?: Hex;
  id?: string;
};

/** scrypt cost written by default: geth's "standard" n = 2^18, r = 8, p = 1 (256 MiB, ~1 s). */
export const DEFAULT_SCRYPT = { n: 1 << 18, r: 8, p: 1 } as const;

/** Largest scrypt working memory (128·n·r bytes) accepted from a file: 1 GiB. */
const MAX_SCRYPT_MEMORY = 1 << 30;
const MAX_PBKDF2_ITERATIONS = 10_000_000;

/**
 * Encrypts a private key into a version 3 keystore.
 *
 * @example
 * const json = await encryptKeystore(privateKey, 'correct horse battery staple');
 * await writeFile('operator.json', JSON.stringify(json));
 */
export async function encryptKeystore(
  privateKey: Hex,
  password: string,
  options: EncryptKeystoreParameters = {},
): Promise<KeystoreV3> {
  const key = parsePrivateKey(privateKey);
  const address = privateKeyToAddress(privateKey).slice(2).toLowerCase();
  const salt = options.salt ? hexBytes(options.salt, 32, 'salt') : randomBytes(32);
  const iv = options.iv ? hexBytes(options.iv, 16, 'iv') : randomBytes(16);
  const kdf = options.kdf ?? 'scrypt';
  const kdfparams: ScryptParams | Pbkdf2Params =
    kdf === 'scrypt'
      ? {
          dklen: 32,
          n: options.n ?? 1 << 18,
          r: options.r ?? 8,
          p: options.p ?? 1,
          salt: salt.toString('hex'),
        }
      : { dklen: 32, c: options.c ?? 262_144, prf: 'hmac-sha256', salt: salt.toString('hex') };
  checkKdfParams(kdf, kdfparams);
  const derived = await deriveKey(kdf, kdfparams, Buffer.from(password, 'utf8'));
  const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(key), cipher.final()]);
  return {
    version: 3,
    id: options.id ?? randomUUID(),
    address,
    crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: { iv: iv.toString('hex') },
      ciphertext: ciphertext.toString('hex'),
      kdf,
      kdfparams,
      mac: mac(derived, ciphertext).toString('hex'),
    },
  };
}

/**
 * Decrypts a version 3 keystore (scrypt or PBKDF2, AES-128-CTR) and returns its private key.
 * Throws `KEYSTORE_BAD_PASSWORD` when the MAC does not match, `KEYSTORE_INVALID` when the file is not
 * a keystore this code can read (or its address does not match the key inside).
 *
 * @example
 * const privateKey = await decryptKeystore(await readFile('operator.json', 'utf8'), password);
 */
export async function decryptKeystore(json: string | object, password: string): Promise<Hex> {
  const keystore = parseKeystore(json);
  const { kdf, kdfparams } = keystore.crypto;
  checkKdfParams(kdf, kdfparams);
  const ciphertext = Buffer.from(keystore.crypto.ciphertext, 'hex');
  const expected = Buffer.from(keystore.crypto.mac, 'hex');
  // Raw UTF-8 as geth and the spec; NFKC as ethers writes non-ASCII passwords.
  const candidates = [password, password.normalize('NFKC')].filter((p, i, all) => all.indexOf(p) === i);
  for (const candidate of candidates) {
    const derived = await deriveKey(kdf, kdfparams, Buffer.from(candidate, 'utf8'));
    if (!timingSafeEqual(mac(derived, ciphertext), expected)) continue;
    const decipher = createDecipheriv(
      'aes-128-ctr',
      derived.subarray(0, 16),
      Buffer.from(keystore.crypto.cipherparams.iv, 'hex'),
    );
    const key = bytesToHex(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
    let address: string;
    try {
      address = privateKeyToAddress(key).slice(2).toLowerCase();
    } catch (e) {
      throw invalid('the decrypted key is not a valid secp256k1 private key', e);
    }
    if (keystore.address && keystore.address.replace(/^0x/i, '').toLowerCase() !== address) {
      throw invalid(`the key inside belongs to 0x${address}, not to the address the file names`);
    }
    return key;
  }
  throw new DepinError<KeystoreErrorCode>(
    'KEYSTORE_BAD_PASSWORD',
    'Wrong password for this keystore: try again, or use the file the key was exported to.',
    { ...(keystore.address ? { details: { address: keystore.address } } : {}) },
  );
}

const hex = (bytes: number) =>
  z
    .string()
    .transform((s) => s.replace(/^0x/i, ''))
    .pipe(z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `expected ${bytes} bytes of hex`));

const scryptParamsSchema = z.object({
  dklen: z.number().int(),
  n: z.number().int(),
  r: z.number().int(),
  p: z.number().int(),
  salt: z.string().regex(/^(0x)?([0-9a-fA-F]{2})+$/),
});
const pbkdf2ParamsSchema = z.object({
  dklen: z.number().int(),
  c: z.number().int(),
  prf: z.literal('hmac-sha256'),
  salt: z.string().regex(/^(0x)?([0-9a-fA-F]{2})+$/),
});
const cryptoSchema = z.discriminatedUnion('kdf', [
  z.object({
    cipher: z.literal('aes-128-ctr'),
    cipherparams: z.object({ iv: hex(16) }),
    ciphertext: hex(32),
    kdf: z.literal('scrypt'),
    kdfparams: scryptParamsSchema,
    mac: hex(32),
  }),
  z.object({
    cipher: z.literal('aes-128-ctr'),
    cipherparams: z.object({ iv: hex(16) }),
    ciphertext: hex(32),
    kdf: z.literal('pbkdf2'),
    kdfparams: pbkdf2ParamsSchema,
    mac: hex(32),
  }),
]);
const keystoreSchema = z
  .object({
    version: z.literal(3),
    id: z.string().optional(),
    address: z
      .string()
      .regex(/^(0x)?[0-9a-fA-F]{40}$/)
      .optional(),
    crypto: cryptoSchema.optional(),
    // Some old wallets (MyEtherWallet) capitalise the key.
    Crypto: cryptoSchema.optional(),
  })
  .transform((k, ctx) => {
    const crypto = k.crypto ?? k.Crypto;
    if (!crypto) {
      ctx.addIssue({ code: 'custom', message: 'missing crypto section' });
      return z.NEVER;
    }
    return { address: k.address, crypto };
  });

type ParsedKeystore = z.infer<typeof keystoreSchema>;

function parseKeystore(json: string | object): ParsedKeystore {
  let raw: unknown = json;
  if (typeof json === 'string') {
    try {
      raw = JSON.parse(json);
    } catch (e) {
      throw invalid('it is not JSON', e);
    }
  }
  const parsed = keystoreSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'unexpected shape'}`);
  }
  return parsed.data;
}

function checkKdfParams(kdf: 'scrypt' | 'pbkdf2', params: ScryptParams | Pbkdf2Params): void {
  if (params.dklen < 32) throw invalid(`kdfparams.dklen must be at least 32, got ${params.dklen}`);
  if (params.salt.replace(/^0x/i, '').length < 2) throw invalid('kdfparams.salt is empty');
  if (kdf === 'scrypt') {
    const { n, r, p } = params as ScryptParams;
    if (n < 2 || (n & (n - 1)) !== 0) throw invalid(`scrypt n must be a power of two, got ${n}`);
    if (r < 1 || p < 1 || r * p >= 1 << 30) throw invalid(`scrypt r and p out of range (${r}, ${p})`);
    if (128 * n * r > MAX_SCRYPT_MEMORY) throw invalid(`scrypt n·r too large (${n}·${r}): over 1 GiB`);
  } else {
    const { c } = params as Pbkdf2Params;
    if (c < 1 || c > MAX_PBKDF2_ITERATIONS) throw invalid(`pbkdf2 c out of range: ${c}`);
  }
}

async function deriveKey(
  kdf: 'scrypt' | 'pbkdf2',
  params: ScryptParams | Pbkdf2Params,
  password: Buffer,
): Promise<Buffer> {
  const salt = Buffer.from(params.salt.replace(/^0x/i, ''), 'hex');
  if (kdf === 'scrypt') {
    const { n, r, p, dklen } = params as ScryptParams;
    // OpenSSL enforces RFC 7914's n < 2^(16·r); geth and ethers do not, and files (the spec's own
    // test vector: n = 2^18, r = 1) exist beyond it. Those go to the JavaScript implementation.
    if (16 * r < 53 && n >= 2 ** (16 * r)) {
      return Buffer.from(
        await nobleScrypt(password, salt, { N: n, r, p, dkLen: dklen, maxmem: MAX_SCRYPT_MEMORY * 2 }),
      );
    }
    return scrypt(password, salt, dklen, { N: n, r, p, maxmem: 128 * (n + p + 2) * r + (1 << 20) });
  }
  const { c, dklen } = params as Pbkdf2Params;
  return pbkdf2(password, salt, c, dklen, 'sha256');
}

function mac(derived: Buffer, ciphertext: Buffer): Buffer {
  return Buffer.from(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext]), 'bytes'));
}

function parsePrivateKey(privateKey: Hex): Buffer {
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey)) {
    throw invalid('the private key must be 32 bytes of 0x-prefixed hex');
  }
  try {
    privateKeyToAddress(privateKey);
  } catch (e) {
    throw invalid('the private key is not a valid secp256k1 key', e);
  }
  return Buffer.from(privateKey.slice(2), 'hex');
}

function hexBytes(value: Hex, length: number, name: string): Buffer {
  const bytes = Buffer.from(value.replace(/^0x/i, ''), 'hex');
  if (bytes.length !== length) throw invalid(`${name} must be ${length} bytes`);
  return bytes;
}

function invalid(reason: string, cause?: unknown): DepinError<KeystoreErrorCode> {
  return new DepinError<KeystoreErrorCode>(
    'KEYSTORE_INVALID',
    `Not a readable version 3 keystore: ${reason}. Export the key again from its wallet.`,
    cause === undefined ? {} : { cause },
  );
}
