/**
 * One segment through the data path (docs/storage.md §3–6): seal, split into k data shards
 * (zero-padded to a multiple of k × 64 bytes), erasure-code into n pieces, commit each piece; and
 * back: check each piece against its root, decode from any k good ones, open.
 *
 * Encoding makes one allocation for all n pieces: the segment is sealed straight into the data
 * shards' part of it and the parity is coded into the rest.
 */
import type { Hex } from 'viem';
import { createErasureCoder, type ErasureCoder } from '../erasure/erasureCoder.ts';
import { type ErasureAlgorithm, resolveAlgorithm } from '../erasure/shape.ts';
import { storageError } from './errors.ts';
import { pieceId, pieceRoot } from './pieces.ts';
import { MAX_SEGMENT_SIZE, openSegment, sealedSizeOf, sealSegment } from './seal.ts';

/**
 * Shards are padded to a multiple of this many bytes (the erasure coder's SIMD width).
 *
 * @example segment.shardSize % SHARD_ALIGN; // 0
 */
export const SHARD_ALIGN = 64;

/** Parameters of {@link encodeSegment}. */
export type EncodeSegmentParameters = {
  plaintext: Uint8Array;
  /** The segment's index in its file (uint32). */
  index: number;
  fileId: Hex;
  /** The segment's fresh key (createSegmentKey). */
  segmentKey: Uint8Array;
  /** Data pieces. */
  k: number;
  /** All pieces, data and parity (k < n ≤ 256). */
  n: number;
  /** Defaults to the erasure coder's choice for the shape; record it in the manifest. */
  algorithm?: ErasureAlgorithm;
  /**
   * A buffer of at least n × shardSize bytes to code into (e.g. one reused across segments); the
   * pieces are views of it. The plaintext may lie at its start: it is then sealed in place.
   */
  into?: Uint8Array;
};

/** One coded piece with its commitment. */
export type EncodedPiece = { index: number; data: Uint8Array; pieceRoot: Hex; pieceId: Hex };

/** What {@link encodeSegment} returns: the manifest's segment fields and the pieces to upload. */
export type EncodeSegmentReturnType = {
  index: number;
  size: number;
  sealedSize: number;
  /** Bytes per piece. */
  shardSize: number;
  algorithm: ErasureAlgorithm;
  /** All n pieces by index; their `data` are views of one buffer. */
  pieces: EncodedPiece[];
};

/** Parameters of {@link decodeSegment}. */
export type DecodeSegmentParameters = {
  /** n entries by piece index, `undefined` where a piece was not fetched. */
  pieces: readonly (Uint8Array | undefined)[];
  /** The n piece roots from the manifest, by piece index. */
  pieceRoots: readonly Hex[];
  k: number;
  n: number;
  sealedSize: number;
  index: number;
  fileId: Hex;
  segmentKey: Uint8Array;
  algorithm?: ErasureAlgorithm;
  /**
   * Check every present piece, not just the first k good ones (data pieces first): slower, but
   * names every corrupt piece, which repair and reputation want. Default false.
   */
  checkAll?: boolean;
  /** Where the plaintext goes (at least sealedSize − 16 bytes; the result is a view of it). */
  into?: Uint8Array;
};

/** What {@link decodeSegment} returns. */
export type DecodeSegmentReturnType = {
  plaintext: Uint8Array;
  /** Present pieces whose size or root did not match: treated as missing. */
  corrupt: number[];
  /** The k pieces the segment was decoded from. */
  used: number[];
};

/**
 * Bytes per piece for a sealed segment of `sealedSize` bytes coded with k data pieces.
 *
 * @example shardSizeOf(64 * 1024 * 1024 + 16, 8); // 8388672
 */
export function shardSizeOf(sealedSize: number, k: number): number {
  return Math.max(1, Math.ceil(sealedSize / (k * SHARD_ALIGN))) * SHARD_ALIGN;
}

