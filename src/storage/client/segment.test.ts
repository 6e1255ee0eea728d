import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { isDepinError } from '../../core/errors.ts';
import { createFileId } from './fileId.ts';
import { createSegmentKey, deriveRootKey, fileKey, unwrapSegmentKey, wrapSegmentKey } from './keys.ts';
import { pieceId, pieceRoot } from './pieces.ts';
import { decodeSegment, type EncodeSegmentReturnType, encodeSegment, shardSizeOf } from './segment.ts';

const hasCode = (code: string) => (error: unknown) => isDepinError(error, code);

type Shape = { k: number; n: number };
const SHAPES: Shape[] = [
  { k: 8, n: 16 },
  { k: 1, n: 2 },
  { k: 3, n: 5 },
  { k: 20, n: 40 },
];

function encode(plaintext: Uint8Array, shape: Shape, index = 0) {
  const fileId = createFileId();
  const segmentKey = createSegmentKey();
  const segment = encodeSegment({ plaintext, index, fileId, segmentKey, ...shape });
  return { fileId, segmentKey, segment };
}

function decodeFrom(
  { fileId, segmentKey, segment }: ReturnType<typeof encode>,
  pieces: (Uint8Array | undefined)[],
  shape: Shape,
  checkAll = false,
) {
  return decodeSegment({
    pieces,
    pieceRoots: segment.pieces.map((p) => p.pieceRoot),
    ...shape,
    sealedSize: segment.sealedSize,
    index: segment.index,
    fileId,
    segmentKey,
    algorithm: segment.algorithm,
    checkAll,
  });
}

const without = (segment: EncodeSegmentReturnType, dropped: readonly number[]) =>
  segment.pieces.map((p) => (dropped.includes(p.index) ? undefined : p.data));

test('round-trips random segments of any size through seal, encode, the loss of up to n − k pieces, decode', () => {
  const cases = fc.constantFrom(...SHAPES).chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      plaintext: fc.uint8Array({ maxLength: 20_000 }),
      dropped: fc.shuffledSubarray([...Array(shape.n).keys()], { maxLength: shape.n - shape.k }),
      index: fc.nat({ max: 0xffffffff }),
    }),
  );
  fc.assert(
    fc.property(cases, ({ shape, plaintext, dropped, index }) => {
      const encoded = encode(plaintext, shape, index);
      const { plaintext: out, corrupt, used } = decodeFrom(encoded, without(encoded.segment, dropped), shape);
      assert.deepEqual(out, plaintext);
      assert.deepEqual(corrupt, []);
      assert.equal(used.length, shape.k);
    }),
    { numRuns: 80 },
  );
});

test('round-trips 0 bytes, 1 byte, sizes around multiples of k × 64 and a few MiB', () => {
  const shape = { k: 8, n: 16 };
  const edge = 8 * 64 - 16; // sealed size exactly k × 64
  for (const size of [0, 1, 15, 16, 17, edge - 1, edge, edge + 1, 3 * 1024 * 1024 + 7]) {
    const plaintext = randomBytes(size);
    const encoded = encode(plaintext, shape);
    assert.equal(encoded.segment.shardSize, shardSizeOf(size + 16, 8));
    assert.equal(encoded.segment.shardSize % 64, 0);
    for (const dropped of [
      [],
      [0, 1, 2, 3, 4, 5, 6, 7],
      [1, 3, 5, 7, 9, 11, 13, 15],
      [8, 9, 10, 11, 12, 13, 14, 15],
    ]) {
      const { plaintext: out } = decodeFrom(encoded, without(encoded.segment, dropped), shape);
      assert.ok(Buffer.from(out).equals(plaintext), `size ${size}, dropped ${dropped}`);
    }
  }
});

test('codes n ≥ 32 pieces with Leopard and fewer with Cauchy, and records which', () => {
  assert.equal(encode(randomBytes(100), { k: 20, n: 40 }).segment.algorithm, 'leopard');
  assert.equal(encode(randomBytes(100), { k: 8, n: 16 }).segment.algorithm, 'cauchy');
});

test('makes all pieces in one buffer, with ids and roots of their own bytes', () => {
  const { fileId, segment } = encode(randomBytes(50_000), { k: 8, n: 16 }, 4);
  const buffer = segment.pieces[0]!.data.buffer;
  for (const piece of segment.pieces) {
    assert.equal(piece.data.buffer, buffer);
    assert.equal(piece.data.length, segment.shardSize);
    assert.equal(piece.pieceRoot, pieceRoot(piece.data));
    assert.equal(piece.pieceId, pieceId(fileId, 4, piece.index, piece.pieceRoot));
  }
  assert.equal(new Set(segment.pieces.map((p) => p.pieceId)).size, 16);
});

