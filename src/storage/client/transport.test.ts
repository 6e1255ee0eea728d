import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { isDepinError } from '../../core/errors.ts';
import { messageDomain } from '../../core/messages.ts';
import { getPiece, type StorageNodeRef } from './transport.ts';

const domain = messageDomain(31337, `0x${'11'.repeat(20)}`);
const account = privateKeyToAccount(generatePrivateKey());
const pieceId = `0x${'ab'.repeat(32)}` as const;
const piece = new Uint8Array(randomBytes(24 * 1024 * 1024 + 5));
let server: Server;
let node: StorageNodeRef;
/** What the stand-in node answers: the piece, a longer body, or a refusal. */
let answer: 'piece' | 'longer' | 'refuse' = 'piece';
let served = 0;

before(async () => {
  server = createServer((req, res) => {
    if (answer === 'refuse') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'PIECE_NOT_FOUND', message: 'no such piece' } }));
      return;
    }
    const body = answer === 'longer' ? Buffer.concat([piece, Buffer.alloc(10)]) : Buffer.from(piece);
    res.writeHead(200, { 'content-length': String(body.length) });
    // In 64 KiB writes, counting what the socket took, so a held body shows as not sent.
    let at = 0;
    const more = () => {
      while (at < body.length) {
        const part = body.subarray(at, at + 65536);
        at += part.length;
        served += part.length;
        if (!res.write(part)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
    req.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  node = {
    id: `0x${'22'.repeat(20)}`,
    signer: account.address,
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu',
  };
});
after(() => new Promise<void>((r) => server.close(() => r())));

const get = (extra: Partial<Parameters<typeof getPiece>[0]> = {}) =>
  getPiece({ account, domain, node, pieceId, size: piece.length, ...extra });

test('reads a piece straight into the buffer it is given', async () => {
  answer = 'piece';
  const into = new Uint8Array(piece.length);
  const got = await get({ into });
  assert.equal(got, into);
  assert.deepEqual(got, piece);
});

test('a held piece is answered but not read until its hold settles', async () => {
  answer = 'piece';
  served = 0;
  let release = () => {};
  const hold = new Promise<void>((r) => {
    release = r;
  });
  const pending = get({ hold });
  await new Promise((r) => setTimeout(r, 300));
  const sentWhileHeld = served;
  release();
  assert.deepEqual(await pending, piece);
  // Socket buffers on both sides take a few MiB; the rest waits for the reader.
  assert.ok(sentWhileHeld < piece.length / 2, `${sentWhileHeld} bytes sent while held`);
});

test('an abort while held ends the download at once', async () => {
  answer = 'piece';
  const controller = new AbortController();
  const pending = get({ hold: new Promise(() => {}), signal: controller.signal });
  await new Promise((r) => setTimeout(r, 100));
  controller.abort();
  await assert.rejects(pending);
});

test('refuses more bytes than ordered with STORAGE_SHORT_PIECE, and carries a node error code', async () => {
  answer = 'longer';
  await assert.rejects(get(), (e: unknown) => isDepinError(e, 'STORAGE_SHORT_PIECE'));
  answer = 'refuse';
  await assert.rejects(get(), (e: unknown) => isDepinError(e, 'PIECE_NOT_FOUND') && e.status === 404);
});
