import assert from 'node:assert/strict';
import { argon2Sync, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { isDepinError } from '../../core/errors.ts';
import { createFileId } from './fileId.ts';
import {
  createSegmentKey,
  deriveRootKey,
  fileKey,
  manifestId,
  manifestKey,
  ROOT_KEY_PARAMS,
  unwrapSegmentKey,
  wrapSegmentKey,
} from './keys.ts';

const OWNER = '0x1111111111111111111111111111111111111111';
const OTHER_OWNER = '0x2222222222222222222222222222222222222222';
/** Cheap Argon2id for tests; production uses ROOT_KEY_PARAMS. */
const light = { params: { passes: 1, memoryKiB: 64, parallelism: 1 } };

const hasCode = (code: string) => (error: unknown) => isDepinError(error, code);

test('derives the root key with Argon2id t=3, m=64 MiB, p=1 over salt "depin/v1/" ‖ owner bytes by default', async () => {
  const key = await deriveRootKey('correct horse battery staple', OWNER);
  const expected = argon2Sync('argon2id', {
    message: Buffer.from('correct horse battery staple'),
    nonce: Buffer.concat([Buffer.from('depin/v1/'), Buffer.from(OWNER.slice(2), 'hex')]),
    passes: 3,
    memory: 64 * 1024,
    parallelism: 1,
    tagLength: 32,
  });
  assert.deepEqual(ROOT_KEY_PARAMS, { passes: 3, memoryKiB: 65536, parallelism: 1 });
  assert.equal(Buffer.from(key).toString('hex'), expected.toString('hex'));
});

test('derives the same root key whatever the letter case of the owner address', async () => {
  const a = await deriveRootKey('secret', '0xabcdefabcdefabcdefabcdefabcdefabcdefabcd', light);
  const b = await deriveRootKey('secret', '0xABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD', light);
  assert.deepEqual(a, b);
});

test('derives unrelated root keys for another secret or another owner', async () => {
  const base = await deriveRootKey('secret', OWNER, light);
  assert.notDeepEqual(await deriveRootKey('secret!', OWNER, light), base);
  assert.notDeepEqual(await deriveRootKey('secret', OTHER_OWNER, light), base);
  assert.equal(base.length, 32);
});

test('refuses an empty secret, a malformed owner and impossible Argon2 parameters', async () => {
  await assert.rejects(deriveRootKey('', OWNER, light), hasCode('STORAGE_BAD_INPUT'));
  await assert.rejects(deriveRootKey('s', '0x1234' as `0x${string}`, light), hasCode('STORAGE_BAD_INPUT'));
  await assert.rejects(
    deriveRootKey('s', OWNER, { params: { passes: 1, memoryKiB: 1, parallelism: 1 } }),
    hasCode('STORAGE_BAD_INPUT'),
  );
});

test('file and manifest keys are HMAC-SHA512(rootKey, label ‖ fileId) cut to 32 bytes, and differ', async () => {
  const rootKey = await deriveRootKey('secret', OWNER, light);
  const fileId = createFileId();
  const hmac = (label: string) =>
    createHmac('sha512', rootKey)
      .update(label)
      .update(Buffer.from(fileId.slice(2), 'hex'))
      .digest()
      .subarray(0, 32);
  assert.deepEqual(Buffer.from(fileKey(rootKey, fileId)), hmac('file'));
  assert.deepEqual(Buffer.from(manifestKey(rootKey, fileId)), hmac('manifest'));
  assert.notDeepEqual(fileKey(rootKey, fileId), manifestKey(rootKey, fileId));
  assert.notDeepEqual(fileKey(rootKey, fileId), fileKey(rootKey, createFileId()));
});

test('the manifest id is a bytes32 fixed by root key and file id, and reveals neither', async () => {
  const rootKey = await deriveRootKey('secret', OWNER, light);
  const otherRoot = await deriveRootKey('secret', OTHER_OWNER, light);
  const fileId = createFileId();
  const id = manifestId(rootKey, fileId);
  assert.match(id, /^0x[0-9a-f]{64}$/);
  assert.equal(manifestId(rootKey, fileId), id);
  assert.notEqual(manifestId(otherRoot, fileId), id);
  assert.notEqual(manifestId(rootKey, createFileId()), id);
  assert.ok(!id.includes(fileId.slice(2, 18)));
});

test('rejects a file id that is not 32 bytes of hex and a root key that is not 32 bytes', async () => {
  const rootKey = await deriveRootKey('secret', OWNER, light);
  assert.throws(() => fileKey(rootKey, '0x12'), hasCode('STORAGE_BAD_INPUT'));
  assert.throws(() => fileKey(rootKey, `0x${'zz'.repeat(32)}`), hasCode('STORAGE_BAD_INPUT'));
  assert.throws(() => fileKey(rootKey.subarray(1), createFileId()), hasCode('STORAGE_BAD_INPUT'));
});

test('wraps and unwraps a segment key under the file key', async () => {
  const key = fileKey(await deriveRootKey('secret', OWNER, light), createFileId());
  const fileId = createFileId();
  for (const index of [0, 1, 0xffffffff]) {
    const segmentKey = createSegmentKey();
    const wrapped = wrapSegmentKey(key, segmentKey, { fileId, index });
    assert.match(wrapped, /^0x[0-9a-f]{120}$/);
    assert.deepEqual(unwrapSegmentKey(key, wrapped, { fileId, index }), segmentKey);
  }
});

test('a segment key wrapped twice gives different bytes (random nonces)', () => {
  const key = createSegmentKey();
  const fileId = createFileId();
  const segmentKey = createSegmentKey();
  assert.notEqual(
    wrapSegmentKey(key, segmentKey, { fileId, index: 0 }),
    wrapSegmentKey(key, segmentKey, { fileId, index: 0 }),
  );
});

test('unwrapping under the key of a wrong secret fails with STORAGE_DECRYPT_FAILED', async () => {
  const fileId = createFileId();
  const right = fileKey(await deriveRootKey('right secret', OWNER, light), fileId);
  const wrong = fileKey(await deriveRootKey('wrong secret', OWNER, light), fileId);
  const wrapped = wrapSegmentKey(right, createSegmentKey(), { fileId, index: 3 });
  assert.throws(
    () => unwrapSegmentKey(wrong, wrapped, { fileId, index: 3 }),
    hasCode('STORAGE_DECRYPT_FAILED'),
  );
});

test('a wrapped key moved to another segment or file, or altered, does not unwrap', () => {
  const key = createSegmentKey();
  const fileId = createFileId();
  const wrapped = wrapSegmentKey(key, createSegmentKey(), { fileId, index: 3 });
  assert.throws(
    () => unwrapSegmentKey(key, wrapped, { fileId, index: 4 }),
    hasCode('STORAGE_DECRYPT_FAILED'),
  );
  assert.throws(
    () => unwrapSegmentKey(key, wrapped, { fileId: createFileId(), index: 3 }),
    hasCode('STORAGE_DECRYPT_FAILED'),
  );
  for (const at of [2, 30, 80, 121]) {
    const flipped = (Number.parseInt(wrapped[at]!, 16) ^ 1).toString(16);
    const altered = `${wrapped.slice(0, at)}${flipped}${wrapped.slice(at + 1)}` as `0x${string}`;
    assert.throws(
      () => unwrapSegmentKey(key, altered, { fileId, index: 3 }),
      hasCode('STORAGE_DECRYPT_FAILED'),
    );
  }
  assert.throws(() => unwrapSegmentKey(key, '0x1234', { fileId, index: 3 }), hasCode('STORAGE_BAD_INPUT'));
});