test('names corrupt and truncated pieces, treats them as missing, and still decodes', () => {
  const shape = { k: 8, n: 16 };
  const plaintext = randomBytes(100_000);
  const encoded = encode(plaintext, shape);
  const pieces: (Uint8Array | undefined)[] = encoded.segment.pieces.map((p) => p.data.slice());
  pieces[2]![500]! ^= 0x40;
  pieces[9] = pieces[9]!.subarray(1);
  pieces[12] = undefined;
  const all = decodeFrom(encoded, pieces, shape, true);
  assert.deepEqual(all.corrupt, [2, 9]);
  assert.deepEqual(all.used, [0, 1, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(Buffer.from(all.plaintext), plaintext);
  // By default only as many pieces as needed are checked, data pieces first.
  const lazy = decodeFrom(encoded, pieces, shape);
  assert.deepEqual(lazy.corrupt, [2]);
  assert.deepEqual(Buffer.from(lazy.plaintext), plaintext);
});

test('a piece put in another piece’s slot is treated as corrupt', () => {
  const shape = { k: 3, n: 5 };
  const plaintext = randomBytes(4000);
  const encoded = encode(plaintext, shape);
  const pieces: (Uint8Array | undefined)[] = encoded.segment.pieces.map((p) => p.data);
  [pieces[0], pieces[4]] = [pieces[4], pieces[0]];
  const decoded = decodeFrom(encoded, pieces, shape, true);
  assert.deepEqual(decoded.corrupt, [0, 4]);
  assert.deepEqual(Buffer.from(decoded.plaintext), plaintext);
  pieces[3] = undefined;
  const error = (() => {
    try {
      decodeFrom(encoded, pieces, shape);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(isDepinError(error, 'STORAGE_TOO_FEW_PIECES'));
  assert.deepEqual(error.details, { needed: 3, available: 2, missing: [0, 3, 4], corrupt: [0, 4] });
});

test('fails with STORAGE_TOO_FEW_PIECES naming needed, available and missing pieces', () => {
  fc.assert(
    fc.property(fc.shuffledSubarray([...Array(16).keys()], { minLength: 9 }), (dropped) => {
      const encoded = encode(randomBytes(3000), { k: 8, n: 16 });
      assert.throws(
        () => decodeFrom(encoded, without(encoded.segment, dropped), { k: 8, n: 16 }),
        (error) =>
          isDepinError(error, 'STORAGE_TOO_FEW_PIECES') &&
          (error.details as { needed: number }).needed === 8 &&
          (error.details as { available: number }).available === 16 - dropped.length &&
          JSON.stringify((error.details as { missing: number[] }).missing) ===
            JSON.stringify([...dropped].sort((a, b) => a - b)),
      );
    }),
    { numRuns: 20 },
  );
});

test('a wrong segment key fails with STORAGE_DECRYPT_FAILED', () => {
  const shape = { k: 3, n: 5 };
  const encoded = encode(randomBytes(1000), shape);
  assert.throws(
    () => decodeFrom({ ...encoded, segmentKey: createSegmentKey() }, without(encoded.segment, [1]), shape),
    hasCode('STORAGE_DECRYPT_FAILED'),
  );
});

test('a reader with the wrong secret cannot unwrap the segment key', async () => {
  const owner = '0x1111111111111111111111111111111111111111';
  const light = { params: { passes: 1, memoryKiB: 64, parallelism: 1 } };
  const fileId = createFileId();
  const segmentKey = createSegmentKey();
  const wrapped = wrapSegmentKey(fileKey(await deriveRootKey('right', owner, light), fileId), segmentKey, {
    fileId,
    index: 0,
  });
  encodeSegment({ plaintext: randomBytes(100), index: 0, fileId, segmentKey, k: 2, n: 4 });
  const wrongKey = fileKey(await deriveRootKey('wrong', owner, light), fileId);
  assert.throws(
    () => unwrapSegmentKey(wrongKey, wrapped, { fileId, index: 0 }),
    hasCode('STORAGE_DECRYPT_FAILED'),
  );
});

/** Offsets where some 32-byte window of `haystack` equals one of `needle`'s. */
function sharedWindows(needle: Uint8Array, haystack: Uint8Array): number[] {
  const W = 32;
  const index = new Map<number, number[]>();
  const buf = Buffer.from(needle.buffer, needle.byteOffset, needle.length);
  for (let p = 0; p + W <= needle.length; p++) {
    const key = buf.readUIntBE(p, 6);
    const list = index.get(key);
    if (list) list.push(p);
    else index.set(key, [p]);
  }
  const hay = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.length);
  const found: number[] = [];
  for (let p = 0; p + W <= hay.length; p++) {
    const list = index.get(hay.readUIntBE(p, 6));
    if (list?.some((q) => buf.compare(hay, p, p + W, q, q + W) === 0)) found.push(p);
  }
  return found;
}

test('no piece contains any 32-byte window of the plaintext', () => {
  const plaintext = randomBytes(256 * 1024);
  // The scan finds plaintext when it is there (so its silence below means something).
  assert.deepEqual(
    sharedWindows(plaintext, Buffer.concat([randomBytes(7), plaintext.subarray(1000, 1032)])),
    [7],
  );
  for (const shape of [
    { k: 8, n: 16 },
    { k: 1, n: 2 },
  ]) {
    const { segment } = encode(plaintext, shape);
    for (const piece of segment.pieces) {
      assert.deepEqual(
        sharedWindows(plaintext, piece.data),
        [],
        `piece ${piece.index} of ${shape.k}/${shape.n}`,
      );
    }
  }
});

test('refuses shapes with k ≥ n, more than 256 pieces, or the wrong number of pieces to decode', () => {
  const plaintext = randomBytes(10);
  const base = { plaintext, index: 0, fileId: createFileId(), segmentKey: createSegmentKey() };
  for (const shape of [
    { k: 4, n: 4 },
    { k: 0, n: 4 },
    { k: 8, n: 257 },
    { k: 2.5, n: 4 },
  ]) {
    assert.throws(() => encodeSegment({ ...base, ...shape }), hasCode('STORAGE_BAD_INPUT'));
  }
  const encoded = encode(plaintext, { k: 2, n: 4 });
  assert.throws(
    () => decodeFrom(encoded, encoded.segment.pieces.map((p) => p.data).slice(1), { k: 2, n: 4 }),
    hasCode('STORAGE_BAD_INPUT'),
  );
});
