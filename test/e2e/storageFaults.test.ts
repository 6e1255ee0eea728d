/**
 * Storage under faults, on a devnet of two node processes with a short pending TTL: bad input at
 * every storage endpoint, a client killed mid-upload, a node killed mid-write. Each leaves the
 * node's store consistent and serving, and no space taken for long.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bytesToHex, type Hex, type LocalAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { storageDealsAbi } from '../../src/chain/abi/index.ts';
import { devAccounts } from '../../src/chain/devAccounts.ts';
import {
  type Domain,
  type Envelope,
  type MessageOf,
  messageDomain,
  signMessage,
} from '../../src/core/messages.ts';
import { statFile } from '../../src/storage/client/files.ts';
import { fetchManifest, getFile } from '../../src/storage/client/getFile.ts';
import { pieceRoot } from '../../src/storage/client/pieces.ts';
import { createStorageClient, type StorageClient } from '../../src/storage/client/storageClient.ts';
import { storeFile } from '../../src/storage/client/storeFile.ts';
import { encodeOrderHeader, ORDER_HEADER } from '../../src/storage/node/orderHeader.ts';
import { startTestNetwork, waitFor } from '../helpers.ts';

type Net = Awaited<ReturnType<typeof startTestNetwork>>;
type Stats = { capacity: number; used: number; reserved: number; pieces: number; maxPieceSize: number };

const PENDING_TTL = 6;
const CHILD = fileURLToPath(new URL('./fixtures/storeChild.ts', import.meta.url));
const MiB = 1024 * 1024;

const client = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());
const nonce = () => bytesToHex(randomBytes(32));
const inMinutes = (m = 5) => BigInt(Math.floor(Date.now() / 1000) + m * 60);
const makePiece = (size: number) => {
  const bytes = new Uint8Array(randomBytes(size));
  return { bytes, pieceId: bytesToHex(randomBytes(32)), pieceRoot: pieceRoot(bytes) };
};
type Piece = ReturnType<typeof makePiece>;

async function json(
  res: Response,
): Promise<{ status: number; body: { error?: { code: string } } & Record<string, unknown> }> {
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** Every file under a node's piece directory, temp files included. */
function pieceFiles(dataDir: string): { name: string; size: number }[] {
  return readdirSync(join(dataDir, 'pieces'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ name: e.name, size: statSync(join(e.parentPath, e.name)).size }));
}

