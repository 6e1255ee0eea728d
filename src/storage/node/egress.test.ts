import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { bytesToHex, type Hex, type LocalAccount, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  approveToken,
  buyCredits,
  createFixture,
  E18,
  type Fixture,
} from '../../../test/contracts/fixture.ts';
import { creditsAbi, egressPaymentsAbi, registryAbi } from '../../chain/abi/index.ts';
import { startJsonServer } from '../../core/http.ts';
import { createLogger } from '../../core/log.ts';
import { type Domain, messageDomain, signMessage } from '../../core/messages.ts';
import { createMetrics } from '../../core/metrics.ts';
import { createNonceStore } from '../../core/nonces.ts';
import { pieceRoot } from '../client/pieces.ts';
import type { EgressInit } from './egress.ts';
import { egressCost, GIB } from './egressCharge.ts';
import { egressDomain, encodeVoucherHeader, signEgressVoucher, VOUCHER_HEADER } from './egressVoucher.ts';
import { encodeOrderHeader, ORDER_HEADER } from './orderHeader.ts';
import { storage } from './storageService.ts';

const log = createLogger('test', { level: 'silent' });
// 1 Credit per KiB: a 100,000-byte piece costs 98 Credits.
const PRICE = GIB / 1024n;
const [OPERATOR, CLIENT, POOR, STRANGER] = [13, 10, 11, 12];

