/**
 * Egress payments on the client side (docs/storage.md, "Egress payments"): a deposit on
 * EgressPayments, and for each download from a priced node a voucher for the cumulative Credits this
 * client owes that node. The count per node lives in memory for the process; the first request to a
 * node asks it (`GET /v1/storage/egress/:client`) for the highest voucher it holds — checked to be
 * this client's own signature — so a new process continues the sequence. Requests to one node are
 * signed and sent one at a time up to the response headers (bodies still stream in parallel), so
 * vouchers reach each node in order and a refused one is taken back.
 */
import type { Hex } from 'viem';
import { egressPaymentsAbi } from '../../chain/abi/index.ts';
import { DepinError } from '../../core/errors.ts';
import { fetchJson } from '../../core/http.ts';
import { egressCost } from '../node/egressCharge.ts';
import {
  egressDomain,
  encodeVoucherHeader,
  isVoucherSigned,
  parseVoucher,
  signEgressVoucher,
} from '../node/egressVoucher.ts';
import { ensureCredits } from './credits.ts';
import type { Manifest } from './manifest.ts';
import type { StorageClient } from './storageClient.ts';
import type { StorageNodeRef } from './transport.ts';

/** The smallest automatic top-up, Credits ($1): fewer deposit transactions for small downloads. */
export const DEFAULT_EGRESS_TOP_UP = 100_000n;
/** The largest piece a node serves (64 MiB): bounds what a download of unknown size may cost. */
const MAX_PIECE_SIZE = 64n * 1024n * 1024n;

/**
 * What the payer needs of a node's answer, whatever HTTP client made it: the status, the JSON error
 * body of a refusal, and a way to let go of an answer it will retry.
 */
export type PaidAnswer = {
  status: number;
  errorBody(): Promise<unknown>;
  discard(): Promise<void>;
};

export type EgressPayer = {
  /**
   * Sends a download of `size` bytes (0: unknown, the node says) to `node` with a voucher that
   * pays for it, retrying once the node said what it expects. `send` signs a fresh order each time.
   */
  fetchPaid<T extends PaidAnswer>(
    node: StorageNodeRef,
    size: number,
    send: (voucherHeader: string | undefined) => Promise<T>,
  ): Promise<T>;
  /** Credits signed to nodes in this process and not known to be redeemed. */
  pending(): bigint;
};

type Session = { cumulative: bigint; redeemed: bigint; price: bigint };
type NodeError = { code?: string; details?: Record<string, string> };

/** What paying for egress needs of a storage client; a repairer builds one from its own account. */
export type EgressClient = Pick<StorageClient, 'account' | 'clients' | 'deployment' | 'egress'>;

const payers = new WeakMap<EgressClient, EgressPayer>();

/**
 * The storage client's payer (one per client object, so one count per node for the process).
 *
 * @example const bytes = await getPiece({ …, payer: egressPayer(sc) });
 */
export function egressPayer(sc: EgressClient): EgressPayer {
  let payer = payers.get(sc);
  if (!payer) {
    payer = createPayer(sc);
    payers.set(sc, payer);
  }
  return payer;
}

function createPayer(sc: EgressClient): EgressPayer {
  const domain = egressDomain(sc.deployment);
  const me = sc.account.address;
  const sessions = new Map<Hex, Promise<Session>>();
  // The same sessions once known, for `pending` (updated in place as vouchers are signed).
  const settled = new Map<Hex, Session>();
  const locks = new Map<Hex, Promise<unknown>>();

  const sync = async (node: StorageNodeRef): Promise<Session> => {
    const s = await fetchJson<{ price: string; cumulative: string; redeemed: string; voucher: unknown }>(
      `${node.endpoint.replace(/\/$/, '')}/v1/storage/egress/${me}`,
      { timeoutMs: 5000 },
    );
    // Only a voucher this client signed for this node counts: the node cannot make it owe more.
    let cumulative = 0n;
    if (s.voucher) {
      const v = parseVoucher(s.voucher);
      if (
        v.client.toLowerCase() === me.toLowerCase() &&
        v.node.toLowerCase() === node.id.toLowerCase() &&
        (await isVoucherSigned(domain, v))
      ) {
        cumulative = v.cumulative;
      }
    }
    const price = node.egressPrice ?? BigInt(s.price);
    return { cumulative, redeemed: BigInt(s.redeemed), price };
  };
  const session = (node: StorageNodeRef, fresh = false) => {
    let s = sessions.get(node.id);
    if (!s || fresh) {
      s = sync(node);
      sessions.set(node.id, s);
      s.then(
        (v) => settled.set(node.id, v),
        () => sessions.delete(node.id),
      );
    }
    return s;
  };
  const serially = <T>(node: Hex, fn: () => Promise<T>): Promise<T> => {
    const run = (locks.get(node) ?? Promise.resolve()).then(fn, fn);
    locks.set(
      node,
      run.catch(() => undefined),
    );
    return run;
  };

  const fetchPaid: EgressPayer['fetchPaid'] = <T extends PaidAnswer>(
    node: StorageNodeRef,
    size: number,
    send: (voucherHeader: string | undefined) => Promise<T>,
  ) =>
    serially(node.id, async () => {
      if (node.egressPrice === 0n) return send(undefined);
      let s = await session(node);
      if (s.price === 0n) return send(undefined);
      // What this download may cost at the registered price; a node asking more is refused.
      const maxCost = egressCost(size > 0 ? BigInt(size) : MAX_PIECE_SIZE, s.price);
      let cost = size > 0 ? maxCost : undefined;
      let topUps = 0;
      let resynced = false;
      for (let attempt = 0; ; attempt++) {
        const target = cost === undefined ? undefined : s.cumulative + cost;
        const voucher =
          target === undefined
            ? undefined
            : await signEgressVoucher(sc.account, domain, { node: node.id, cumulative: target });
        let res: T;
        try {
          res = await send(voucher && encodeVoucherHeader(voucher));
        } catch (e) {
          // No answer: the node may have kept the voucher, so count it (at worst one piece prepaid).
          if (target !== undefined) s.cumulative = target;
          throw e;
        }
        if (res.status >= 200 && res.status < 300) {
          if (target !== undefined) s.cumulative = target;
          return res;
        }
        if (attempt >= 3 || (res.status !== 402 && res.status !== 409)) return res;
        const err = ((await res.errorBody().catch(() => undefined)) as { error?: NodeError } | undefined)
          ?.error;
        if (err?.code === 'PAYMENT_REQUIRED' && err.details?.cost && err.details.required) {
          // The node asks `required` = what it served + this piece's cost. Pay a cost up to what the
          // registered price allows, and only on top of a count of its own signed vouchers.
          const asked = BigInt(err.details.cost);
          if (asked > maxCost) return res;
          if (BigInt(err.details.required) > s.cumulative + asked) {
            // The node holds more than this process counted: another process of this client paid it.
            if (resynced) return res;
            s = await session(node, true);
            resynced = true;
          } else if (asked === cost) return res;
          cost = asked;
        } else if (err?.code === 'VOUCHER_STALE' && !resynced) {
          // Another process of this client paid the node meanwhile: continue from what it holds.
          s = await session(node, true);
          resynced = true;
        } else if (err?.code === 'INSUFFICIENT_DEPOSIT' && sc.egress.autoDeposit && topUps++ === 0) {
          const owed = BigInt(err.details?.owed ?? '0');
          await ensureEgressDeposit(sc, owed + pending());
        } else return res;
        await res.discard(); // free the connection before retrying
      }
    });

  const pending = () => {
    let sum = 0n;
    for (const s of settled.values()) sum += s.cumulative - s.redeemed;
    return sum;
  };
  return { fetchPaid, pending };
}

