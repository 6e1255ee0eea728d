import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { bytesToHex, type Hex, type LocalAccount, numberToBytes } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { createFixture } from '../../../test/contracts/fixture.ts';
import { startJsonServer } from '../../core/http.ts';
import { createLogger } from '../../core/log.ts';
import {
  type Domain,
  type Envelope,
  type MessageOf,
  messageDomain,
  signMessage,
  verifyEnvelope,
} from '../../core/messages.ts';
import { createMetrics } from '../../core/metrics.ts';
import { createNonceStore } from '../../core/nonces.ts';
import { dealRoot } from '../client/manifest.ts';
import { CHUNK_SIZE, pieceRoot, verifyChunk } from '../client/pieces.ts';
import { encodeOrderHeader, ORDER_HEADER } from './orderHeader.ts';
import { type StorageComponents, type StorageInit, storage } from './storageService.ts';

const log = createLogger('test', { level: 'silent' });
const domain = messageDomain(31337, `0x${'11'.repeat(20)}`);
const operatorKey = generatePrivateKey();
const operator = privateKeyToAccount(operatorKey);
const signer = privateKeyToAccount(generatePrivateKey());
const client = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());
const validator = privateKeyToAccount(generatePrivateKey());
const validators = new Set([validator.address.toLowerCase()]);
// A real chain for the parts that read it (egress prices: this operator is not registered, so free).
const chain = createFixture();
after(async () => (await chain).close());

type Piece = { bytes: Uint8Array; pieceId: Hex; pieceRoot: Hex };
const makePiece = (size: number): Piece => {
  const bytes = randomBytes(size);
  return { bytes, pieceId: bytesToHex(randomBytes(32)), pieceRoot: pieceRoot(bytes) };
};
const nonce = () => bytesToHex(randomBytes(32));
const inFiveMinutes = () => BigInt(Math.floor(Date.now() / 1000) + 300);