describe('storage node: egress payments over HTTP against the chain', () => {
  let f: Fixture;
  let domain: Domain;
  let operator: LocalAccount;
  let client: LocalAccount;
  let poor: LocalAccount;
  let stranger: LocalAccount;
  const dataDir = mkdtempSync(join(tmpdir(), 'depin-egress-'));
  const piece = randomBytes(100_000);
  const pieceId = bytesToHex(randomBytes(32));
  const cost = egressCost(BigInt(piece.length), PRICE);

  const startNode = async (egress: EgressInit) => {
    const metrics = createMetrics('depin_node');
    const nonceDb = new DatabaseSync(':memory:');
    const service = storage({
      capacity: 1n << 20n,
      maxPieceSize: 256 * 1024,
      egress: { cacheMs: 0, ...egress },
    })({
      account: operator,
      signer: operator,
      domain,
      log,
      metrics,
      nonces: createNonceStore(nonceDb),
      dataDir,
      isActiveValidator: async () => false,
      clients: f.as(OPERATOR),
      deployment: f.deployment,
    });
    await service.start?.();
    const server = await startJsonServer({ log, routes: [...service.routes, metrics.route] });
    return {
      url: server.url,
      async stop() {
        await server.stop();
        await service.stop?.();
        nonceDb.close();
      },
    };
  };
  let node: Awaited<ReturnType<typeof startNode>>;

  const get = async (as: LocalAccount, voucher?: string) => {
    const order = await signMessage(as, domain, 'GetOrder', {
      client: as.address,
      node: operator.address,
      pieceId,
      size: BigInt(piece.length),
      expiry: BigInt(Math.floor(Date.now() / 1000) + 300),
      nonce: bytesToHex(randomBytes(32)),
    });
    return fetch(`${node.url}/v1/pieces/${pieceId}`, {
      headers: {
        [ORDER_HEADER]: encodeOrderHeader(order),
        ...(voucher ? { [VOUCHER_HEADER]: voucher } : {}),
      },
    });
  };
  const voucher = async (cumulative: bigint, as = client, to = operator.address) =>
    encodeVoucherHeader(await signEgressVoucher(as, egressDomain(f.deployment), { node: to, cumulative }));
  const refusal = async (res: Response, status: number, code: string) => {
    const body = (await res.json()) as { error: { code: string; details?: Record<string, string> } };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error.code, code);
    return body.error.details ?? {};
  };
  const credits = (who: Hex) =>
    f.public.readContract({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'balanceOf',
      args: [who],
    });
  const status = async () =>
    (await (await fetch(`${node.url}/v1/storage/egress/${client.address}`)).json()) as Record<
      string,
      unknown
    >;

  before(async () => {
    f = await createFixture();
    domain = messageDomain(f.deployment.chainId, f.contracts.Registry);
    [operator, client, poor, stranger] = [OPERATOR, CLIENT, POOR, STRANGER].map((i) =>
      privateKeyToAccount(f.accounts[i]!.privateKey),
    ) as [LocalAccount, LocalAccount, LocalAccount, LocalAccount];
    await approveToken(f, OPERATOR, f.contracts.Registry);
    await f.as(OPERATOR).write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'register',
      args: [
        {
          signer: operator.address,
          services: 1,
          capacity: 1n << 20n,
          h3: 0n,
          region: toHex('local', { size: 8 }),
          prices: [1n, PRICE, 0n],
          endpoint: 'http://127.0.0.1:1',
        },
        250n * E18,
      ],
    });
    await buyCredits(f, CLIENT, E18);
    await f.as(CLIENT).write({
      address: f.contracts.EgressPayments,
      abi: egressPaymentsAbi,
      functionName: 'deposit',
      args: [10n * cost],
    });
    node = await startNode({ redeemThreshold: 10n ** 30n });
    const put = await signMessage(client, domain, 'PutOrder', {
      client: client.address,
      node: operator.address,
      pieceId,
      pieceRoot: pieceRoot(piece),
      size: BigInt(piece.length),
      dealId: 1n,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 300),
      nonce: bytesToHex(randomBytes(32)),
    });
    const stored = await fetch(`${node.url}/v1/pieces/${pieceId}`, {
      method: 'PUT',
      headers: { [ORDER_HEADER]: encodeOrderHeader(put) },
      body: piece,
    });
    assert.equal(stored.status, 201);
  });
  after(async () => {
    await node?.stop();
    await f?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a download without a voucher with 402 PAYMENT_REQUIRED and the amount due', async () => {
    const details = await refusal(await get(client), 402, 'PAYMENT_REQUIRED');
    assert.deepEqual(
      { cost: details.cost, required: details.required, price: details.price, held: details.held },
      { cost: String(cost), required: String(cost), price: String(PRICE), held: '0' },
    );
  });

  it('serves a download whose voucher covers it, and says what it holds for the client', async () => {
    const low = await get(client, await voucher(cost - 1n));
    assert.equal((await refusal(low, 402, 'PAYMENT_REQUIRED')).required, String(cost));
    const res = await get(client, await voucher(cost));
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(piece));
    const second = await get(client, await voucher(2n * cost));
    assert.equal(second.status, 200);
    await second.arrayBuffer();
    const s = await status();
    assert.equal(s.cumulative, String(2n * cost));
    assert.equal(s.served, String(2n * cost));
    assert.equal(s.price, String(PRICE));
    assert.equal((s.voucher as { cumulative: string }).cumulative, String(2n * cost));
  });

  it('refuses stale, forged, misaddressed and malformed vouchers with stable codes', async () => {
    const stale = await refusal(await get(client, await voucher(2n * cost)), 409, 'VOUCHER_STALE');
    assert.equal(stale.held, String(2n * cost));
    // Signed by someone else in the client's name.
    const forged = await signEgressVoucher(stranger, egressDomain(f.deployment), {
      node: operator.address,
      cumulative: 3n * cost,
    });
    await refusal(
      await get(client, encodeVoucherHeader({ ...forged, client: client.address })),
      401,
      'BAD_VOUCHER_SIGNATURE',
    );
    await refusal(await get(client, await voucher(3n * cost, client, stranger.address)), 403, 'WRONG_NODE');
    await refusal(await get(client, await voucher(3n * cost, stranger)), 400, 'VOUCHER_MISMATCH');
    await refusal(await get(client, 'not*base64'), 400, 'BAD_VOUCHER');
    await refusal(await get(client, Buffer.from('{"client":1}').toString('base64url')), 400, 'BAD_VOUCHER');
    assert.equal((await status()).cumulative, String(2n * cost), 'nothing refused changed the ledger');
  });

  it('refuses with 402 INSUFFICIENT_DEPOSIT a client whose deposit would not cover what it owes', async () => {
    const details = await refusal(await get(poor, await voucher(cost, poor)), 402, 'INSUFFICIENT_DEPOSIT');
    assert.deepEqual(details, { deposit: '0', owed: String(cost), withdrawalPending: false });
  });

  it('keeps vouchers across a restart, redeems them on chain and reports the redeemed Credits', async () => {
    await node.stop();
    node = await startNode({ redeemThreshold: 1n, checkEveryMs: 50 });
    const before = await credits(operator.address);
    const deadline = Date.now() + 10_000;
    while ((await credits(operator.address)) === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await credits(operator.address)) - before, 2n * cost);
    const redeemed = await f.public.readContract({
      address: f.contracts.EgressPayments,
      abi: egressPaymentsAbi,
      functionName: 'redeemed',
      args: [client.address, operator.address],
    });
    assert.equal(redeemed, 2n * cost);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^depin_node_egress_redeemed_credits_total ${2n * cost}$`, 'm'));
    assert.match(metrics, /^depin_node_egress_unredeemed_credits 0$/m);
    assert.equal((await status()).redeemed, String(2n * cost));
    // The sequence continues from what the node holds.
    const next = await get(client, await voucher(3n * cost));
    assert.equal(next.status, 200);
    await next.arrayBuffer();
  });
});