describe('storage under faults', { timeout: 180_000 }, () => {
  let net: Net;
  let domain: Domain;
  let sc: StorageClient;
  let storedFileId: Hex;
  const nodeAt = (i: number) => net.nodes[i]!;
  const stats = async (i: number): Promise<Stats> =>
    (await fetch(`${nodeAt(i).url}/v1/storage/stats`)).json() as Promise<Stats>;
  const dealCount = () =>
    net.client.readContract({
      address: net.chain.deployment.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'dealCount',
    });

  const putOrder = (
    i: number,
    p: Piece,
    over: Partial<MessageOf<'PutOrder'>> = {},
    as: LocalAccount = client,
    d = domain,
  ) =>
    signMessage(as, d, 'PutOrder', {
      client: client.address,
      node: nodeAt(i).address,
      pieceId: p.pieceId,
      pieceRoot: p.pieceRoot,
      size: BigInt(p.bytes.length),
      dealId: 0n,
      expiry: inMinutes(),
      nonce: nonce(),
      ...over,
    });
  const getOrder = (
    i: number,
    p: Piece,
    over: Partial<MessageOf<'GetOrder'>> = {},
    as: LocalAccount = client,
  ) =>
    signMessage(as, domain, 'GetOrder', {
      client: client.address,
      node: nodeAt(i).address,
      pieceId: p.pieceId,
      size: BigInt(p.bytes.length),
      expiry: inMinutes(),
      nonce: nonce(),
      ...over,
    });
  const send = (i: number, method: string, pieceId: Hex, order?: Envelope | string, body?: BodyInit) =>
    fetch(`${nodeAt(i).url}/v1/pieces/${pieceId}`, {
      method,
      headers:
        order === undefined
          ? {}
          : { [ORDER_HEADER]: typeof order === 'string' ? order : encodeOrderHeader(order) },
      ...(body === undefined ? {} : { body, duplex: 'half' }),
    } as RequestInit);
  const post = (i: number, path: string, body: unknown) =>
    fetch(`${nodeAt(i).url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body:
        typeof body === 'string'
          ? body
          : JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    });
  const refused = async (res: Promise<Response>, status: number, code: string) => {
    const r = await json(await res);
    assert.equal(r.status, status, `${code}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error?.code, code);
  };

  before(async () => {
    net = await startTestNetwork({
      nodes: 2,
      validators: 1,
      epochLength: 10,
      // Free egress: this file tests orders, expiry and crashes; egress.test.ts tests payment.
      nodeArgs: () => [
        '--egress-price',
        '0',
        '--pending-ttl',
        String(PENDING_TTL),
        '--gc-every',
        '300',
        '--storage-capacity',
        String(1024 * MiB),
      ],
    });
    domain = messageDomain(net.chain.deployment.chainId, net.chain.deployment.contracts.Registry);
    sc = await createStorageClient({
      rpc: net.chain.rpc,
      deployment: net.chain.deployment,
      account: devAccounts(20)[19]!.account,
      secret: 'faults',
      redundancy: { k: 1, repair: 1, success: 2, total: 2 },
      manifestReplicas: 2,
      keyParams: { passes: 1, memoryKiB: 8192, parallelism: 1 },
    });
  });
  after(() => net?.stop());

  test('refuses bad input at every storage endpoint with its code, stores nothing and keeps serving', async () => {
    const p = makePiece(4096);
    const put = async (order: Envelope | string | undefined, body: BodyInit = p.bytes, id = p.pieceId) =>
      send(0, 'PUT', id, order, body);
    // Orders: missing, unreadable, forged, for another chain, expired, for another node or piece.
    await refused(put(undefined), 401, 'MISSING_ORDER');
    await refused(put('%%%'), 400, 'BAD_MESSAGE');
    await refused(put(await putOrder(0, p, {}, stranger)), 401, 'BAD_SIGNATURE');
    await refused(
      put(await putOrder(0, p, {}, client, messageDomain(1, net.chain.deployment.contracts.Registry))),
      403,
      'WRONG_CHAIN',
    );
    await refused(put(await putOrder(0, p, { expiry: 1000n })), 401, 'EXPIRED');
    await refused(put(await putOrder(0, p, { node: nodeAt(1).address })), 403, 'WRONG_NODE');
    await refused(put(await putOrder(0, p), p.bytes, bytesToHex(randomBytes(32))), 400, 'ORDER_MISMATCH');
    // Sizes and bytes: above the largest piece, longer or shorter than ordered, not the ordered root.
    await refused(put(await putOrder(0, p, { size: 64n * BigInt(MiB) + 1n })), 413, 'PIECE_TOO_LARGE');
    await refused(put(await putOrder(0, p), new Uint8Array(p.bytes.length + 1)), 413, 'BODY_TOO_LARGE');
    await refused(put(await putOrder(0, p), p.bytes.subarray(1)), 400, 'BODY_TOO_SHORT');
    const order = await putOrder(0, p);
    await refused(put(order, new Uint8Array(p.bytes.length)), 400, 'PIECE_HASH_MISMATCH');
    // The order was used by that attempt: the right bytes under it are a replay.
    await refused(put(order), 409, 'REPLAYED');

    // Reads and deletes of a piece the node does not hold, or under forged orders.
    await refused(send(0, 'GET', p.pieceId, await getOrder(0, p)), 404, 'PIECE_NOT_FOUND');
    await refused(send(0, 'GET', p.pieceId, await getOrder(0, p, {}, stranger)), 401, 'BAD_SIGNATURE');
    assert.equal((await send(0, 'HEAD', p.pieceId, await getOrder(0, p))).status, 404);
    assert.equal((await send(0, 'HEAD', p.pieceId)).status, 401);
    const del = await signMessage(client, domain, 'DeleteOrder', {
      client: client.address,
      node: nodeAt(0).address,
      pieceId: p.pieceId,
      expiry: inMinutes(),
      nonce: nonce(),
    });
    await refused(send(0, 'DELETE', p.pieceId, del), 404, 'PIECE_NOT_FOUND');

    // Deal bindings.
    const ids = [p.pieceId];
    await refused(post(0, '/v1/storage/deals', '{"dealId":'), 400, 'BAD_JSON');
    await refused(post(0, '/v1/storage/deals', { pieceIds: ids }), 400, 'BAD_DEAL_BINDING');
    await refused(post(0, '/v1/storage/deals', { dealId: '1', pieceIds: [] }), 400, 'BAD_DEAL_BINDING');
    await refused(post(0, '/v1/storage/deals', { dealId: '-1', pieceIds: ids }), 400, 'BAD_DEAL_BINDING');
    await refused(post(0, '/v1/storage/deals', { dealId: '1', pieceIds: ['0xzz'] }), 400, 'BAD_DEAL_BINDING');
    await refused(post(0, '/v1/storage/deals', { dealId: '999999', pieceIds: ids }), 404, 'DEAL_UNKNOWN');
    const many = Array.from({ length: (1 << 18) + 1 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}`);
    await refused(post(0, '/v1/storage/deals', { dealId: '1', pieceIds: many }), 413, 'TOO_MANY_PIECES');

    // Audits: not JSON, unsigned, from a key that is no validator, for another node, for no piece.
    const validator = privateKeyToAccount(net.validators[0]!.key);
    const audit = (over: Partial<MessageOf<'Audit'>> = {}, as: LocalAccount = validator) =>
      signMessage(as, domain, 'Audit', {
        validator: as.address,
        node: nodeAt(0).address,
        pieceId: p.pieceId,
        chunk: 0,
        epoch: 1n,
        nonce: nonce(),
        expiry: inMinutes(),
        ...over,
      });
    await refused(post(0, '/v1/storage/audit', 'not json'), 400, 'BAD_JSON');
    await refused(
      post(0, '/v1/storage/audit', { type: 'Audit', chainId: domain.chainId, message: {} }),
      401,
      'MISSING_SIGNATURE',
    );
    await refused(post(0, '/v1/storage/audit', await audit({}, stranger)), 403, 'NOT_REGISTERED');
    await refused(post(0, '/v1/storage/audit', await audit({ node: nodeAt(1).address })), 403, 'WRONG_NODE');
    await refused(post(0, '/v1/storage/audit', await audit()), 404, 'PIECE_NOT_FOUND');

    const s = await stats(0);
    assert.deepEqual(
      { used: s.used, reserved: s.reserved, pieces: s.pieces },
      { used: 0, reserved: 0, pieces: 0 },
    );
    assert.deepEqual(pieceFiles(nodeAt(0).dataDir), [], 'no file, not even a temp file, was left');
    assert.equal((await fetch(`${nodeAt(0).url}/health`)).status, 200);
    // Still stores a good piece afterwards.
    assert.equal((await put(await putOrder(0, p))).status, 201);
    assert.equal((await stats(0)).pieces, 1);
  });

  test('keeps the pieces of a file whose deal was bound past the pending TTL, and drops unclaimed ones', async () => {
    await waitFor('the unclaimed piece to be collected', async () => (await stats(0)).pieces === 0, 20_000);
    const data = new Uint8Array(randomBytes(300_000));
    const { fileId, dealId } = await storeFile(sc, { data });
    storedFileId = fileId;
    const held = [await stats(0), await stats(1)];
    assert.ok(
      held.every((s) => s.pieces >= 2),
      'each node holds a data piece and a manifest replica',
    );
    // A binding that does not list exactly the deal's pieces is refused.
    await refused(
      post(0, '/v1/storage/deals', { dealId: String(dealId), pieceIds: [bytesToHex(randomBytes(32))] }),
      400,
      'DEAL_ROOT_MISMATCH',
    );
    await new Promise((r) => setTimeout(r, (PENDING_TTL + 2) * 1000));
    assert.deepEqual([await stats(0), await stats(1)], held, 'nothing was collected');
    assert.ok(Buffer.from(await getFile(sc, { fileId })).equals(Buffer.from(data)));
    // `depin stat` probes each piece with HEAD: all healthy, and no piece bytes served for it.
    const egress = async () => {
      let total = 0;
      for (const i of [0, 1]) {
        const text = await (await fetch(`${nodeAt(i).url}/metrics`)).text();
        total += Number(/depin_node_storage_egress_bytes_total (\d+)/.exec(text)?.[1] ?? 0);
      }
      return total;
    };
    // Requests getFile cancelled may still be counted by the node a moment later: let it settle.
    let served = await egress();
    for (let last = -1; served !== last; served = await egress()) {
      last = served;
      await new Promise((r) => setTimeout(r, 300));
    }
    const st = await statFile(sc, fileId, dealId);
    assert.ok(st.segments.every((x) => x.healthy === x.pieces && x.pieces === 2));
    // Only the small sealed manifest is downloaded; a GET of a data piece would serve ~300 kB.
    const moved = (await egress()) - served;
    assert.ok(moved < 100_000, `the probes moved no piece bytes (moved ${moved})`);
  });

  test('a client killed mid-upload opens no deal, and the pieces it sent are collected after the pending TTL', async () => {
    const deals = await dealCount();
    const before = [await stats(0), await stats(1)];
    const child = spawn(
      process.execPath,
      [CHILD, net.chain.rpc, net.chain.deploymentPath, devAccounts(20)[18]!.privateKey, '256'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let finished = false;
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { done?: number; dealId?: string };
        if (msg.dealId) finished = true;
        if ((msg.done ?? 0) >= 3 * MiB || msg.dealId) resolve();
      });
      child.once('exit', () => resolve());
    });
    child.kill('SIGKILL');
    await exited;
    assert.equal(finished, false, 'the upload was still running when the client died');
    const landed = (await stats(0)).pieces + (await stats(1)).pieces - before[0]!.pieces - before[1]!.pieces;
    assert.ok(landed >= 6, `pieces of the first segments were stored (${landed})`);
    assert.equal(await dealCount(), deals, 'no deal was created');
    for (const i of [0, 1]) {
      await waitFor(
        `node ${i} to collect the orphaned pieces`,
        async () => {
          const s = await stats(i);
          return s.used === before[i]!.used && s.pieces === before[i]!.pieces && s.reserved === 0;
        },
        (PENDING_TTL + 10) * 1000,
      );
    }
  });

  test('a node killed mid-write restarts consistent: no partial piece, no temp file, used = what it lists', async () => {
    const node = nodeAt(1);
    // What node 1 holds now: its bound pieces of the stored file.
    const manifest = await fetchManifest(sc, storedFileId);
    const mine = manifest.segments
      .flatMap((s) => s.pieces)
      .filter((x) => x.node?.toLowerCase() === node.address);
    assert.ok(mine.length > 0);
    const before = await stats(1);
    // A 32 MiB piece whose body stops after 4 MiB: the node is mid-write when it dies.
    const big = makePiece(32 * MiB);
    const order = await putOrder(1, big);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= 4 * MiB) return new Promise(() => {}); // stall
        controller.enqueue(big.bytes.subarray(sent, sent + MiB));
        sent += MiB;
      },
    });
    const upload = send(1, 'PUT', big.pieceId, order, body).catch((e: Error) => e);
    await waitFor('the upload to be under way', async () => (await stats(1)).reserved === 32 * MiB, 10_000);
    await waitFor(
      'bytes to reach the disk',
      async () => pieceFiles(node.dataDir).some((f) => f.name.endsWith('.tmp') && f.size >= MiB),
      10_000,
    );
    await node.kill();
    assert.ok((await upload) instanceof Error, 'the upload failed with the node');
    await node.start();

    const after = await stats(1);
    assert.deepEqual(
      { used: after.used, pieces: after.pieces, reserved: after.reserved },
      { used: before.used, pieces: before.pieces, reserved: 0 },
    );
    const files = pieceFiles(node.dataDir);
    assert.deepEqual(
      files.filter((f) => f.name.endsWith('.tmp')),
      [],
      'no temp file survives the restart',
    );
    assert.equal(
      files.reduce((a, f) => a + f.size, 0),
      after.used,
      'used bytes are the bytes of the pieces on disk',
    );
    assert.equal(
      (await send(1, 'HEAD', big.pieceId, await getOrder(1, big))).status,
      404,
      'the partial piece is not listed',
    );
    for (const x of mine) {
      const res = await send(
        1,
        'GET',
        x.pieceId as Hex,
        await getOrder(1, {
          pieceId: x.pieceId as Hex,
          bytes: new Uint8Array(x.size),
          pieceRoot: x.pieceRoot as Hex,
        }),
      );
      assert.equal(res.status, 200);
      assert.equal(
        pieceRoot(new Uint8Array(await res.arrayBuffer())),
        x.pieceRoot,
        'earlier pieces are intact',
      );
    }

    const again = await send(1, 'PUT', big.pieceId, await putOrder(1, big), big.bytes);
    assert.equal(again.status, 201, await again.clone().text());
    const head = await send(1, 'HEAD', big.pieceId, await getOrder(1, big));
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('x-depin-piece-root'), big.pieceRoot);
    assert.equal((await stats(1)).used, before.used + 32 * MiB);
  });
});
