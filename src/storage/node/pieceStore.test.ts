import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { bytesToHex, type Hex } from 'viem';
import { CHUNK_SIZE, pieceRoot, verifyChunk } from '../client/pieces.ts';
import { buildChunkTree, createChunkHasher } from './chunks.ts';
import { pathOf } from './pieceFiles.ts';
import { createPieceStore, type PieceStore } from './pieceStore.ts';

type Piece = { bytes: Uint8Array; pieceId: Hex; pieceRoot: Hex; size: number };
const CLIENT = '0x00000000000000000000000000000000000000c1' as Hex;

function makePiece(size: number): Piece {
  const bytes = randomBytes(size);
  return { bytes, pieceId: bytesToHex(randomBytes(32)), pieceRoot: pieceRoot(bytes), size };
}

async function* slices(bytes: Uint8Array, size = 7000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** Every file under the pieces directory, with its size. */
function filesOnDisk(dir: string): { name: string; size: number }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ name: e.name, size: statSync(join(e.parentPath, e.name)).size }));
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'NO_ERROR';
}

describe('piece store', () => {
  let root: string;
  let dir: string;
  let db: DatabaseSync;
  let store: PieceStore;
  const clock = 1_000;
  const open = (capacity = 10n * 1024n * 1024n) => {
    if (db?.isOpen) db.close();
    db = new DatabaseSync(join(root, 'storage.sqlite'));
    store = createPieceStore({ db, dir, capacity, now: () => clock });
    return store;
  };
  const put = (p: Piece, body: AsyncIterable<Uint8Array> = slices(p.bytes), extra = {}) =>
    store.put(
      { pieceId: p.pieceId, size: p.size, pieceRoot: p.pieceRoot, dealId: 7n, client: CLIENT, ...extra },
      body,
    );

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'depin-pieces-'));
    dir = join(root, 'pieces');
    open();
  });
  afterEach(() => {
    if (db.isOpen) db.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('stores a streamed piece under ab/cd/<id> and reads back the same bytes', async () => {
    const p = makePiece(50_000);
    const record = await put(p);
    assert.equal(record.existed, false);
    assert.equal(record.storedAt, clock);
    const hex = p.pieceId.slice(2);
    assert.equal(pathOf(dir, p.pieceId), join(dir, hex.slice(0, 2), hex.slice(2, 4), hex));
    assert.equal(statSync(pathOf(dir, p.pieceId)).size, 50_000);
    const { stream } = await store.read(p.pieceId);
    assert.deepEqual(await readAll(stream), Buffer.from(p.bytes));
    assert.deepEqual(store.stats(), { capacity: 10 * 1024 * 1024, used: 50_000, reserved: 0, pieces: 1 });
    assert.deepEqual(store.get(p.pieceId.toUpperCase().replace('0X', '0x') as Hex)?.dealId, 7n);
  });

  it('answers a repeated upload of the same piece from the index without reading the body', async () => {
    const p = makePiece(3000);
    await put(p);
    const untouched: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        throw new Error('the body should not be read');
      },
    };
    const again = await put(p, untouched);
    assert.equal(again.existed, true);
    assert.equal(store.stats().used, 3000);
  });

  it('refuses another piece under an id already in use', async () => {
    const p = makePiece(3000);
    await put(p);
    const other = { ...makePiece(3000), pieceId: p.pieceId };
    assert.equal(await codeOf(put(other)), 'PIECE_EXISTS');
  });

  it('stores nothing when the bytes do not hash to the pieceRoot', async () => {
    const p = makePiece(5000);
    const wrong = { ...p, pieceRoot: makePiece(5000).pieceRoot };
    assert.equal(await codeOf(put(wrong)), 'PIECE_HASH_MISMATCH');
    assert.deepEqual(filesOnDisk(dir), []);
    assert.equal(store.get(p.pieceId), undefined);
    assert.deepEqual(store.stats(), { capacity: 10 * 1024 * 1024, used: 0, reserved: 0, pieces: 0 });
  });

  it('stores nothing when the body is longer or shorter than the declared size', async () => {
    const p = makePiece(5000);
    assert.equal(await codeOf(put({ ...p, size: 4000 })), 'BODY_TOO_LARGE');
    assert.equal(await codeOf(put({ ...p, size: 6000 })), 'BODY_TOO_SHORT');
    assert.equal(await codeOf(put({ ...p, size: 0 })), 'BAD_SIZE');
    assert.deepEqual(filesOnDisk(dir), []);
    assert.equal(store.stats().reserved, 0);
  });

  it('removes the temp file when the upload stream fails midway', async () => {
    const p = makePiece(20_000);
    const broken = (async function* () {
      yield p.bytes.subarray(0, 5000);
      throw new Error('client went away');
    })();
    await assert.rejects(put(p, broken), /client went away/);
    assert.deepEqual(filesOnDisk(dir), []);
    assert.equal(store.stats().reserved, 0);
  });

  it('refuses a piece beyond capacity, counting uploads still in flight', async () => {
    open(10_000n);
    const first = makePiece(6000);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = (async function* () {
      yield first.bytes.subarray(0, 1000);
      await gate;
      yield first.bytes.subarray(1000);
    })();
    const pending = put(first, slow);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(store.stats().reserved, 6000);
    assert.equal(await codeOf(put(makePiece(5000))), 'CAPACITY_EXCEEDED');
    assert.equal(await codeOf(put({ ...makePiece(10), pieceId: first.pieceId })), 'PIECE_UPLOAD_IN_PROGRESS');
    release();
    await pending;
    assert.equal(await codeOf(put(makePiece(4001))), 'CAPACITY_EXCEEDED');
    await put(makePiece(4000));
    assert.deepEqual(store.stats(), { capacity: 10_000, used: 10_000, reserved: 0, pieces: 2 });
  });

  it('serves every chunk with a proof against the pieceRoot, the last one zero-padded', async () => {
    const p = makePiece(3 * CHUNK_SIZE + 100);
    await put(p);
    for (let i = 0; i < 4; i++) {
      const answer = await store.readChunk(p.pieceId, i);
      assert.equal(answer.chunk.length, CHUNK_SIZE);
      assert.equal(answer.pieceRoot, p.pieceRoot);
      assert.ok(verifyChunk(p.pieceRoot, i, answer.chunk, answer.proof));
    }
    const last = await store.readChunk(p.pieceId, 3);
    assert.deepEqual(Buffer.from(last.chunk.subarray(0, 100)), Buffer.from(p.bytes.subarray(3 * CHUNK_SIZE)));
    assert.ok(last.chunk.subarray(100).every((b) => b === 0));
    assert.equal(await codeOf(store.readChunk(p.pieceId, 4)), 'CHUNK_OUT_OF_RANGE');
    assert.equal(await codeOf(store.readChunk(makePiece(1).pieceId, 0)), 'PIECE_NOT_FOUND');
  });

  it('reports a piece whose file changed on disk as corrupt instead of proving wrong bytes', async () => {
    const p = makePiece(4 * CHUNK_SIZE);
    await put(p);
    const bytes = Buffer.from(p.bytes);
    bytes[CHUNK_SIZE + 3]! ^= 0xff;
    writeFileSync(pathOf(dir, p.pieceId), bytes);
    assert.equal(await codeOf(store.readChunk(p.pieceId, 1)), 'PIECE_CORRUPT');
    const first = await store.readChunk(p.pieceId, 0);
    assert.ok(verifyChunk(p.pieceRoot, 0, first.chunk, first.proof), 'the untouched chunks still prove');
  });

  it('hides a deleted piece at once and frees it at the next collection', async () => {
    const p = makePiece(4000);
    const kept = makePiece(1000);
    await put(p);
    await put(kept);
    store.markDeleted(p.pieceId);
    assert.equal(await codeOf(store.read(p.pieceId)), 'PIECE_NOT_FOUND');
    assert.equal(store.stats().used, 5000, 'still on disk until collected');
    assert.deepEqual(store.gc(clock), { removed: 1, freedBytes: 4000 });
    assert.equal(store.get(p.pieceId), undefined);
    assert.deepEqual(filesOnDisk(dir), [{ name: kept.pieceId.slice(2), size: 1000 }]);
    assert.deepEqual(store.stats(), { capacity: 10 * 1024 * 1024, used: 1000, reserved: 0, pieces: 1 });
  });

  it('collects pieces once they expire, and not before', async () => {
    const p = makePiece(2000);
    const forever = makePiece(2000);
    await put(p, undefined, { expiresAt: 2_000 });
    await put(forever);
    assert.equal(store.gc(1_999).removed, 0);
    assert.equal(store.gc(2_000).removed, 1);
    assert.ok(store.get(forever.pieceId));
    assert.equal(store.stats().pieces, 1);
  });

  it('accepts a fresh upload of a deleted piece before it was collected', async () => {
    const p = makePiece(2000);
    await put(p);
    store.markDeleted(p.pieceId);
    const again = await put(p);
    assert.equal(again.existed, false);
    assert.equal(store.get(p.pieceId)?.deleted, false);
    assert.equal(store.stats().used, 2000);
  });

  it('recovers from every crash point: temp file, renamed but unindexed, indexed but missing, truncated', async () => {
    const kept = makePiece(3000);
    const lost = makePiece(3000);
    const torn = makePiece(3000);
    await put(kept);
    await put(lost);
    await put(torn);
    // killed while writing: a temp file next to where the piece would go
    const tempDir = join(dir, 'ee', 'ff');
    mkdirSync(tempDir, { recursive: true });
    writeFileSync(join(tempDir, `.0x${'ee'.repeat(32)}.1.abc.tmp`), randomBytes(500));
    // killed after the rename, before the index row
    const unindexed = makePiece(700);
    mkdirSync(join(pathOf(dir, unindexed.pieceId), '..'), { recursive: true });
    writeFileSync(pathOf(dir, unindexed.pieceId), unindexed.bytes);
    // a file removed (or never written) behind the index's back, and one cut short
    rmSync(pathOf(dir, lost.pieceId));
    truncateSync(pathOf(dir, torn.pieceId), 100);
    db.close();
    db = new DatabaseSync(join(root, 'storage.sqlite'));
    store = createPieceStore({ db, dir, capacity: 10n * 1024n * 1024n });
    assert.deepEqual(
      store.recover(),
      { tempFiles: 0, orphanFiles: 0, missingRows: 0 },
      'already recovered at open',
    );
    assert.deepEqual(filesOnDisk(dir), [{ name: kept.pieceId.slice(2), size: 3000 }]);
    assert.equal(store.get(lost.pieceId), undefined);
    assert.equal(store.get(torn.pieceId), undefined);
    assert.deepEqual(store.stats(), { capacity: 10 * 1024 * 1024, used: 3000, reserved: 0, pieces: 1 });
  });

  it('stays consistent when the process is killed in the middle of a write', async () => {
    const done = makePiece(4000);
    await put(done);
    db.close();
    const storeUrl = new URL('./pieceStore.ts', import.meta.url).href;
    const script = `
      import { DatabaseSync } from 'node:sqlite';
      import { createPieceStore } from ${JSON.stringify(storeUrl)};
      const db = new DatabaseSync(${JSON.stringify(join(root, 'storage.sqlite'))});
      const store = createPieceStore({ db, dir: ${JSON.stringify(dir)}, capacity: 1n << 30n });
      setInterval(() => {}, 1000);
      async function* body() {
        for (let i = 0; i < 128; i++) {
          if (i === 64) process.stdout.write('writing\\n');
          if (i >= 64) await new Promise((r) => setTimeout(r, 5));
          yield new Uint8Array(64 * 1024).fill(i);
        }
      }
      await store.put({ pieceId: '0x${'ab'.repeat(32)}', size: 8 << 20, pieceRoot: '0x${'00'.repeat(32)}', dealId: 1n, client: '${CLIENT}' }, body());
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const temps = filesOnDisk(dir).filter((f) => f.name.endsWith('.tmp'));
    assert.equal(temps.length, 1, 'the kill left a half-written temp file');
    assert.ok(temps[0]!.size >= 4 << 20 && temps[0]!.size < 8 << 20, `${temps[0]!.size} bytes`);
    db = new DatabaseSync(join(root, 'storage.sqlite'));
    store = createPieceStore({ db, dir, capacity: 10n * 1024n * 1024n });
    assert.deepEqual(filesOnDisk(dir), [{ name: done.pieceId.slice(2), size: 4000 }]);
    assert.equal(store.get(`0x${'ab'.repeat(32)}`), undefined);
    assert.deepEqual(store.stats(), { capacity: 10 * 1024 * 1024, used: 4000, reserved: 0, pieces: 1 });
    const { stream } = await store.read(done.pieceId);
    assert.deepEqual(await readAll(stream), Buffer.from(done.bytes));
  });

  it('streams a 64 MiB piece in and out without holding it in memory', async () => {
    open(1n << 30n);
    const size = 64 << 20;
    // A repeating 1 MiB pattern keeps the test's own memory small too.
    const block = randomBytes(1 << 20);
    // Resident memory after a full collection, at every MiB in and every 8 MiB out: garbage not yet
    // collected does not count, a whole-piece buffer (64 MiB held until the end) would.
    const gc = exposedGc();
    gc();
    const before = process.memoryUsage().rss;
    let peak = 0;
    const sample = () => {
      gc();
      peak = Math.max(peak, process.memoryUsage().rss - before);
    };
    const body = async function* () {
      for (let i = 0; i < 64; i++) {
        sample();
        yield block;
      }
    };
    // The root from the streaming hasher (chunks.test.ts pins it to the client's pieceRoot), so the
    // test never holds 64 MiB either.
    const hasher = createChunkHasher();
    for await (const part of body()) hasher.update(part);
    const root = buildChunkTree(hasher.digest()).root;
    const pieceId = bytesToHex(randomBytes(32));
    await store.put({ pieceId, size, pieceRoot: root, dealId: 1n, client: CLIENT }, body());
    let bytes = 0;
    const { stream } = await store.read(pieceId);
    for await (const part of stream) {
      bytes += (part as Buffer).length;
      if (bytes % (8 << 20) === 0) sample();
    }
    sample();
    assert.equal(bytes, size);
    // The allocator keeps some freed buffers (~30 MiB measured); a whole-piece buffer adds 64 more.
    assert.ok(peak < 48 << 20, `no whole-piece buffering (peak +${peak >> 20} MiB)`);
  });
});

/** V8's full collection, which this test process was not started with `--expose-gc` for. */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
