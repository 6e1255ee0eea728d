/**
 * The file manifest (docs/storage.md §7–8): everything needed to fetch and decrypt a file, sealed
 * with the manifest key so that only the owner's secret opens it; and the deal root over the file's
 * piece ids that goes on chain.
 *
 * Sealed form: 0x01 (format version) ‖ 12-byte random nonce ‖ AES-256-GCM(JSON) ‖ 16-byte tag, AAD
 * = "depin/v1/manifest" ‖ 0x01. The nonce is random because a manifest is re-sealed whenever it
 * changes (repair moves pieces) under the same key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Hex } from 'viem';
import { z } from 'zod';
import { KECCAK_RESERVED_BYTES } from '../../core/keccak.ts';
import { ERASURE_MAX_SHARDS } from '../erasure/shape.ts';
import { storageError } from './errors.ts';
import { checkKey } from './keys.ts';
import { MAX_SEGMENT_SIZE, sealedSizeOf } from './seal.ts';
import { shardSizeOf } from './segment.ts';
import { buildSortedTree, commitmentKernel, EMPTY_ROOT } from './sortedTree.ts';

const hex = (digits: number, what: string) =>
  z.custom<Hex>((v) => typeof v === 'string' && new RegExp(`^0x[0-9a-fA-F]{${digits}}$`).test(v), {
    message: `expected ${what} (0x + ${digits} hex digits)`,
  });
const count = z.number().int().nonnegative();

/** One stored piece of a segment. @example manifestPieceSchema.parse(piece) */
export const manifestPieceSchema = z.object({
  index: z
    .number()
    .int()
    .min(0)
    .max(ERASURE_MAX_SHARDS - 1),
  pieceId: hex(64, 'a bytes32 piece id'),
  pieceRoot: hex(64, 'a bytes32 piece root'),
  size: count,
  /** The node holding the piece (null before placement). */
  node: hex(40, 'a node address').nullable(),
});

/**
 * One segment: sizes, its wrapped key and its stored pieces (those that were placed; any k suffice).
 *
 * @example manifestSegmentSchema.parse(segment)
 */
export const manifestSegmentSchema = z.object({
  index: count.max(0xffffffff),
  size: count.max(MAX_SEGMENT_SIZE),
  sealedSize: count,
  wrappedKey: hex(120, 'a wrapped segment key'),
  pieces: z.array(manifestPieceSchema),
});

/**
 * The manifest, with its cross-field rules: segments numbered 0.. in order, all full but the last,
 * sizes adding up, piece sizes and indices consistent with k and n.
 *
 * @example const manifest = manifestSchema.parse(JSON.parse(text));
 */
export const manifestSchema = z
  .object({
    version: z.literal(1),
    fileId: hex(64, 'a bytes32 file id'),
    size: count.max(Number.MAX_SAFE_INTEGER),
    segmentSize: count.min(1).max(MAX_SEGMENT_SIZE),
    k: count.min(1),
    n: count.max(ERASURE_MAX_SHARDS),
    algorithm: z.enum(['cauchy', 'leopard']),
    segments: z.array(manifestSegmentSchema),
    /** The on-chain deal (uint256 as a decimal string), null before the deal is created. */
    dealId: z
      .string()
      .regex(/^(0|[1-9][0-9]{0,77})$/, 'a uint256 as a decimal string')
      .nullable(),
  })
  .superRefine((m, ctx) => {
    const issue = (message: string, path: (string | number)[]) =>
      ctx.addIssue({ code: 'custom', message, path });
    if (m.n <= m.k) issue('n must exceed k', ['n']);
    const expected = Math.ceil(m.size / m.segmentSize);
    if (m.segments.length !== expected) issue(`a ${m.size}-byte file has ${expected} segments`, ['segments']);
    m.segments.forEach((s, i) => {
      const at = ['segments', i];
      if (s.index !== i) issue('segments are numbered 0, 1, … in order', [...at, 'index']);
      const size = i < expected - 1 ? m.segmentSize : m.size - (expected - 1) * m.segmentSize;
      if (s.size !== size) issue(`segment ${i} holds ${size} bytes`, [...at, 'size']);
      if (s.sealedSize !== sealedSizeOf(s.size)) issue('sealedSize = size + 16', [...at, 'sealedSize']);
      const seen = new Set<number>();
      s.pieces.forEach((p, j) => {
        if (p.index >= m.n || seen.has(p.index))
          issue('piece indices are distinct and below n', [...at, 'pieces', j]);
        seen.add(p.index);
        if (m.k >= 1 && p.size !== shardSizeOf(s.sealedSize, m.k)) {
          issue('a piece is the shard size of its segment', [...at, 'pieces', j, 'size']);
        }
      });
    });
  });

