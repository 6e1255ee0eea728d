import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { isDepinError } from '../../core/errors.ts';
import { createFileId } from './fileId.ts';
import { createSegmentKey } from './keys.ts';
import { encodeSegment } from './segment.ts';
import { createSegmentWorkers } from './segmentWorkers.ts';

const workers = createSegmentWorkers({ threads: 2 });
after(() => workers.close());

const k = 3;
const n = 6;
const fileId = createFileId();
const segmentKey = createSegmentKey();
const plaintext = new Uint8Array(randomBytes(300_000));

test('encodes in a worker exactly what encodeSegment makes here, and leaves the plaintext alone', async () => {
  const here = encodeSegment({ plaintext, index: 7, fileId, segmentKey, k, n });
  const copy = plaintext.slice();
  const there = await workers.encode({ plaintext, index: 7, fileId, segmentKey, k, n });
  assert.deepEqual(copy, plaintext);
  assert.equal(there.algorithm, here.algorithm);
  assert.equal(there.sealedSize, here.sealedSize);
  assert.deepEqual(
    there.pieces.map((p) => [p.index, p.pieceId, p.pieceRoot, Buffer.from(p.data).toString('base64')]),
    here.pieces.map((p) => [p.index, p.pieceId, p.pieceRoot, Buffer.from(p.data).toString('base64')]),
  );
});

test('decodes in a worker, skipping a corrupt piece, from views and own buffers alike', async () => {
  const segment = encodeSegment({ plaintext, index: 2, fileId, segmentKey, k, n });
  // Views of the encoder's one buffer are copied, an own buffer moves.
  const pieces: (Uint8Array | undefined)[] = segment.pieces.map((p) => p.data);
  pieces[0] = undefined;
  pieces[1] = pieces[1]!.slice();
  pieces[1][10]! ^= 1;
  const r = await workers.decode({
    pieces,
    pieceRoots: segment.pieces.map((p) => p.pieceRoot),
    k,
    n,
    sealedSize: segment.sealedSize,
    index: 2,
    fileId,
    segmentKey,
    algorithm: segment.algorithm,
  });
  assert.deepEqual(r.plaintext, plaintext);
  assert.deepEqual(r.corrupt, [1]);
  assert.deepEqual(r.used, [2, 3, 4]);
  assert.equal(segment.pieces[2]!.data.length, segment.shardSize, 'the encoder buffer was not moved');
});

test('hands the pieces back with the error code when too few are good', async () => {
  const segment = encodeSegment({ plaintext, index: 0, fileId, segmentKey, k, n });
  const pieces: (Uint8Array | undefined)[] = segment.pieces.map((p, i) =>
    i < 3 ? undefined : p.data.slice(),
  );
  pieces[4]![0]! ^= 1;
  const kept = pieces.map((p) => p && Buffer.from(p).toString('base64'));
  await assert.rejects(
    workers.decode({
      pieces,
      pieceRoots: segment.pieces.map((p) => p.pieceRoot),
      k,
      n,
      sealedSize: segment.sealedSize,
      index: 0,
      fileId,
      segmentKey,
      algorithm: segment.algorithm,
    }),
    (e: unknown) =>
      isDepinError(e, 'STORAGE_TOO_FEW_PIECES') &&
      String(e.details?.corrupt) === '4' &&
      e.details?.available === 2,
  );
  assert.deepEqual(
    pieces.map((p) => p && Buffer.from(p).toString('base64')),
    kept,
  );
});

test('fails with STORAGE_DECRYPT_FAILED under a wrong key, as on the calling thread', async () => {
  const segment = encodeSegment({ plaintext, index: 0, fileId, segmentKey, k, n });
  await assert.rejects(
    workers.decode({
      pieces: segment.pieces.map((p) => p.data.slice()),
      pieceRoots: segment.pieces.map((p) => p.pieceRoot),
      k,
      n,
      sealedSize: segment.sealedSize,
      index: 0,
      fileId,
      segmentKey: createSegmentKey(),
      algorithm: segment.algorithm,
    }),
    (e: unknown) => isDepinError(e, 'STORAGE_DECRYPT_FAILED'),
  );
  await assert.rejects(workers.encode({ plaintext, index: -1, fileId, segmentKey, k, n }), (e: unknown) =>
    isDepinError(e, 'STORAGE_BAD_INPUT'),
  );
});

test('runs segments on both threads at once and refuses work once closed', async () => {
  const many = await Promise.all(
    [0, 1, 2, 3].map((index) => workers.encode({ plaintext, index, fileId, segmentKey, k, n })),
  );
  assert.deepEqual(
    many.map((s) => s.index),
    [0, 1, 2, 3],
  );
  const pool = createSegmentWorkers({ threads: 1 });
  await pool.close();
  await assert.rejects(pool.encode({ plaintext, index: 0, fileId, segmentKey, k, n }), (e: unknown) =>
    isDepinError(e, 'STORAGE_WORKER_FAILED'),
  );
});