/**
 * Credits this client has on deposit for egress and whether it asked to withdraw them.
 *
 * @example const { balance } = await readEgressDeposit(sc);
 */
export async function readEgressDeposit(sc: EgressClient): Promise<{ balance: bigint; unlockAt: bigint }> {
  const [balance, unlockAt] = await sc.clients.public.readContract({
    address: sc.deployment.contracts.EgressPayments,
    abi: egressPaymentsAbi,
    functionName: 'accounts',
    args: [sc.account.address],
  });
  return { balance, unlockAt };
}

/**
 * Deposits `amount` Credits for egress, minting the missing Credits from the client's Token first.
 *
 * @example await depositEgress(sc, 1_000_000n); // $10 of downloads
 */
export async function depositEgress(sc: EgressClient, amount: bigint): Promise<{ balance: bigint }> {
  if (amount <= 0n) throw new DepinError('EGRESS_BAD_AMOUNT', 'Deposit a positive number of Credits.');
  const c = sc.deployment.contracts;
  await ensureCredits(sc, amount);
  await sc.clients.write({
    address: c.EgressPayments,
    abi: egressPaymentsAbi,
    functionName: 'deposit',
    args: [amount],
  });
  return { balance: (await readEgressDeposit(sc)).balance };
}

/**
 * Tops the deposit up to at least `needed` Credits (by at least the client's `minTopUp`).
 * Errors: EGRESS_WITHDRAWAL_PENDING, EGRESS_DEPOSIT_FAILED (with the chain's error as cause).
 *
 * @example await ensureEgressDeposit(sc, 5_000n);
 */
export async function ensureEgressDeposit(sc: EgressClient, needed: bigint): Promise<void> {
  const { balance, unlockAt } = await readEgressDeposit(sc);
  if (unlockAt !== 0n) {
    throw new DepinError(
      'EGRESS_WITHDRAWAL_PENDING',
      'Nodes refuse downloads while this client withdraws its egress deposit: withdraw, then deposit again.',
      { details: { unlockAt: unlockAt.toString() } },
    );
  }
  if (balance >= needed) return;
  const amount = needed - balance > sc.egress.minTopUp ? needed - balance : sc.egress.minTopUp;
  try {
    await depositEgress(sc, amount);
  } catch (e) {
    throw new DepinError(
      'EGRESS_DEPOSIT_FAILED',
      `Could not deposit ${amount} Credits for egress: hold Token to mint Credits from, or deposit with depositEgress.`,
      {
        cause: e,
        details: { needed: needed.toString(), deposit: balance.toString(), code: (e as DepinError).code },
      },
    );
  }
}

/**
 * Before a download: tops the deposit up when it is below what fetching `manifest`'s pieces (k +
 * `extra` per segment, from the priciest holders) may cost plus what this process already owes.
 * Does nothing when the client turned automatic deposits off.
 *
 * @example await prepareEgress(sc, manifest, nodes, 2);
 */
export async function prepareEgress(
  sc: StorageClient,
  manifest: Manifest,
  nodes: Map<Hex, StorageNodeRef>,
  extra: number,
): Promise<void> {
  if (!sc.egress.autoDeposit) return;
  let cost = 0n;
  for (const segment of manifest.segments) {
    const costs = segment.pieces
      .map((p) => egressCost(BigInt(p.size), (p.node && nodes.get(p.node as Hex)?.egressPrice) || 0n))
      .sort((a, b) => (b > a ? 1 : -1));
    for (const c of costs.slice(0, manifest.k + extra)) cost += c;
  }
  if (cost === 0n) return;
  await ensureEgressDeposit(sc, cost + egressPayer(sc).pending());
}
