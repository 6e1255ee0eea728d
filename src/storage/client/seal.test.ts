import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { isDepinError } from '../../core/errors.ts';
import { createFileId } from './fileId.ts';
import { createSegmentKey } from './keys.ts';
import { openSegment, SEAL_TAG_BYTES, sealedSizeOf, sealSegment } from './seal.ts';

const hasCode = (code: string) => (error: unknown) => isDepinError(error, code);
const context = () => ({ fileId: createFileId(), index: 7, segmentKey: createSegmentKey() });

test('seals as AES-256-GCM with nonce = index (96-bit big-endian) and AAD = fileId ‖ uint32be(index)', () => {
  const ctx = { fileId: createFileId(), index: 0x01020304, segmentKey: createSegmentKey() };
  const plaintext = Buffer.from('the segment format is pinned by this test');
  const nonce = Buffer.from('0000000000000000' + '01020304', 'hex');
  const cipher = createCipheriv('aes-256-gcm', ctx.segmentKey, nonce);
  cipher.setAAD(Buffer.concat([Buffer.from(ctx.fileId.slice(2), 'hex'), Buffer.from('01020304', 'hex')]));
  const expected = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  assert.deepEqual(Buffer.from(sealSegment(plaintext, ctx)), expected);
});

test('opens what it sealed, for any size and index', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat({ max: 0xffffffff }), (plaintext, index) => {
      const ctx = { ...context(), index };
      const sealed = sealSegment(plaintext, ctx);
      assert.equal(sealed.length, sealedSizeOf(plaintext.length));
      assert.deepEqual(openSegment(sealed, ctx), plaintext);
    }),
    { numRuns: 100 },
  );
});

test('opens a sealed segment given as parts split anywhere, the tag straddling parts included', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 3000 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (plaintext, cuts) => {
        const ctx = context();
        const sealed = sealSegment(plaintext, ctx);
        const at = [...new Set(cuts.map((c) => c % (sealed.length + 1)))].sort((a, b) => a - b);
        const parts = [0, ...at].map((from, i) => sealed.subarray(from, [...at, sealed.length][i]));
        assert.deepEqual(openSegment(parts, ctx), plaintext);
      },
    ),
    { numRuns: 100 },
  );
});

test('seals into a given buffer and returns a view of it', () => {
  const ctx = context();
  const plaintext = new Uint8Array(3 * (1 << 20) + 5).fill(9);
  const into = new Uint8Array(sealedSizeOf(plaintext.length) + 100);
  const sealed = sealSegment(plaintext, ctx, into);
  assert.equal(sealed.buffer, into.buffer);
  assert.equal(sealed.length, plaintext.length + SEAL_TAG_BYTES);
  assert.deepEqual(openSegment(sealed, ctx), plaintext);
  assert.throws(() => sealSegment(plaintext, ctx, new Uint8Array(10)), hasCode('STORAGE_BAD_INPUT'));
});

test('any flipped bit of a sealed segment makes opening fail with STORAGE_DECRYPT_FAILED', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2000 }),
      fc.nat(),
      fc.nat({ max: 7 }),
      (plaintext, position, bit) => {
        const ctx = context();
        const sealed = sealSegment(plaintext, ctx);
        sealed[position % sealed.length]! ^= 1 << bit;
        assert.throws(() => openSegment(sealed, ctx), hasCode('STORAGE_DECRYPT_FAILED'));
      },
    ),
    { numRuns: 100 },
  );
});

test('a wrong key, index or file id, or a truncated segment, fails with STORAGE_DECRYPT_FAILED', () => {
  const ctx = context();
  const sealed = sealSegment(Buffer.from('secret data'), ctx);
  for (const wrong of [
    { ...ctx, segmentKey: createSegmentKey() },
    { ...ctx, index: ctx.index + 1 },
    { ...ctx, fileId: createFileId() },
  ]) {
    assert.throws(() => openSegment(sealed, wrong), hasCode('STORAGE_DECRYPT_FAILED'));
  }
  assert.throws(
    () => openSegment(sealed.subarray(0, sealed.length - 1), ctx),
    hasCode('STORAGE_DECRYPT_FAILED'),
  );
  assert.throws(() => openSegment(sealed.subarray(0, 10), ctx), hasCode('STORAGE_DECRYPT_FAILED'));
});

test('refuses a segment key that is not 32 bytes and an index outside uint32', () => {
  const ctx = context();
  assert.throws(
    () => sealSegment(new Uint8Array(1), { ...ctx, segmentKey: new Uint8Array(16) }),
    hasCode('STORAGE_BAD_INPUT'),
  );
  assert.throws(() => sealSegment(new Uint8Array(1), { ...ctx, index: -1 }), hasCode('STORAGE_BAD_INPUT'));
  assert.throws(
    () => sealSegment(new Uint8Array(1), { ...ctx, index: 2 ** 32 }),
    hasCode('STORAGE_BAD_INPUT'),
  );
});