/** A storage service on a real HTTP server, over a fresh data directory. */
async function startNode(
  init: Partial<StorageInit> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'depin-storage-')),
) {
  const metrics = createMetrics('depin_node');
  const nonceDb = new DatabaseSync(':memory:');
  const f = await chain;
  const components: StorageComponents = {
    clients: f.as(operatorKey),
    deployment: f.deployment,
    account: operator,
    signer,
    domain,
    log,
    metrics,
    nonces: createNonceStore(nonceDb),
    dataDir,
    isActiveValidator: async (address) => validators.has(address.toLowerCase()),
  };
  const service = storage({ capacity: 1n << 20n, maxPieceSize: 256 * 1024, gcEveryMs: 50, ...init })(
    components,
  );
  await service.start?.();
  const server = await startJsonServer({ log, routes: [...service.routes, metrics.route] });
  return {
    url: server.url,
    dataDir,
    service,
    server,
    async stop({ keepData = false } = {}) {
      await server.stop();
      await service.stop?.();
      nonceDb.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
type Node = Awaited<ReturnType<typeof startNode>>;

function putOrder(
  p: Piece,
  over: Partial<MessageOf<'PutOrder'>> = {},
  as: LocalAccount = client,
  d: Domain = domain,
): Promise<Envelope> {
  return signMessage(as, d, 'PutOrder', {
    client: client.address,
    node: operator.address,
    pieceId: p.pieceId,
    pieceRoot: p.pieceRoot,
    size: BigInt(p.bytes.length),
    dealId: 42n,
    expiry: inFiveMinutes(),
    nonce: nonce(),
    ...over,
  });
}
const getOrder = (p: Piece, over: Partial<MessageOf<'GetOrder'>> = {}, as: LocalAccount = client) =>
  signMessage(as, domain, 'GetOrder', {
    client: as.address,
    node: operator.address,
    pieceId: p.pieceId,
    size: BigInt(p.bytes.length),
    expiry: inFiveMinutes(),
    nonce: nonce(),
    ...over,
  });
const deleteOrder = (p: Piece, as: LocalAccount = client) =>
  signMessage(as, domain, 'DeleteOrder', {
    client: as.address,
    node: operator.address,
    pieceId: p.pieceId,
    expiry: inFiveMinutes(),
    nonce: nonce(),
  });

function send(
  node: Node,
  method: string,
  pieceId: Hex,
  order?: Envelope | string,
  body?: Uint8Array | Readable,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (order !== undefined)
    headers[ORDER_HEADER] = typeof order === 'string' ? order : encodeOrderHeader(order);
  return fetch(`${node.url}/v1/pieces/${pieceId}`, {
    method,
    headers,
    ...(body === undefined
      ? {}
      : body instanceof Readable
        ? { body: Readable.toWeb(body), duplex: 'half' }
        : { body }),
  } as RequestInit);
}
const post = (node: Node, path: string, body: unknown) =>
  fetch(`${node.url}${path}`, { method: 'POST', body: JSON.stringify(body) });

async function expectError(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, `${code}: ${text}`);
  assert.equal(JSON.parse(text).error.code, code);
}

/** Every piece file under the data directory (temp files included), with sizes. */
function diskFiles(node: Node): { name: string; size: number }[] {
  return readdirSync(join(node.dataDir, 'pieces'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ name: e.name, size: statSync(join(e.parentPath, e.name)).size }));
}
async function stats(
  node: Node,
): Promise<{ capacity: number; used: number; pieces: number; reserved: number }> {
  return (await fetch(`${node.url}/v1/storage/stats`)).json();
}

describe('storage service: uploads', () => {
  let node: Node;
  before(async () => {
    node = await startNode();
  });
  after(() => node.stop());

  it('stores a piece against a signed order and answers a receipt signed by the node key', async () => {
    const p = makePiece(10_000);
    const res = await send(node, 'PUT', p.pieceId, await putOrder(p), p.bytes);
    assert.equal(res.status, 201);
    const receipt = await res.json();
    const { message } = await verifyEnvelope(receipt, {
      type: 'PieceReceipt',
      domain,
      signerField: 'node',
      resolveKey: async () => signer.address,
    });
    assert.equal(message.node, operator.address);
    assert.equal(message.pieceId, p.pieceId);
    assert.equal(message.pieceRoot, p.pieceRoot);
    assert.equal(message.size, 10_000n);
    assert.deepEqual(diskFiles(node), [{ name: p.pieceId.slice(2), size: 10_000 }]);
    // A retry (fresh order) after a lost answer gets the same receipt without re-uploading.
    const again = await send(node, 'PUT', p.pieceId, await putOrder(p), p.bytes);
    assert.equal(again.status, 200);
    assert.deepEqual((await again.json()).message, receipt.message);
  });

  it('refuses a replayed order', async () => {
    const p = makePiece(2000);
    const order = await putOrder(p);
    assert.equal((await send(node, 'PUT', p.pieceId, order, p.bytes)).status, 201);
    await expectError(await send(node, 'PUT', p.pieceId, order, p.bytes), 409, 'REPLAYED');
  });

  it('refuses every bad order or body with the right code and stores nothing', async () => {
    const before = await stats(node);
    const filesBefore = diskFiles(node);
    const p = makePiece(5000);
    const other = makePiece(5000);
    const tampered = await putOrder(p);
    tampered.message.size = '4999';
    const cases: [string, () => Promise<Response>, number, string][] = [
      ['no order', async () => send(node, 'PUT', p.pieceId, undefined, p.bytes), 401, 'MISSING_ORDER'],
      [
        'order not base64 JSON',
        async () => send(node, 'PUT', p.pieceId, 'bm90IGpzb24', p.bytes),
        400,
        'BAD_MESSAGE',
      ],
      [
        'a GetOrder instead',
        async () => send(node, 'PUT', p.pieceId, await getOrder(p), p.bytes),
        400,
        'BAD_MESSAGE',
      ],
      [
        'another chain',
        async () =>
          send(node, 'PUT', p.pieceId, await putOrder(p, {}, client, { ...domain, chainId: 1 }), p.bytes),
        403,
        'WRONG_CHAIN',
      ],
      [
        'forged client',
        async () => send(node, 'PUT', p.pieceId, await putOrder(p, {}, stranger), p.bytes),
        401,
        'BAD_SIGNATURE',
      ],
      [
        'tampered after signing',
        async () => send(node, 'PUT', p.pieceId, tampered, p.bytes),
        401,
        'BAD_SIGNATURE',
      ],
      [
        'expired',
        async () => send(node, 'PUT', p.pieceId, await putOrder(p, { expiry: 1000n }), p.bytes),
        401,
        'EXPIRED',
      ],
      [
        'for another node',
        async () => send(node, 'PUT', p.pieceId, await putOrder(p, { node: stranger.address }), p.bytes),
        403,
        'WRONG_NODE',
      ],
      [
        'for another piece',
        async () => send(node, 'PUT', other.pieceId, await putOrder(p), p.bytes),
        400,
        'ORDER_MISMATCH',
      ],
      [
        'over the largest piece',
        async () => send(node, 'PUT', p.pieceId, await putOrder(p, { size: 256n * 1024n + 1n }), p.bytes),
        413,
        'PIECE_TOO_LARGE',
      ],
      [
        'body longer than ordered (declared)',
        async () => send(node, 'PUT', p.pieceId, await putOrder(p, { size: 4000n }), p.bytes),
        413,
        'BODY_TOO_LARGE',
      ],
      [
        'body longer than ordered (streamed)',
        async () =>
          send(
            node,
            'PUT',
            p.pieceId,
            await putOrder(p, { size: 4000n }),
            Readable.from([p.bytes.slice(0, 3000), p.bytes.slice(3000)]),
          ),
        413,
        'BODY_TOO_LARGE',
      ],
      [
        'body shorter than ordered',
        async () => send(node, 'PUT', p.pieceId, await putOrder(p), p.bytes.subarray(0, 4000)),
        400,
        'BODY_TOO_SHORT',
      ],
      [
        'bytes of another piece',
        async () => send(node, 'PUT', p.pieceId, await putOrder(p), other.bytes),
        400,
        'PIECE_HASH_MISMATCH',
      ],
    ];
    for (const [name, request, status, code] of cases) {
      await expectError(await request(), status, code).catch((e: Error) => {
        throw new Error(`${name}: ${e.message}`);
      });
    }
    assert.deepEqual(await stats(node), before);
    assert.deepEqual(diskFiles(node), filesBefore);
    assert.equal(node.service.store.get(p.pieceId), undefined);
  });
});

describe('storage service: capacity', () => {
  let node: Node;
  before(async () => {
    node = await startNode({ capacity: 600n * 1024n });
  });
  after(() => node.stop());

  it('lets concurrent uploads take the capacity only once, and refuses the rest with 507', async () => {
    const pieces = [makePiece(256 * 1024), makePiece(256 * 1024), makePiece(256 * 1024)];
    const answers = await Promise.all(
      pieces.map(async (p) => send(node, 'PUT', p.pieceId, await putOrder(p), p.bytes)),
    );
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 201, 507]);
    await expectError(answers.find((r) => r.status === 507)!, 507, 'CAPACITY_EXCEEDED');
    const s = await stats(node);
    assert.deepEqual(s, {
      capacity: 600 * 1024,
      used: 512 * 1024,
      reserved: 0,
      pieces: 2,
      maxPieceSize: 256 * 1024,
    });
    const small = makePiece(100 * 1024);
    await expectError(
      await send(node, 'PUT', small.pieceId, await putOrder(small), small.bytes),
      507,
      'CAPACITY_EXCEEDED',
    );
    assert.equal(diskFiles(node).length, 2);
  });
});

