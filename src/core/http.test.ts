import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DepinError } from './errors.ts';
import { type JsonServer, startJsonServer } from './http.ts';
import { createLogger } from './log.ts';

describe('JSON server', () => {
  let server: JsonServer;
  const statuses: number[] = [];
  before(async () => {
    server = await startJsonServer({
      log: createLogger('test', { level: 'silent' }),
      maxBody: 1024,
      onRequest: (_route, status) => statuses.push(status),
      routes: [
        { method: 'POST', path: '/echo', handler: ({ body }) => ({ body: { got: body } }) },
        {
          method: 'PUT',
          path: '/raw/:name',
          raw: true,
          maxBody: 64 * 1024,
          handler: async ({ raw, params, body }) => {
            let bytes = 0;
            for await (const part of raw) bytes += part.length;
            return { body: { name: params.name, bytes, parsed: body !== undefined } };
          },
        },
        {
          method: 'PUT',
          path: '/refuse',
          raw: true,
          handler: () => {
            throw new DepinError('FULL', 'No room.', { status: 507 });
          },
        },
        { method: 'GET', path: '/bytes', handler: () => ({ body: new Uint8Array([1, 2, 3]) }) },
        {
          method: 'GET',
          path: '/stream',
          handler: () => ({
            body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
            headers: { 'x-kind': 'letters' },
          }),
        },
        {
          method: 'GET',
          path: '/broken',
          handler: () => ({
            body: Readable.from(
              (async function* () {
                yield Buffer.from('partial');
                throw new Error('disk gone');
              })(),
            ),
            headers: { 'content-length': '100' },
          }),
        },
      ],
    });
  });
  after(() => server.stop());

  it('parses JSON bodies and still limits them to the server maxBody', async () => {
    const ok = await fetch(`${server.url}/echo`, { method: 'POST', body: JSON.stringify({ a: 1 }) });
    assert.deepEqual(await ok.json(), { got: { a: 1 } });
    const big = await fetch(`${server.url}/echo`, { method: 'POST', body: JSON.stringify('x'.repeat(2000)) });
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error.code, 'BODY_TOO_LARGE');
  });

  it('hands raw routes the unparsed body, up to their own limit', async () => {
    const res = await fetch(`${server.url}/raw/p1`, { method: 'PUT', body: new Uint8Array(50_000) });
    assert.deepEqual(await res.json(), { name: 'p1', bytes: 50_000, parsed: false });
  });

  it('answers 413 to a raw body over the route limit, declared or streamed', async () => {
    const declared = await fetch(`${server.url}/raw/p2`, { method: 'PUT', body: new Uint8Array(100_000) });
    assert.equal(declared.status, 413);
    assert.equal((await declared.json()).error.code, 'BODY_TOO_LARGE');
    const streamed = await fetch(`${server.url}/raw/p3`, {
      method: 'PUT',
      body: Readable.toWeb(Readable.from([new Uint8Array(40_000), new Uint8Array(40_000)])),
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    assert.equal((await streamed.json()).error.code, 'BODY_TOO_LARGE');
  });

  it('delivers a refusal to a client still uploading a large body, and keeps serving', async () => {
    const res = await fetch(`${server.url}/refuse`, { method: 'PUT', body: new Uint8Array(8 << 20) });
    assert.equal(res.status, 507);
    assert.equal((await res.json()).error.code, 'FULL');
    const again = await fetch(`${server.url}/raw/p4`, { method: 'PUT', body: new Uint8Array(10) });
    assert.equal((await again.json()).bytes, 10);
  });

  it('sends bytes and streams as octet-stream with extra headers', async () => {
    const bytes = await fetch(`${server.url}/bytes`);
    assert.equal(bytes.headers.get('content-type'), 'application/octet-stream');
    assert.equal(bytes.headers.get('content-length'), '3');
    assert.deepEqual(new Uint8Array(await bytes.arrayBuffer()), new Uint8Array([1, 2, 3]));
    const stream = await fetch(`${server.url}/stream`);
    assert.equal(stream.headers.get('x-kind'), 'letters');
    assert.equal(await stream.text(), 'abcd');
  });

  it('cuts the connection when a streamed answer fails midway, so the client sees the failure', async () => {
    const res = await fetch(`${server.url}/broken`);
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer());
    assert.ok(statuses.includes(500));
  });
});
