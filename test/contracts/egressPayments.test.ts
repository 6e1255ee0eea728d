import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { type Hex, parseEventLogs } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { creditsAbi, egressPaymentsAbi } from '../../src/chain/abi/index.ts';
import { egressDomain, signEgressVoucher } from '../../src/storage/node/egressVoucher.ts';
import { buyCredits, createFixture, decoded, E18, type Fixture, rejectsWithCode } from './fixture.ts';

const CLIENTS = [10, 11];
const NODES = [13, 14];
const DELAY = 60n; // devnet EGRESS_WITHDRAW_DELAY

describe('EgressPayments', () => {
  let f: Fixture;
  let snap: Hex;

  const address = (i: number) => f.accounts[i]!.address;
  const account = (i: number) => privateKeyToAccount(f.accounts[i]!.privateKey);
  const ep = () => f.contracts.EgressPayments;
  const credits = (who: Hex) =>
    f.public.readContract({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'balanceOf',
      args: [who],
    });
  const deposited = async (client: number) =>
    (
      await f.public.readContract({
        address: ep(),
        abi: egressPaymentsAbi,
        functionName: 'accounts',
        args: [address(client)],
      })
    )[0];
  const deposit = (client: number, amount: bigint) =>
    decoded(
      f.as(client).write({ address: ep(), abi: egressPaymentsAbi, functionName: 'deposit', args: [amount] }),
    );
  const voucher = (client: number, node: number, cumulative: bigint) =>
    signEgressVoucher(account(client), egressDomain(f.deployment), { node: address(node), cumulative });
  const redeem = (v: { client: Hex; node: Hex; cumulative: bigint; signature: Hex }, caller = 0) =>
    decoded(
      f.as(caller).write({
        address: ep(),
        abi: egressPaymentsAbi,
        functionName: 'redeem',
        args: [v.client, v.node, v.cumulative, v.signature],
      }),
    );
  const redeemedEvent = (receipt: Awaited<ReturnType<typeof redeem>>) =>
    parseEventLogs({ abi: egressPaymentsAbi, logs: receipt.logs, eventName: 'Redeemed' })[0]!.args;

  before(async () => {
    f = await createFixture();
    for (const i of CLIENTS) {
      await buyCredits(f, i, 100n * E18);
    }
  });
  after(() => f.close());
  beforeEach(async () => {
    snap = await f.snapshot();
  });
  afterEach(async () => {
    await f.revert(snap);
  });

  test('a deposit moves Credits in; each voucher pays the node its increase over what was redeemed', async (t) => {
    const [client, node] = [CLIENTS[0]!, NODES[0]!];
    const before = await credits(address(client));
    await deposit(client, 10_000n);
    assert.equal(await credits(address(client)), before - 10_000n);
    assert.equal(await deposited(client), 10_000n);
    const first = await redeem(await voucher(client, node, 1_500n), 5); // anyone may relay
    assert.deepEqual(redeemedEvent(first), {
      client: address(client),
      node: address(node),
      cumulative: 1_500n,
      paid: 1_500n,
      short: 0n,
    });
    const second = await redeem(await voucher(client, node, 4_000n));
    assert.equal(await credits(address(node)), 4_000n);
    assert.equal(await deposited(client), 6_000n);
    assert.equal(
      await f.public.readContract({
        address: ep(),
        abi: egressPaymentsAbi,
        functionName: 'redeemed',
        args: [address(client), address(node)],
      }),
      4_000n,
    );
    // A pair's first redeem writes two new slots (the pair's total, the node's Credits); later ones update.
    t.diagnostic(`gas: first redeem ${first.gasUsed}, next ${second.gasUsed}`);
    assert.ok(first.gasUsed < 110_000n && second.gasUsed < 70_000n);
  });

  test('a voucher pays once: redeeming it or an older one again is refused', async () => {
    const [client, node] = [CLIENTS[0]!, NODES[0]!];
    await deposit(client, 10_000n);
    const older = await voucher(client, node, 1_000n);
    const latest = await voucher(client, node, 3_000n);
    await redeem(latest);
    const e = await rejectsWithCode(redeem(latest), 'NOTHING_TO_REDEEM');
    assert.deepEqual(e.details, {
      client: address(client),
      node: address(node),
      cumulative: '3000',
      redeemed: '3000',
    });
    await rejectsWithCode(redeem(older), 'NOTHING_TO_REDEEM');
    assert.equal(await credits(address(node)), 3_000n);
  });

  test('refuses a forged voucher: signed by someone else, or altered after signing', async () => {
    const [client, node] = [CLIENTS[0]!, NODES[0]!];
    await deposit(client, 10_000n);
    const byNode = await signEgressVoucher(account(node), egressDomain(f.deployment), {
      node: address(node),
      cumulative: 5_000n,
    });
    await rejectsWithCode(redeem({ ...byNode, client: address(client) }), 'INVALID_VOUCHER');
    const real = await voucher(client, node, 100n);
    await rejectsWithCode(redeem({ ...real, cumulative: 9_000n }), 'INVALID_VOUCHER');
    const otherChain = await signEgressVoucher(
      account(client),
      { ...egressDomain(f.deployment), chainId: f.deployment.chainId + 1 },
      { node: address(node), cumulative: 100n },
    );
    await rejectsWithCode(redeem(otherChain), 'INVALID_VOUCHER');
    assert.equal(await deposited(client), 10_000n);
  });

  test('a short deposit pays what is there, reports the rest, and the rest stays redeemable', async () => {
    const [client, node] = [CLIENTS[0]!, NODES[0]!];
    await deposit(client, 1_000n);
    const v = await voucher(client, node, 2_500n);
    const r = await redeem(v);
    assert.deepEqual(redeemedEvent(r), {
      client: address(client),
      node: address(node),
      cumulative: 2_500n,
      paid: 1_000n,
      short: 1_500n,
    });
    assert.equal(await credits(address(node)), 1_000n);
    const e = await rejectsWithCode(redeem(v), 'DEPOSIT_EMPTY');
    assert.equal(e.details.due, '1500');
    await deposit(client, 5_000n);
    assert.equal(redeemedEvent(await redeem(v)).paid, 1_500n);
    assert.equal(await credits(address(node)), 2_500n);
    assert.equal(await deposited(client), 3_500n);
  });

  test('a voucher pays only its own client–node pair', async () => {
    const [c0, c1] = [CLIENTS[0]!, CLIENTS[1]!];
    const [n0, n1] = [NODES[0]!, NODES[1]!];
    await deposit(c0, 10_000n);
    await deposit(c1, 10_000n);
    const v = await voucher(c0, n0, 2_000n);
    await rejectsWithCode(redeem({ ...v, node: address(n1) }), 'INVALID_VOUCHER');
    await rejectsWithCode(redeem({ ...v, client: address(c1) }), 'INVALID_VOUCHER');
    await redeem(v);
    // Each pair has its own cumulative: c0→n1 and c1→n0 start from zero.
    await redeem(await voucher(c0, n1, 500n));
    await redeem(await voucher(c1, n0, 700n));
    assert.equal(await credits(address(n0)), 2_700n);
    assert.equal(await credits(address(n1)), 500n);
    assert.equal(await deposited(c0), 7_500n);
    assert.equal(await deposited(c1), 9_300n);
  });

  test('withdrawal waits EGRESS_WITHDRAW_DELAY after the request, so nodes can redeem first', async () => {
    const client = CLIENTS[0]!;
    const w = (amount: bigint) =>
      decoded(
        f
          .as(client)
          .write({ address: ep(), abi: egressPaymentsAbi, functionName: 'withdraw', args: [amount] }),
      );
    const request = () =>
      decoded(
        f
          .as(client)
          .write({ address: ep(), abi: egressPaymentsAbi, functionName: 'requestWithdrawal', args: [] }),
      );
    await rejectsWithCode(request(), 'NO_DEPOSIT');
    await deposit(client, 10_000n);
    await rejectsWithCode(w(1n), 'WITHDRAWAL_NOT_REQUESTED');
    const r = await request();
    const [event] = parseEventLogs({
      abi: egressPaymentsAbi,
      logs: r.logs,
      eventName: 'WithdrawalRequested',
    });
    const unlockAt = event!.args.unlockAt;
    assert.equal(unlockAt, (await f.public.getBlock({ blockNumber: r.blockNumber })).timestamp + DELAY);
    await rejectsWithCode(request(), 'WITHDRAWAL_PENDING');
    const locked = await rejectsWithCode(w(1n), 'WITHDRAWAL_LOCKED');
    assert.equal(locked.details.unlockAt, String(unlockAt));
    // A node redeems during the delay.
    await redeem(await voucher(client, NODES[0]!, 4_000n));
    await f.increaseTime(DELAY);
    await rejectsWithCode(w(6_001n), 'INSUFFICIENT_DEPOSIT');
    await rejectsWithCode(w(0n), 'ZERO_AMOUNT');
    const before = await credits(address(client));
    await w(6_000n);
    assert.equal(await credits(address(client)), before + 6_000n);
    assert.equal(await deposited(client), 0n);
    await rejectsWithCode(w(1n), 'WITHDRAWAL_NOT_REQUESTED');
  });

  test('refuses an empty deposit and one beyond the caller’s Credits', async () => {
    await rejectsWithCode(deposit(CLIENTS[0]!, 0n), 'ZERO_AMOUNT');
    await rejectsWithCode(deposit(NODES[0]!, 1n), 'INSUFFICIENT_CREDITS');
  });
});