describe('storage service: downloads, deletes and collection', () => {
  let node: Node;
  before(async () => {
    node = await startNode();
  });
  after(() => node.stop());

  it('stores, serves, deletes for its owner and collects a piece', async () => {
    const p = makePiece(100_000);
    assert.equal((await send(node, 'PUT', p.pieceId, await putOrder(p), p.bytes)).status, 201);
    const got = await send(node, 'GET', p.pieceId, await getOrder(p));
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-length'), '100000');
    assert.equal(got.headers.get('x-depin-piece-root'), p.pieceRoot);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), new Uint8Array(p.bytes));
    // Any client may download (the order pays for egress); only the owner may delete.
    assert.equal((await send(node, 'GET', p.pieceId, await getOrder(p, {}, stranger))).status, 200);
    await expectError(
      await send(node, 'DELETE', p.pieceId, await deleteOrder(p, stranger)),
      403,
      'NOT_PIECE_OWNER',
    );
    const deleted = await send(node, 'DELETE', p.pieceId, await deleteOrder(p));
    assert.deepEqual(await deleted.json(), { pieceId: p.pieceId, deleted: true });
    await expectError(await send(node, 'GET', p.pieceId, await getOrder(p)), 404, 'PIECE_NOT_FOUND');
    await expectError(await send(node, 'DELETE', p.pieceId, await deleteOrder(p)), 404, 'PIECE_NOT_FOUND');
    for (let i = 0; i < 100 && diskFiles(node).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(diskFiles(node), []);
    assert.deepEqual(await stats(node), {
      capacity: 1 << 20,
      used: 0,
      reserved: 0,
      pieces: 0,
      maxPieceSize: 256 * 1024,
    });
  });

  it('refuses bad download orders', async () => {
    const p = makePiece(3000);
    assert.equal((await send(node, 'PUT', p.pieceId, await putOrder(p), p.bytes)).status, 201);
    const unknown = makePiece(10);
    await expectError(
      await send(node, 'GET', unknown.pieceId, await getOrder(unknown)),
      404,
      'PIECE_NOT_FOUND',
    );
    await expectError(
      await send(node, 'GET', p.pieceId, await getOrder(p, { size: 2999n })),
      400,
      'ORDER_MISMATCH',
    );
    await expectError(await send(node, 'GET', p.pieceId, await getOrder(p, { expiry: 5n })), 401, 'EXPIRED');
    await expectError(await send(node, 'GET', p.pieceId), 401, 'MISSING_ORDER');
    const order = await getOrder(p);
    assert.equal((await send(node, 'GET', p.pieceId, order)).status, 200);
    await expectError(await send(node, 'GET', p.pieceId, order), 409, 'REPLAYED');
  });

  it('collects a piece no deal claimed once the pending TTL has passed', async () => {
    let clock = 1_000_000;
    const timed = await startNode({ now: () => clock, pendingTtl: 100 });
    try {
      const p = makePiece(4000);
      const order = await putOrder(p, { expiry: 2_000_000n });
      assert.equal((await send(timed, 'PUT', p.pieceId, order, p.bytes)).status, 201);
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(diskFiles(timed).length, 1, 'kept before it expires');
      clock = 1_000_100;
      for (let i = 0; i < 100 && diskFiles(timed).length > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(diskFiles(timed), []);
      assert.equal((await stats(timed)).used, 0);
    } finally {
      await timed.stop();
    }
  });

  it('answers HEAD with the size and root of a held piece, 404 for others, and counts no egress', async () => {
    const p = makePiece(3000);
    assert.equal((await send(node, 'PUT', p.pieceId, await putOrder(p), p.bytes)).status, 201);
    const egress = () =>
      fetch(`${node.url}/metrics`)
        .then((r) => r.text())
        .then((t) => /depin_node_storage_egress_bytes_total (\d+)/.exec(t)?.[1] ?? '0');
    const before = await egress();
    const head = await send(node, 'HEAD', p.pieceId, await getOrder(p));
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '3000');
    assert.equal(head.headers.get('x-depin-piece-root'), p.pieceRoot);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    assert.equal(await egress(), before);
    const other = makePiece(100);
    assert.equal((await send(node, 'HEAD', other.pieceId, await getOrder(other))).status, 404);
    assert.equal((await send(node, 'HEAD', p.pieceId)).status, 401);
  });
});