/**
 * Seals and erasure-codes a segment into n committed pieces.
 *
 * @example
 * const segment = encodeSegment({ plaintext, index: 0, fileId, segmentKey: createSegmentKey(), k: 8, n: 16 });
 * for (const piece of segment.pieces) await upload(piece.pieceId, piece.data);
 */
export function encodeSegment(parameters: EncodeSegmentParameters): EncodeSegmentReturnType {
  const { plaintext, index, fileId, segmentKey, k, n } = parameters;
  const coder = coderFor(k, n, parameters.algorithm);
  if (!(plaintext instanceof Uint8Array) || plaintext.length > MAX_SEGMENT_SIZE) {
    throw storageError(
      'STORAGE_BAD_INPUT',
      `Encode a segment of at most ${MAX_SEGMENT_SIZE} bytes (a Uint8Array).`,
      {
        size: plaintext instanceof Uint8Array ? plaintext.length : typeof plaintext,
      },
    );
  }
  const sealedSize = sealedSizeOf(plaintext.length);
  const shardSize = shardSizeOf(sealedSize, k);
  const { into } = parameters;
  if (into !== undefined && (!(into instanceof Uint8Array) || into.length < n * shardSize)) {
    throw storageError(
      'STORAGE_BAD_INPUT',
      `Give a buffer of at least ${n * shardSize} bytes to code into.`,
      {
        length: into instanceof Uint8Array ? into.length : typeof into,
      },
    );
  }
  if (
    into?.buffer === plaintext.buffer &&
    plaintext.byteOffset !== into.byteOffset &&
    plaintext.byteOffset < into.byteOffset + n * shardSize &&
    into.byteOffset < plaintext.byteOffset + plaintext.length
  ) {
    throw storageError('STORAGE_BAD_INPUT', 'A plaintext inside the buffer to code into must start it.', {});
  }
  const all = into ? into.subarray(0, n * shardSize) : new Uint8Array(n * shardSize);
  const shard = (i: number) => all.subarray(i * shardSize, (i + 1) * shardSize);
  sealSegment(plaintext, { fileId, index, segmentKey }, all);
  all.fill(0, sealedSize, k * shardSize); // the data shards' padding (a reused buffer is not zero)
  coder.encodeBuffer(
    all.subarray(0, k * shardSize),
    Array.from({ length: n - k }, (_, j) => shard(k + j)),
  );
  const pieces = Array.from({ length: n }, (_, i): EncodedPiece => {
    const data = shard(i);
    const root = pieceRoot(data);
    return { index: i, data, pieceRoot: root, pieceId: pieceId(fileId, index, i, root) };
  });
  return { index, size: plaintext.length, sealedSize, shardSize, algorithm: coder.algorithm, pieces };
}

/**
 * Decodes a segment from its pieces: each present piece is checked against its root first and a
 * piece that does not match is treated as missing and reported in `corrupt`. Throws
 * STORAGE_TOO_FEW_PIECES (details: needed, available, missing, corrupt) with fewer than k good
 * pieces, and STORAGE_DECRYPT_FAILED when the segment key is wrong.
 *
 * @example
 * const { plaintext, corrupt } = decodeSegment({ pieces, pieceRoots, k: 8, n: 16, sealedSize, index, fileId, segmentKey });
 */
