import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import fc from 'fast-check';
import type { Hex } from 'viem';
import { isDepinError } from '../../core/errors.ts';
import { createFileId } from './fileId.ts';
import { createSegmentKey, deriveRootKey, fileKey, manifestKey, wrapSegmentKey } from './keys.ts';
import { dealRoot, type Manifest, openManifest, sealManifest } from './manifest.ts';
import { encodeSegment } from './segment.ts';

const hasCode = (code: string) => (error: unknown) => isDepinError(error, code);
const OWNER = '0x1111111111111111111111111111111111111111';
const light = { params: { passes: 1, memoryKiB: 64, parallelism: 1 } };
const NODE: Hex = '0x00000000000000000000000000000000000000aa';

/** A real manifest: a file cut into segments, each encoded, keys wrapped. */
function buildManifest(rootKey: Uint8Array, size: number, segmentSize: number): Manifest {
  const fileId = createFileId();
  const plaintext = randomBytes(size);
  const k = 4;
  const n = 6;
  const segments = [];
  for (let index = 0; index * segmentSize < size; index++) {
    const segmentKey = createSegmentKey();
    const segment = encodeSegment({
      plaintext: plaintext.subarray(index * segmentSize, (index + 1) * segmentSize),
      index,
      fileId,
      segmentKey,
      k,
      n,
    });
    segments.push({
      index,
      size: segment.size,
      sealedSize: segment.sealedSize,
      wrappedKey: wrapSegmentKey(fileKey(rootKey, fileId), segmentKey, { fileId, index }),
      pieces: segment.pieces.map((p) => ({
        index: p.index,
        pieceId: p.pieceId,
        pieceRoot: p.pieceRoot,
        size: p.data.length,
        node: p.index === 5 ? null : NODE,
      })),
    });
  }
  return { version: 1, fileId, size, segmentSize, k, n, algorithm: 'cauchy', segments, dealId: '42' };
}

test('seals and opens a manifest under the manifest key', async () => {
  const rootKey = await deriveRootKey('secret', OWNER, light);
  for (const size of [0, 1, 10_000]) {
    const manifest = buildManifest(rootKey, size, 4096);
    const key = manifestKey(rootKey, manifest.fileId);
    const sealed = sealManifest(manifest, key);
    assert.equal(sealed[0], 1);
    assert.deepEqual(openManifest(sealed, key), manifest);
    assert.ok(
      !Buffer.from(sealed).includes(Buffer.from(manifest.fileId)),
      'the manifest is not readable sealed',
    );
  }
});

test('a manifest opened with the key of a wrong secret fails with STORAGE_DECRYPT_FAILED', async () => {
  const rootKey = await deriveRootKey('right', OWNER, light);
  const manifest = buildManifest(rootKey, 5000, 4096);
  const sealed = sealManifest(manifest, manifestKey(rootKey, manifest.fileId));
  const wrong = manifestKey(await deriveRootKey('wrong', OWNER, light), manifest.fileId);
  assert.throws(() => openManifest(sealed, wrong), hasCode('STORAGE_DECRYPT_FAILED'));
  assert.throws(
    () => openManifest(sealed, manifestKey(rootKey, createFileId())),
    hasCode('STORAGE_DECRYPT_FAILED'),
  );
});

test('any changed byte of a sealed manifest makes it fail with STORAGE_DECRYPT_FAILED', async () => {
  const rootKey = await deriveRootKey('secret', OWNER, light);
  const manifest = buildManifest(rootKey, 3000, 1024);
  const key = manifestKey(rootKey, manifest.fileId);
  const sealed = sealManifest(manifest, key);
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, mask) => {
      const altered = sealed.slice();
      altered[at % altered.length]! ^= mask;
      assert.throws(() => openManifest(altered, key), hasCode('STORAGE_DECRYPT_FAILED'));
    }),
    { numRuns: 100 },
  );
  assert.throws(() => openManifest(sealed.subarray(0, 20), key), hasCode('STORAGE_DECRYPT_FAILED'));
});

test('refuses to seal a manifest that breaks the format, naming what is wrong', async () => {
  const rootKey = await deriveRootKey('secret', OWNER, light);
  const manifest = buildManifest(rootKey, 10_000, 4096);
  const key = manifestKey(rootKey, manifest.fileId);
  const segment0 = manifest.segments[0]!;
  const broken: [string, unknown][] = [
    ['size', { ...manifest, size: 9000 }],
    ['k', { ...manifest, k: 6 }],
    [
      'sealedSize',
      { ...manifest, segments: [{ ...segment0, sealedSize: 5 }, ...manifest.segments.slice(1)] },
    ],
    ['index', { ...manifest, segments: [...manifest.segments].reverse() }],
    [
      'pieces',
      { ...manifest, segments: [{ ...segment0, pieces: [...segment0.pieces, segment0.pieces[0]] }] },
    ],
    [
      'pieceId',
      { ...manifest, segments: [{ ...segment0, pieces: [{ ...segment0.pieces[0], pieceId: '0x12' }] }] },
    ],
    ['dealId', { ...manifest, dealId: '-1' }],
    ['version', { ...manifest, version: 2 }],
  ];
  for (const [what, value] of broken) {
    assert.throws(
      () => sealManifest(value as Manifest, key),
      (error) =>
        isDepinError(error, 'STORAGE_BAD_MANIFEST') &&
        (error.details as { issues: string[] }).issues.some((i) => i.includes(what)),
      what,
    );
  }
});

test('the deal root is the StandardMerkleTree root over [pieceId] with encoding bytes32', () => {
  const id = fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((b) => `0x${Buffer.from(b).toString('hex')}` as Hex);
  fc.assert(
    fc.property(fc.array(id, { minLength: 1, maxLength: 60 }), (ids) => {
      const reference = StandardMerkleTree.of(
        ids.map((x) => [x]),
        ['bytes32'],
      );
      assert.equal(dealRoot(ids), reference.root);
    }),
    { numRuns: 100 },
  );
});

test('the deal root of no pieces is bytes32(0), and malformed piece ids are refused', () => {
  assert.equal(dealRoot([]), `0x${'0'.repeat(64)}`);
  assert.throws(() => dealRoot(['0x1234']), hasCode('STORAGE_BAD_INPUT'));
});