describe('storage service: deal binding', () => {
  let clock = 1_000_000;
  const pieces = [makePiece(2000), makePiece(3000), makePiece(1000)];
  const ids = pieces.map((p) => p.pieceId);
  const deals = new Map<bigint, { root: Hex; endsAt: number | null }>([
    [7n, { root: dealRoot(ids), endsAt: 1_000_500 }],
    [8n, { root: dealRoot(ids), endsAt: null }],
  ]);
  let node: Node;
  before(async () => {
    node = await startNode({
      now: () => clock,
      pendingTtl: 100,
      dealGrace: 50,
      readDeal: async (id) => deals.get(id),
    });
    for (const p of pieces.slice(0, 2))
      assert.equal(
        (await send(node, 'PUT', p.pieceId, await putOrder(p, { expiry: 5_000_000n }), p.bytes)).status,
        201,
      );
  });
  after(() => node.stop());
  const bind = (body: unknown) => post(node, '/v1/storage/deals', body);
  const waitGc = () => new Promise((r) => setTimeout(r, 150));

  it('refuses malformed bindings, unknown deals and piece lists that do not rebuild the root', async () => {
    await expectError(await bind({ dealId: 7, pieceIds: ids }), 400, 'BAD_DEAL_BINDING');
    await expectError(await bind({ dealId: '0', pieceIds: ids }), 400, 'BAD_DEAL_BINDING');
    await expectError(await bind({ dealId: '7', pieceIds: [] }), 400, 'BAD_DEAL_BINDING');
    await expectError(await bind({ dealId: '7', pieceIds: ['0x12'] }), 400, 'BAD_DEAL_BINDING');
    await expectError(await bind({ dealId: '9', pieceIds: ids }), 404, 'DEAL_UNKNOWN');
    await expectError(await bind({ dealId: '7', pieceIds: ids.slice(0, 2) }), 400, 'DEAL_ROOT_MISMATCH');
  });

  it('keeps bound pieces past the pending TTL until the deal ends plus the grace, idempotently', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await bind({ dealId: '7', pieceIds: [...ids].reverse() });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { dealId: '7', bound: 2 });
    }
    clock = 1_000_200;
    await waitGc();
    assert.equal((await stats(node)).pieces, 2, 'bound pieces outlive the pending TTL');
    clock = 1_000_549;
    await waitGc();
    assert.equal((await stats(node)).pieces, 2, 'kept through the grace');
    clock = 1_000_550;
    await waitGc();
    assert.deepEqual(await stats(node), {
      capacity: 1 << 20,
      used: 0,
      reserved: 0,
      pieces: 0,
      maxPieceSize: 256 * 1024,
    });
  });

  it('lets a permanent deal keep a piece forever, and a shorter binding never shortens it', async () => {
    const more = [makePiece(1500), makePiece(2500)];
    const moreIds = more.map((p) => p.pieceId);
    deals.set(11n, { root: dealRoot(moreIds), endsAt: null });
    deals.set(12n, { root: dealRoot(moreIds), endsAt: clock - 100 });
    for (const p of more)
      assert.equal(
        (await send(node, 'PUT', p.pieceId, await putOrder(p, { expiry: 5_000_000n }), p.bytes)).status,
        201,
      );
    assert.deepEqual(await (await bind({ dealId: '11', pieceIds: moreIds })).json(), {
      dealId: '11',
      bound: 2,
    });
    assert.deepEqual(await (await bind({ dealId: '12', pieceIds: moreIds })).json(), {
      dealId: '12',
      bound: 2,
    });
    clock = 9_000_000;
    await waitGc();
    assert.equal((await stats(node)).pieces, 2);
    assert.equal((await stats(node)).used, 4000);
  });
});