export function decodeSegment(parameters: DecodeSegmentParameters): DecodeSegmentReturnType {
  const { pieces, pieceRoots, k, n, sealedSize, index, fileId, segmentKey } = parameters;
  const coder = coderFor(k, n, parameters.algorithm);
  if (
    !Array.isArray(pieces) ||
    pieces.length !== n ||
    !Array.isArray(pieceRoots) ||
    pieceRoots.length !== n
  ) {
    throw storageError(
      'STORAGE_BAD_INPUT',
      `Pass ${n} pieces (undefined where absent) and ${n} piece roots.`,
      {
        pieces: Array.isArray(pieces) ? pieces.length : typeof pieces,
        pieceRoots: Array.isArray(pieceRoots) ? pieceRoots.length : typeof pieceRoots,
      },
    );
  }
  if (!Number.isInteger(sealedSize) || sealedSize < sealedSizeOf(0)) {
    throw storageError('STORAGE_BAD_INPUT', 'The sealed size is a whole number of at least 16 bytes.', {
      sealedSize,
    });
  }
  const shardSize = shardSizeOf(sealedSize, k);
  const good: (Uint8Array | undefined)[] = new Array(n).fill(undefined);
  const used: number[] = [];
  const corrupt: number[] = [];
  for (let i = 0; i < n; i++) {
    const piece = pieces[i];
    if (piece === undefined || (used.length === k && !parameters.checkAll)) continue;
    const ok =
      piece instanceof Uint8Array &&
      piece.length === shardSize &&
      typeof pieceRoots[i] === 'string' &&
      pieceRoot(piece) === pieceRoots[i].toLowerCase();
    if (!ok) corrupt.push(i);
    else if (used.length < k) {
      used.push(i);
      good[i] = piece;
    }
  }
  if (used.length < k) {
    const available = used.length;
    throw storageError(
      'STORAGE_TOO_FEW_PIECES',
      `Segment ${index} needs ${k} good pieces but has ${available}: fetch more pieces from other nodes.`,
      {
        needed: k,
        available,
        missing: [...Array(n).keys()].filter((i) => !good[i]),
        corrupt,
      },
    );
  }
  const shards = used[k - 1] === k - 1 ? good : rebuildData(coder, good, shardSize);
  const parts: Uint8Array[] = [];
  for (let j = 0; j < k && j * shardSize < sealedSize; j++) {
    parts.push(shards[j]!.subarray(0, Math.min(shardSize, sealedSize - j * shardSize)));
  }
  const plaintext = openSegment(parts, { fileId, index, segmentKey }, parameters.into);
  return { plaintext, corrupt, used };
}

/** Rebuilds the missing data shards from the k good pieces into one new buffer. */
function rebuildData(coder: ErasureCoder, good: (Uint8Array | undefined)[], shardSize: number): Uint8Array[] {
  const missing = good.flatMap((s, i) => (s ? [] : [i]));
  // Missing parity is neither read nor written with dataOnly, so it only needs the right length.
  // Leopard's dataOnly rebuild returns wrong data shards as of erasure commit 2dcf48a (Cauchy's is
  // right), so Leopard shapes rebuild the missing parity too.
  const dataOnly = coder.algorithm === 'cauchy';
  const rebuild = dataOnly ? missing.filter((i) => i < coder.dataShards) : missing;
  const rebuilt = new Uint8Array(rebuild.length * shardSize);
  const untouched = dataOnly ? new Uint8Array(shardSize) : undefined;
  const shards = good.map((s, i) => {
    if (s) return s;
    const slot = rebuild.indexOf(i);
    return slot < 0 ? untouched! : rebuilt.subarray(slot * shardSize, (slot + 1) * shardSize);
  });
  coder.reconstructInto(shards, missing, { dataOnly });
  return shards;
}

const coders = new Map<string, ErasureCoder>();

/** One coder per shape and algorithm, kept for the process (its tables are built once). */
function coderFor(k: number, n: number, algorithm: ErasureAlgorithm | undefined): ErasureCoder {
  const shape = { dataShards: k, parityShards: n - k };
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 1 || n <= k || n > 256) {
    throw storageError('STORAGE_BAD_INPUT', 'Use 1 ≤ k < n ≤ 256 pieces (k data pieces of n in all).', {
      k,
      n,
    });
  }
  const resolved = resolveAlgorithm(shape, algorithm);
  const key = `${k}/${n}/${resolved}`;
  let coder = coders.get(key);
  if (!coder) {
    coder = createErasureCoder({ ...shape, algorithm: resolved });
    coders.set(key, coder);
  }
  return coder;
}
