/**
 * The on-disk side of the piece store: where a piece's file lives, how it is written so that a
 * crash never exposes half a piece, and the scan that finds what a crash left behind.
 *
 * Layout: `dir/ab/cd/<64 hex digits>` (ab, cd = the id's first two bytes), which keeps directories
 * small (65,536 of them share the pieces). Temp files sit next to their final name, `.<id>.….tmp`,
 * so the rename that publishes a piece never crosses a file system.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { DepinError } from '../../core/errors.ts';
import { CHUNK_SIZE } from '../client/pieces.ts';
import { buildChunkTree, createChunkHasher } from './chunks.ts';

/** Bytes gathered from the body before one write. */
const WRITE_BATCH = 1 << 20;

/**
 * The file of piece `pieceId` (0x-prefixed, lower case) under `dir`.
 *
 * @example pathOf('/data/pieces', '0xabcd…'); // '/data/pieces/ab/cd/abcd…'
 */
export function pathOf(dir: string, pieceId: string): string {
  const hex = pieceId.slice(2);
  return join(dir, hex.slice(0, 2), hex.slice(2, 4), hex);
}

/**
 * Writes `body` as piece `pieceId`: into a temp file, hashing the chunk leaves as it goes; checks it
 * is exactly `size` bytes hashing to `pieceRoot`; then fsync, rename, fsync of the directory. On any
 * failure the temp file is removed and nothing is published. Returns the chunk leaves.
 * Errors: BODY_TOO_LARGE 413, BODY_TOO_SHORT 400, PIECE_HASH_MISMATCH 400.
 *
 * @example const leaves = await writePieceFile(dir, { pieceId, size, pieceRoot }, body);
 */
export async function writePieceFile(
  dir: string,
  piece: { pieceId: Hex; size: number; pieceRoot: Hex },
  body: AsyncIterable<Uint8Array>,
): Promise<Uint8Array> {
  const final = pathOf(dir, piece.pieceId);
  const folder = join(final, '..');
  const temp = join(folder, `.${piece.pieceId}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  let fh: FileHandle | undefined;
  try {
    mkdirSync(folder, { recursive: true });
    fh = await open(temp, 'wx');
    const hasher = createChunkHasher();
    // Socket reads come in ~64 KiB parts; writing them in batches of ~1 MiB saves most of the
    // file-system calls (and their round trips through the thread pool).
    let batch: Uint8Array[] = [];
    let batched = 0;
    for await (const part of body) {
      if (hasher.size + part.length > piece.size) {
        throw new DepinError('BODY_TOO_LARGE', `The body is longer than the ordered ${piece.size} bytes.`, {
          status: 413,
        });
      }
      hasher.update(part);
      batch.push(part);
      batched += part.length;
      if (batched >= WRITE_BATCH) {
        await fh.writev(batch);
        batch = [];
        batched = 0;
      }
    }
    if (batched > 0) await fh.writev(batch);
    if (hasher.size < piece.size) {
      throw new DepinError(
        'BODY_TOO_SHORT',
        `The body has ${hasher.size} bytes, the order says ${piece.size}: upload the whole piece.`,
      );
    }
    const leaves = hasher.digest();
    const got = buildChunkTree(leaves).root;
    if (got !== piece.pieceRoot) {
      throw new DepinError(
        'PIECE_HASH_MISMATCH',
        'The uploaded bytes do not hash to the ordered pieceRoot: nothing was stored.',
        { details: { expected: piece.pieceRoot, got } },
      );
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(temp, final);
    await syncDir(folder);
    return leaves;
  } catch (e) {
    await fh?.close().catch(() => {});
    rmSync(temp, { force: true });
    throw e;
  }
}

/**
 * Chunk `index` of a piece file, zero-padded to 1 KiB.
 *
 * @example const chunk = await readPieceChunk(dir, pieceId, 3);
 */
export async function readPieceChunk(dir: string, pieceId: Hex, index: number): Promise<Uint8Array> {
  const chunk = new Uint8Array(CHUNK_SIZE);
  const fh = await open(pathOf(dir, pieceId), 'r');
  try {
    await fh.read(chunk, 0, CHUNK_SIZE, index * CHUNK_SIZE);
  } finally {
    await fh.close();
  }
  return chunk;
}

/**
 * Deletes a piece file; a file already gone is fine.
 *
 * @example removePieceFile(dir, pieceId);
 */
export function removePieceFile(dir: string, pieceId: string): void {
  rmSync(pathOf(dir, pieceId), { force: true });
}

/**
 * Cleans `dir` after a crash: deletes temp files, and piece files that `expectedSize` does not
 * know (renamed but never indexed) or whose size differs from it. Returns the ids of the pieces
 * whose files are in place.
 *
 * @example const { present } = scanPieceFiles(dir, (id) => index.get(id));
 */
export function scanPieceFiles(
  dir: string,
  expectedSize: (pieceId: string) => number | undefined,
): { present: Set<string>; tempFiles: number; orphanFiles: number } {
  const present = new Set<string>();
  let tempFiles = 0;
  let orphanFiles = 0;
  for (const folder of subfolders(dir).flatMap((a) => subfolders(a))) {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = join(folder, entry.name);
      if (entry.name.endsWith('.tmp')) {
        rmSync(file, { force: true });
        tempFiles++;
        continue;
      }
      const id = `0x${entry.name}`;
      const size = expectedSize(id);
      if (size === undefined || statSync(file).size !== size) {
        rmSync(file, { force: true });
        orphanFiles++;
        continue;
      }
      present.add(id);
    }
  }
  return { present, tempFiles, orphanFiles };
}

/** The `ab`-style (two hex digits) subdirectories of `dir`. */
function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9a-f]{2}$/.test(e.name))
    .map((e) => join(dir, e.name));
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