describe('storage service: audits', () => {
  let node: Node;
  const p = makePiece(5 * CHUNK_SIZE + 10);
  before(async () => {
    node = await startNode();
    assert.equal((await send(node, 'PUT', p.pieceId, await putOrder(p), p.bytes)).status, 201);
  });
  after(() => node.stop());
  const audit = (over: Partial<MessageOf<'Audit'>> = {}, as: LocalAccount = validator) =>
    signMessage(as, domain, 'Audit', {
      validator: as.address,
      node: operator.address,
      pieceId: p.pieceId,
      chunk: 5,
      epoch: 9n,
      nonce: nonce(),
      expiry: inFiveMinutes(),
      ...over,
    });

  it('answers an active validator with the chunk, its proof and a signed AuditResponse', async () => {
    const request = await audit();
    const res = await post(node, '/v1/storage/audit', request);
    assert.equal(res.status, 200);
    const answer = await res.json();
    const chunk = Buffer.from(answer.chunk, 'base64');
    assert.equal(chunk.length, CHUNK_SIZE);
    assert.deepEqual(chunk.subarray(0, 10), Buffer.from(p.bytes.subarray(5 * CHUNK_SIZE)));
    assert.equal(answer.pieceRoot, p.pieceRoot);
    assert.ok(verifyChunk(p.pieceRoot, 5, chunk, answer.proof));
    const { message } = await verifyEnvelope(answer.response, {
      type: 'AuditResponse',
      domain,
      signerField: 'node',
      resolveKey: async () => signer.address,
    });
    const { hash } = await verifyEnvelope(request, { type: 'Audit', domain, signerField: 'validator' });
    assert.equal(message.audit, hash);
    assert.equal(message.chunk, 5);
    assert.equal(
      message.leaf,
      bytesToHex(
        createHash('sha256')
          .update(numberToBytes(5, { size: 4 }))
          .update(chunk)
          .digest(),
      ),
    );
    assert.equal(message.pieceRoot, p.pieceRoot);
  });

  it('refuses audits from non-validators, replays, other nodes, unknown pieces and chunks past the end', async () => {
    await expectError(
      await post(node, '/v1/storage/audit', await audit({}, stranger)),
      403,
      'NOT_REGISTERED',
    );
    const once = await audit({ chunk: 0 });
    assert.equal((await post(node, '/v1/storage/audit', once)).status, 200);
    await expectError(await post(node, '/v1/storage/audit', once), 409, 'REPLAYED');
    await expectError(
      await post(node, '/v1/storage/audit', await audit({ node: client.address })),
      403,
      'WRONG_NODE',
    );
    await expectError(
      await post(node, '/v1/storage/audit', await audit({ pieceId: makePiece(1).pieceId })),
      404,
      'PIECE_NOT_FOUND',
    );
    await expectError(
      await post(node, '/v1/storage/audit', await audit({ chunk: 6 })),
      400,
      'CHUNK_OUT_OF_RANGE',
    );
    await expectError(await post(node, '/v1/storage/audit', { hello: 1 }), 401, 'MISSING_SIGNATURE');
  });
});

