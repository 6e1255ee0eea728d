/**
 * The storage settlement of one closed epoch: a pure, deterministic function of the agreed
 * evidence, the deals on chain, the placements and the previous settlement's state, so every honest
 * validator signs the same `StorageSettlement` (docs/storage.md §Payments and reputation).
 *
 * - Reputation: each storage-audit record of the epoch updates its node's beta reputation
 *   (reputation.ts); a node falling under the threshold is suspended, one climbing back is
 *   reinstated.
 * - Proven loss: a node that answered an audit without the data (PIECE_MISSING, PIECE_CORRUPT,
 *   BAD_PROOF), reported by validators holding more than a third of the stake, is slashed
 *   SLASH_STORAGE_LOSS_BPS of its stake and suspended (so its pieces are repaired elsewhere).
 *   Being offline is never proven loss.
 * - Payments: each deal pays its epoch price (term: pricePerEpoch; permanent: the network rate for
 *   its size) over its placements by size. A placement on a suspended node, or on a node that failed
 *   an audit this epoch, is not paid: its share joins the withheld pool. Shares are split by largest
 *   remainder over all placements, then the ineligible ones withheld, so that small deals still pay
 *   someone every epoch.
 * - Repairs: whoever re-placed a lost piece is paid STORAGE_REPAIR_FEE_EPOCHS epochs of that
 *   piece's share, out of the withheld pool (never more than the pool holds).
 */
import { encodeAbiParameters, encodePacked, type Hex, hexToBigInt, keccak256 } from 'viem';
import { EVIDENCE_KIND, OUTCOME, REASON } from '../../core/evidence.ts';
import { buildRewardTree, type RewardTree } from '../../core/merkle.ts';
import type { VerifiedEvidence } from '../../validator/epochResult.ts';
import { AUDIT_SLOT_BASE } from './audit.ts';
import {
  INITIAL_REPUTATION,
  type Reputation,
  type ReputationParams,
  shouldSuspend,
  updateReputation,
} from './reputation.ts';
import { ACTION, type NodeAction } from './settlementSignature.ts';

/** Audit evidence slots: AUDIT_SLOT_BASE ≤ slot < AUDIT_SLOT_BASE + MAX_AUDIT_SLOTS. */
export const MAX_AUDIT_SLOTS = 1000;

const LOSS_REASONS: ReadonlySet<number> = new Set([
  REASON.PIECE_MISSING,
  REASON.PIECE_CORRUPT,
  REASON.BAD_PROOF,
]);

/** What a settlement leaves for the next one; committed on chain by `stateHash`. */
export type StorageState = {
  epoch: bigint;
  cumulative: { account: Hex; amount: bigint }[];
  reputations: { node: Hex; alpha: bigint; beta: bigint }[];
  suspended: Hex[];
  withheld: bigint;
};

export const EMPTY_STATE: StorageState = {
  epoch: -1n,
  cumulative: [],
  reputations: [],
  suspended: [],
  withheld: 0n,
};

export type SettlementInput = {
  epoch: bigint;
  previous: StorageState;
  /** Registered nodes at the epoch's snapshot (active and suspended), with their stake. */
  nodes: readonly { id: Hex; stake: bigint; status: number }[];
  validators: readonly { id: Hex; stake: bigint }[];
  evidence: readonly VerifiedEvidence[];
  /** What each deal pays in this settlement (see {@link dealPayment}; 0 or absent: not payable). */
  deals: readonly { dealId: bigint; amount: bigint }[];
  placements: readonly { dealId: bigint; pieceId: Hex; size: number; node: Hex }[];
  /** Pieces re-placed during this epoch, by whom. */
  repairs: readonly { dealId: bigint; pieceId: Hex; size: number; repairer: Hex }[];
  slashLossBps: bigint;
  repairFeeEpochs: bigint;
  reputation: ReputationParams;
};

export type Settlement = {
  epoch: bigint;
  state: StorageState;
  stateHash: Hex;
  actions: NodeAction[];
  total: bigint;
  root: Hex;
  tree: RewardTree;
  /** This epoch's allocations by account (payments and repair fees). */
  allocations: Map<Hex, bigint>;
};

const lower = (x: string) => x.toLowerCase() as Hex;

/**
 * What a deal pays in one settlement: its epoch price for every epoch from `from` to `to`
 * (inclusive) in which it runs (`startEpoch ≤ e < endEpoch`). A settlement covers the epochs since
 * the last one on chain: normally just its own, but after an epoch whose posting window closed
 * without a quorum, that one too, so nodes are paid for every epoch they stored.
 *
 * @example dealPayment({ startEpoch: 3n, endEpoch: 10n }, 5n, 8n, 12n); // 2 epochs (8, 9) → 10n
 */
