/**
 * Egress payments on the node side (docs/storage.md, "Egress payments"): a download of a priced
 * piece must carry the client's voucher (`x-depin-egress-voucher`) covering what it was already
 * served plus this piece; the node keeps the highest voucher per client in SQLite and redeems it on
 * `EgressPayments` from a loop: once a client's unredeemed Credits reach a threshold, when the
 * client asked to withdraw its deposit, and otherwise at least every `redeemEveryMs`.
 *
 * The price is this node's registered egress price (Registry `prices[1]`, Credits per GiB), read
 * from chain and cached briefly, like deposits.
 */

import type { IncomingMessage } from 'node:http';
import type { DatabaseSync } from 'node:sqlite';
import { type Hex, isAddress, parseEventLogs } from 'viem';
import { egressPaymentsAbi, registryAbi } from '../../chain/abi/index.ts';
import { DepinError, isDepinError } from '../../core/errors.ts';
import type { Route } from '../../core/http.ts';
import { repeatEvery } from '../../core/loop.ts';
import type { NodeComponents } from '../../node/service.ts';
import { chargeEgress, type EgressAccount, egressCost } from './egressCharge.ts';
import { createEgressLedger, type EgressLedgerEntry } from './egressLedger.ts';
import { egressDomain, isVoucherSigned, readVoucherHeader, voucherToJson } from './egressVoucher.ts';

export type EgressInit = {
  /** Redeem a client's vouchers once its unredeemed Credits reach this (default 100,000 = $1). */
  redeemThreshold?: bigint;
  /** Redeem any unredeemed voucher at least this often, ms (default 1 hour). */
  redeemEveryMs?: number;
  /** How often the redeem loop looks at the ledger, ms (default 5 s). */
  checkEveryMs?: number;
  /** How long on-chain reads (price, deposits) are reused, ms (default 5 s). */
  cacheMs?: number;
};

export type EgressComponents = Pick<NodeComponents, 'account' | 'clients' | 'deployment' | 'log' | 'metrics'>;

export type Egress = {
  /**
   * Charges a download of `size` bytes by `client` (its GetOrder already verified), keeping the
   * request's voucher. Errors: BAD_VOUCHER 400, VOUCHER_MISMATCH 400, WRONG_NODE 403,
   * BAD_VOUCHER_SIGNATURE 401, PAYMENT_REQUIRED 402, INSUFFICIENT_DEPOSIT 402, VOUCHER_STALE 409.
   */
  charge(req: IncomingMessage, client: Hex, size: number): Promise<void>;
  routes: Route[];
  /** One pass of the redeem loop; resolves to the Credits paid. */
  redeemDue(): Promise<bigint>;
  start(): void;
  stop(): Promise<void>;
};

type Deposit = { balance: bigint; unlockAt: bigint; redeemed: bigint };

/**
 * @example const egress = createEgress({ redeemEveryMs: 60_000 }, components, db);
 */