describe('storage service: stats, metrics and restarts', () => {
  let node: Node;
  const p = makePiece(8000);
  before(async () => {
    node = await startNode();
    assert.equal((await send(node, 'PUT', p.pieceId, await putOrder(p), p.bytes)).status, 201);
  });
  after(() => node.stop());
  it('reports stats and gauges that agree with the files on disk', async () => {
    for (const size of [1, 1024, 33_333]) {
      const q = makePiece(size);
      assert.equal((await send(node, 'PUT', q.pieceId, await putOrder(q), q.bytes)).status, 201);
    }
    const files = diskFiles(node);
    const s = await stats(node);
    assert.equal(s.pieces, files.length);
    assert.equal(
      s.used,
      files.reduce((sum, f) => sum + f.size, 0),
    );
    assert.equal(s.used, 8000 + 1 + 1024 + 33_333);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^depin_node_storage_used_bytes ${s.used}$`, 'm'));
    assert.match(metrics, new RegExp(`^depin_node_storage_pieces ${s.pieces}$`, 'm'));
    assert.match(metrics, /^depin_node_storage_capacity_bytes 1048576$/m);
  });

  it('serves the same pieces after a restart on the same data directory', async () => {
    const before = await stats(node);
    await node.stop({ keepData: true });
    node = await startNode({}, node.dataDir);
    assert.deepEqual(await stats(node), before);
    const got = await send(node, 'GET', p.pieceId, await getOrder(p));
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), new Uint8Array(p.bytes));
  });
});