export function dealPayment(
  deal: { startEpoch: bigint; endEpoch: bigint },
  perEpoch: bigint,
  from: bigint,
  to: bigint,
): bigint {
  const lo = from > deal.startEpoch ? from : deal.startEpoch;
  const hi = to + 1n < deal.endEpoch ? to + 1n : deal.endEpoch;
  return hi > lo ? (hi - lo) * perEpoch : 0n;
}

export function computeSettlement(input: SettlementInput): Settlement {
  const nodes = new Map(input.nodes.map((n) => [lower(n.id), n]));
  const validators = new Map(input.validators.map((v) => [lower(v.id), v]));
  const totalStake = input.validators.reduce((a, v) => a + v.stake, 0n);

  // Audit evidence of the epoch: one record per (validator, node, slot), the lowest hash winning.
  const audits: VerifiedEvidence[] = [];
  const seen = new Set<string>();
  for (const e of [...input.evidence].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))) {
    const v = lower(e.validator);
    const s = lower(e.subject);
    if (e.kind !== EVIDENCE_KIND.storageAudit || !validators.has(v) || !nodes.has(s)) continue;
    if (e.slot < AUDIT_SLOT_BASE || e.slot >= AUDIT_SLOT_BASE + MAX_AUDIT_SLOTS) continue;
    const key = `${v}:${s}:${e.slot}`;
    if (seen.has(key)) continue;
    seen.add(key);
    audits.push(e);
  }

  // Reputation, in a fixed order (by hash) so the fixed-point arithmetic agrees everywhere.
  const reputations = new Map<Hex, Reputation>(
    input.previous.reputations.map((r) => [lower(r.node), { alpha: r.alpha, beta: r.beta }]),
  );
  const failed = new Set<Hex>();
  const lossReporters = new Map<Hex, Set<Hex>>();
  for (const e of audits) {
    const s = lower(e.subject);
    const ok = e.outcome === OUTCOME.valid;
    reputations.set(s, updateReputation(reputations.get(s) ?? INITIAL_REPUTATION, ok, input.reputation));
    if (ok) continue;
    failed.add(s);
    if (LOSS_REASONS.has(e.reason)) {
      const set = lossReporters.get(s) ?? new Set<Hex>();
      set.add(lower(e.validator));
      lossReporters.set(s, set);
    }
  }

  // Node actions, by node id.
  const wasSuspended = new Set(input.previous.suspended.map(lower));
  const suspended = new Set<Hex>();
  const actions: NodeAction[] = [];
  for (const id of [...nodes.keys()].sort()) {
    const node = nodes.get(id)!;
    const r = reputations.get(id) ?? INITIAL_REPUTATION;
    const before = wasSuspended.has(id);
    const reporters = lossReporters.get(id);
    const proven =
      reporters !== undefined &&
      [...reporters].reduce((a, v) => a + validators.get(v)!.stake, 0n) * 3n > totalStake;
    // Proven loss also suspends: the node's pieces are then repaired elsewhere.
    const after = proven || shouldSuspend(r, before, input.reputation);
    if (after) suspended.add(id);
    if (after && !before) actions.push({ node: node.id, kind: ACTION.suspend, amount: 0n });
    if (!after && before) actions.push({ node: node.id, kind: ACTION.reinstate, amount: 0n });
    const amount = (node.stake * input.slashLossBps) / 10_000n;
    if (proven && amount > 0n) actions.push({ node: node.id, kind: ACTION.slash, amount });
  }

  // Payments: each payable deal's amount over its placements by size.
  const allocations = new Map<Hex, bigint>();
  const credit = (account: Hex, amount: bigint) => {
    if (amount > 0n) allocations.set(account, (allocations.get(account) ?? 0n) + amount);
  };
  const byDeal = new Map<bigint, SettlementInput['placements'][number][]>();
  for (const p of input.placements) {
    const list = byDeal.get(p.dealId) ?? [];
    list.push(p);
    byDeal.set(p.dealId, list);
  }
  const eligible = (node: Hex) => nodes.has(node) && !wasSuspended.has(node) && !failed.has(node);
  let withheld = input.previous.withheld;
  const shareOf = new Map<string, bigint>(); // `${dealId}:${pieceId}` → per-epoch share (for repair fees)
  for (const deal of [...input.deals].sort((a, b) => (a.dealId < b.dealId ? -1 : 1))) {
    if (deal.amount <= 0n) continue;
    const placed = byDeal.get(deal.dealId) ?? [];
    const totalSize = placed.reduce((a, p) => a + BigInt(p.size), 0n);
    if (totalSize === 0n) {
      withheld += deal.amount;
      continue;
    }
    for (const p of placed)
      shareOf.set(`${deal.dealId}:${lower(p.pieceId)}`, (deal.amount * BigInt(p.size)) / totalSize);
    // The whole amount is split over every placement first, then the shares of placements that
    // are not eligible are withheld: flooring the eligible part instead would withhold a small
    // deal's whole epoch (1 credit over 13 placements) as soon as one placement is not eligible.
    for (const [p, amount] of largestRemainder(deal.amount, placed, totalSize, input.epoch)) {
      if (eligible(lower(p.node))) credit(lower(p.node), amount);
      else withheld += amount;
    }
  }

  // Repair fees from the withheld pool.
  for (const r of [...input.repairs].sort((a, b) => (a.pieceId < b.pieceId ? -1 : 1))) {
    const share = shareOf.get(`${r.dealId}:${lower(r.pieceId)}`) ?? 0n;
    // At least one credit, so that repairing a small deal's piece is still paid.
    let fee =
      input.repairFeeEpochs > 0n && share * input.repairFeeEpochs < 1n ? 1n : share * input.repairFeeEpochs;
    if (fee > withheld) fee = withheld;
    withheld -= fee;
    credit(lower(r.repairer), fee);
  }

  const cumulative = new Map(input.previous.cumulative.map((e) => [lower(e.account), e.amount]));
  let total = 0n;
  for (const [account, amount] of allocations) {
    cumulative.set(account, (cumulative.get(account) ?? 0n) + amount);
    total += amount;
  }
  const entries = [...cumulative.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([account, amount]) => ({ account, amount }));
  const tree = buildRewardTree(entries);
  const state: StorageState = {
    epoch: input.epoch,
    cumulative: entries,
    reputations: [...reputations.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([node, r]) => ({ node, alpha: r.alpha, beta: r.beta })),
    suspended: [...suspended].sort(),
    withheld,
  };
  return {
    epoch: input.epoch,
    state,
    stateHash: storageStateHash(state),
    actions,
    total,
    root: entries.length === 0 ? (`0x${'00'.repeat(32)}` as Hex) : tree.root,
    tree,
    allocations,
  };
}