/** A file manifest. */
export type Manifest = z.infer<typeof manifestSchema>;
/** A segment of a {@link Manifest}. */
export type ManifestSegment = z.infer<typeof manifestSegmentSchema>;
/** A piece of a {@link ManifestSegment}. */
export type ManifestPiece = z.infer<typeof manifestPieceSchema>;

const VERSION = 0x01;
const AAD = Buffer.from('depin/v1/manifest\x01', 'latin1');

/**
 * Checks and seals a manifest under the manifest key (keys.ts `manifestKey`); throws
 * STORAGE_BAD_MANIFEST when it breaks the schema.
 *
 * @example const sealed = sealManifest(manifest, manifestKey(rootKey, manifest.fileId));
 */
export function sealManifest(manifest: Manifest, key: Uint8Array): Uint8Array {
  checkKey(key, 'manifest key');
  const checked = parseManifest(manifest);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(JSON.stringify(checked), 'utf8'), cipher.final()]);
  return new Uint8Array(Buffer.concat([Buffer.of(VERSION), nonce, body, cipher.getAuthTag()]));
}

/**
 * Opens a sealed manifest; throws STORAGE_DECRYPT_FAILED for a wrong key (so a wrong secret) or
 * changed bytes, STORAGE_BAD_MANIFEST when what decrypts is not a valid manifest.
 *
 * @example const manifest = openManifest(sealed, manifestKey(rootKey, fileId));
 */
export function openManifest(sealed: Uint8Array, key: Uint8Array): Manifest {
  checkKey(key, 'manifest key');
  if (!(sealed instanceof Uint8Array) || sealed.length < 1 + 12 + 16 || sealed[0] !== VERSION) {
    throw storageError(
      'STORAGE_DECRYPT_FAILED',
      'This is not a sealed manifest (version 1); fetch it again.',
      {
        size: sealed instanceof Uint8Array ? sealed.length : typeof sealed,
      },
    );
  }
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
  decipher.setAAD(AAD);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  let text: string;
  try {
    text = Buffer.concat([
      decipher.update(sealed.subarray(13, sealed.length - 16)),
      decipher.final(),
    ]).toString('utf8');
  } catch (cause) {
    throw storageError(
      'STORAGE_DECRYPT_FAILED',
      'The manifest does not decrypt: check the secret, owner and file id, or fetch it from other nodes.',
      undefined,
      cause,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw storageError(
      'STORAGE_BAD_MANIFEST',
      'The manifest is not JSON; it was sealed by faulty software.',
      {},
      cause,
    );
  }
  return parseManifest(json);
}

function parseManifest(value: unknown): Manifest {
  const result = manifestSchema.safeParse(value);
  if (!result.success) {
    throw storageError(
      'STORAGE_BAD_MANIFEST',
      'The manifest breaks the format of docs/storage.md §7; fix it.',
      {
        issues: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      },
    );
  }
  return result.data;
}

/**
 * The deal root that goes on chain: the OpenZeppelin `StandardMerkleTree` root over the file's piece
 * ids with encoding `['bytes32']`, i.e. leaf = keccak256(keccak256(pieceId)) in a sorted-pair tree —
 * what `Challenges` checks a piece against. bytes32(0) for no pieces (an empty file), which
 * `StorageDeals.createDeal` refuses.
 *
 * @example const root = dealRoot(manifest.segments.flatMap((s) => s.pieces.map((p) => p.pieceId)));
 */
export function dealRoot(pieceIds: readonly Hex[]): Hex {
  const m = pieceIds.length;
  if (m === 0) return EMPTY_ROOT;
  const hashes = KECCAK_RESERVED_BYTES;
  const tree = hashes + 32 * m;
  const kernel = commitmentKernel(tree + 32 * (2 * m - 1));
  const bytes = new Uint8Array(kernel.memory.buffer);
  pieceIds.forEach((id, i) => {
    if (typeof id !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(id)) {
      throw storageError('STORAGE_BAD_INPUT', 'Piece ids are 0x + 64 hex digits.', { index: i, pieceId: id });
    }
    const at = hashes + 32 * i;
    bytes.set(Buffer.from(id.slice(2), 'hex'), at);
    kernel.hash32(at, at);
    kernel.hash32(at, at);
  });
  buildSortedTree(kernel, hashes, m, tree);
  return `0x${Buffer.from(bytes.subarray(tree, tree + 32)).toString('hex')}`;
}