export function createEgress(init: EgressInit, c: EgressComponents, db: DatabaseSync): Egress {
  const log = c.log.child({ component: 'egress' });
  const me = c.account.address;
  const contracts = c.deployment.contracts;
  const pub = c.clients.public;
  const domain = egressDomain(c.deployment);
  const ledger = createEgressLedger(db);
  const cacheMs = init.cacheMs ?? 5000;
  const threshold = init.redeemThreshold ?? 100_000n;
  const redeemEvery = Math.ceil((init.redeemEveryMs ?? 3_600_000) / 1000);

  const charged = c.metrics.counter(
    'depin_node_egress_charged_credits_total',
    'Egress Credits charged to clients',
  );
  const redeemedCredits = c.metrics.counter(
    'depin_node_egress_redeemed_credits_total',
    'Egress Credits redeemed on chain (paid to this node)',
  );
  const shortCredits = c.metrics.counter(
    'depin_node_egress_short_credits_total',
    'Egress Credits vouchers owed beyond the client deposit at redemption',
  );
  const unredeemedGauge = c.metrics.gauge(
    'depin_node_egress_unredeemed_credits',
    'Egress Credits held in vouchers, not yet redeemed',
  );
  const refreshGauge = () => unredeemedGauge.set(Number(ledger.totalUnredeemed()));
  refreshGauge();

  let price: { value: bigint; at: number } | undefined;
  const readPrice = async (): Promise<bigint> => {
    if (price && Date.now() - price.at < cacheMs) return price.value;
    const node = await pub.readContract({
      address: contracts.Registry,
      abi: registryAbi,
      functionName: 'getNode',
      args: [me],
    });
    price = { value: BigInt(node.prices[1] ?? 0n), at: Date.now() };
    return price.value;
  };
  const deposits = new Map<string, Deposit & { at: number }>();
  const readDeposit = async (client: Hex, fresh = false): Promise<Deposit> => {
    const key = client.toLowerCase();
    const hit = deposits.get(key);
    if (!fresh && hit && Date.now() - hit.at < cacheMs) return hit;
    const [[balance, unlockAt], redeemed] = await Promise.all([
      pub.readContract({
        address: contracts.EgressPayments,
        abi: egressPaymentsAbi,
        functionName: 'accounts',
        args: [client],
      }),
      pub.readContract({
        address: contracts.EgressPayments,
        abi: egressPaymentsAbi,
        functionName: 'redeemed',
        args: [client, me],
      }),
    ]);
    const d = { balance, unlockAt, redeemed, at: Date.now() };
    deposits.set(key, d);
    return d;
  };

  const refuse = (
    code: 'PAYMENT_REQUIRED' | 'VOUCHER_STALE',
    held: EgressAccount,
    details: Record<string, unknown>,
  ) =>
    new DepinError(
      code,
      code === 'VOUCHER_STALE'
        ? `This node already holds a voucher for ${held.cumulative} Credits: ask GET /v1/storage/egress/:client what it holds and sign above it.`
        : `This download costs ${details.cost} Credits: send a voucher (${'x-depin-egress-voucher'}) for a cumulative of at least ${details.required}.`,
      { status: code === 'VOUCHER_STALE' ? 409 : 402, details },
    );

  const charge: Egress['charge'] = async (req, client, size) => {
    const p = await readPrice();
    const cost = egressCost(BigInt(size), p);
    if (cost === 0n) return;
    const voucher = readVoucherHeader(req);
    if (voucher) {
      if (voucher.client.toLowerCase() !== client.toLowerCase()) {
        throw new DepinError(
          'VOUCHER_MISMATCH',
          `The voucher is from ${voucher.client}, the order from ${client}.`,
        );
      }
      if (voucher.node.toLowerCase() !== me.toLowerCase()) {
        throw new DepinError('WRONG_NODE', `The voucher pays ${voucher.node}, not this node (${me}).`, {
          status: 403,
        });
      }
      if (!(await isVoucherSigned(domain, voucher))) {
        throw new DepinError(
          'BAD_VOUCHER_SIGNATURE',
          `The voucher was not signed by ${client}'s key under the EgressPayments domain.`,
          {
            status: 401,
          },
        );
      }
    }
    const decide = () => {
      const held = ledger.get(client);
      const d = chargeEgress(held, voucher?.cumulative, cost);
      if (!d.ok) {
        throw refuse(d.code, held, {
          node: me,
          price: p.toString(),
          size,
          cost: cost.toString(),
          held: held.cumulative.toString(),
          served: held.served.toString(),
          required: d.required.toString(),
        });
      }
      return d;
    };
    const first = decide();
    if (first.newVoucher) {
      // The client promises more: its deposit must cover what this node would hold unredeemed.
      const covers = (d: Deposit) => d.unlockAt === 0n && d.balance >= first.account.cumulative - d.redeemed;
      let dep = await readDeposit(client);
      if (!covers(dep)) dep = await readDeposit(client, true);
      if (!covers(dep)) {
        throw new DepinError(
          'INSUFFICIENT_DEPOSIT',
          dep.unlockAt !== 0n
            ? `${client} asked to withdraw its egress deposit: deposit again after withdrawing to download.`
            : `${client}'s egress deposit (${dep.balance} Credits) is below what it would owe this node (${first.account.cumulative - dep.redeemed}): deposit more on EgressPayments.`,
          {
            status: 402,
            details: {
              deposit: dep.balance.toString(),
              owed: (first.account.cumulative - dep.redeemed).toString(),
              withdrawalPending: dep.unlockAt !== 0n,
            },
          },
        );
      }
    }
    // Decide again: another request of this client may have been charged while the chain answered.
    const d = decide();
    ledger.charge(client, d.account, d.newVoucher && voucher ? voucher : undefined);
    charged.inc(Number(cost));
    refreshGauge();
  };

  const redeemOne = async (e: EgressLedgerEntry, now: number): Promise<bigint> => {
    try {
      const receipt = await c.clients.write({
        address: contracts.EgressPayments,
        abi: egressPaymentsAbi,
        functionName: 'redeem',
        args: [e.client, me, e.cumulative, e.signature],
      });
      const [ev] = parseEventLogs({ abi: egressPaymentsAbi, logs: receipt.logs, eventName: 'Redeemed' });
      const paid = ev?.args.paid ?? 0n;
      const short = ev?.args.short ?? 0n;
      ledger.redeemed(e.client, e.redeemed + paid, now);
      redeemedCredits.inc(Number(paid));
      if (short > 0n) {
        shortCredits.inc(Number(short));
        log.warn({ client: e.client, paid: String(paid), short: String(short) }, 'egress deposit ran short');
      } else
        log.info(
          { client: e.client, paid: String(paid), cumulative: String(e.cumulative) },
          'egress redeemed',
        );
      return paid;
    } catch (err) {
      // Back off until the next period either way; learn what the chain says was redeemed.
      const onChain = await readDeposit(e.client, true).catch(() => undefined);
      ledger.redeemed(e.client, onChain?.redeemed ?? e.redeemed, now);
      if (!isDepinError(err, 'NOTHING_TO_REDEEM')) {
        log.warn({ client: e.client, err: (err as Error).message }, 'egress redemption failed');
      }
      return 0n;
    }
  };

  const redeemDue: Egress['redeemDue'] = async () => {
    let paid = 0n;
    const now = Math.floor(Date.now() / 1000);
    for (const e of ledger.unredeemed()) {
      let due = e.cumulative - e.redeemed >= threshold || now - e.attemptedAt >= redeemEvery;
      if (!due) due = (await readDeposit(e.client)).unlockAt !== 0n; // the client is leaving: redeem now
      if (due) paid += await redeemOne(e, now);
    }
    refreshGauge();
    return paid;
  };

  const loop = repeatEvery(
    init.checkEveryMs ?? 5000,
    redeemDue,
    (e) => log.warn({ err: e.message }, 'egress redeem pass failed'),
    { unref: true },
  );

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/v1/storage/egress/:client',
      handler: async ({ params }) => {
        const client = params.client!;
        if (!isAddress(client, { strict: false })) {
          throw new DepinError('BAD_ADDRESS', `${client} is not an address.`);
        }
        const e = ledger.get(client);
        return {
          body: {
            client: e.client,
            node: me,
            price: (await readPrice()).toString(),
            cumulative: e.cumulative.toString(),
            served: e.served.toString(),
            redeemed: e.redeemed.toString(),
            voucher:
              e.signature === '0x'
                ? null
                : voucherToJson({
                    client: e.client,
                    node: me,
                    cumulative: e.cumulative,
                    signature: e.signature,
                  }),
          },
        };
      },
    },
  ];

  return {
    charge,
    routes,
    redeemDue,
    start: loop.start,
    stop: loop.stop,
  };
}