/**
 * Splits `pot` over `items` by size: floors first, then one unit each to the largest remainders
 * (ties by a per-epoch hash, so the odd credit rotates).
 */
function largestRemainder<T extends { size: number; node: Hex; pieceId: Hex }>(
  pot: bigint,
  items: readonly T[],
  totalSize: bigint,
  epoch: bigint,
): [T, bigint][] {
  if (pot === 0n || totalSize === 0n) return [];
  const parts = items.map((p) => {
    const exact = pot * BigInt(p.size);
    const tie = hexToBigInt(
      keccak256(encodePacked(['uint256', 'bytes32', 'address'], [epoch, p.pieceId, p.node])),
    );
    return { p, floor: exact / totalSize, rem: exact % totalSize, tie };
  });
  let left = pot - parts.reduce((a, x) => a + x.floor, 0n);
  const order = [...parts].sort((a, b) =>
    a.rem !== b.rem ? (a.rem > b.rem ? -1 : 1) : a.tie < b.tie ? -1 : 1,
  );
  for (const x of order) {
    if (left === 0n) break;
    x.floor += 1n;
    left -= 1n;
  }
  return parts.map((x) => [x.p, x.floor]);
}

/** keccak256 of the state's canonical ABI encoding: what `StorageDeals.stateHash` holds. */
export function storageStateHash(s: StorageState): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'uint256' },
        { type: 'tuple[]', components: [{ type: 'address' }, { type: 'uint256' }] },
        { type: 'tuple[]', components: [{ type: 'address' }, { type: 'uint256' }, { type: 'uint256' }] },
        { type: 'address[]' },
        { type: 'uint256' },
      ],
      [
        s.epoch < 0n ? 0n : s.epoch,
        s.cumulative.map((e) => [e.account, e.amount] as const),
        s.reputations.map((r) => [r.node, r.alpha, r.beta] as const),
        s.suspended,
        s.withheld,
      ],
    ),
  );
}

/** JSON form of a state (bigints as strings), for the store and for peers. */
export function stateToJson(s: StorageState) {
  return {
    epoch: s.epoch.toString(),
    cumulative: s.cumulative.map((e) => ({ account: e.account, amount: e.amount.toString() })),
    reputations: s.reputations.map((r) => ({
      node: r.node,
      alpha: r.alpha.toString(),
      beta: r.beta.toString(),
    })),
    suspended: s.suspended,
    withheld: s.withheld.toString(),
  };
}

export function stateFromJson(j: ReturnType<typeof stateToJson>): StorageState {
  return {
    epoch: BigInt(j.epoch),
    cumulative: j.cumulative.map((e) => ({ account: e.account, amount: BigInt(e.amount) })),
    reputations: j.reputations.map((r) => ({ node: r.node, alpha: BigInt(r.alpha), beta: BigInt(r.beta) })),
    suspended: j.suspended,
    withheld: BigInt(j.withheld),
  };
}
