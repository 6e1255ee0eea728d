/**
 * From an epoch's verified evidence to the result the validators sign: scores per node and per
 * validator, the shared reward function over the pools, the cumulative tree and the roots.
 * Pure: every validator (and anyone re-checking a published epoch) gets the same bytes.
 *
 * Availability rule (docs/ARCHITECTURE.md): of the epoch's distributable amount, validators get
 * REWARDS_SHARE_VALIDATORS_BPS, split by stake among validators that published evidence; nodes get
 * the rest, split by stake × uptime, uptime = challenges answered / challenges recorded.
 */

import type { Hex } from 'viem';
import { EVIDENCE_KIND, evidenceRoot } from '../core/evidence.ts';
import { buildRewardTree, type RewardTree } from '../core/merkle.ts';
import { type NodeScore, rewardEpoch } from '../economics/rewards.ts';
import { AUDIT_SLOT_BASE } from '../storage/validator/audit.ts';
import { MAX_AUDIT_SLOTS } from '../storage/validator/settlement.ts';

export type VerifiedEvidence = {
  validator: Hex;
  /** EVIDENCE_KIND; liveness challenges and storage audits count towards availability. */
  kind: number;
  subject: Hex;
  slot: number;
  outcome: number;
  reason: number;
  hash: Hex;
};

export type EpochResultInput = {
  epoch: bigint;
  /** Nodes active at the epoch's snapshot block, with their stake then. */
  nodes: readonly { id: Hex; stake: bigint }[];
  /** Validators active at the snapshot block. */
  validators: readonly { id: Hex; stake: bigint }[];
  evidence: readonly VerifiedEvidence[];
  perEpoch: number;
  previous: readonly { account: Hex; amount: bigint }[];
  /** What this epoch may allocate: unallocated emission so far, capped by the circuit breaker. */
  distributable: bigint;
  validatorShareBps: bigint;
};

export type EpochResult = {
  epoch: bigint;
  rewardsRoot: Hex;
  evidenceRoot: Hex;
  total: bigint;
  cumulative: { account: Hex; amount: bigint }[];
  allocations: { account: Hex; amount: bigint }[];
  scores: NodeScore[];
  tree: RewardTree;
};

export function computeEpochResult(input: EpochResultInput): EpochResult {
  const nodeSet = new Map(input.nodes.map((n) => [n.id.toLowerCase(), n]));
  const validatorSet = new Map(input.validators.map((v) => [v.id.toLowerCase(), v]));
  const seen = new Set<string>();
  const used: VerifiedEvidence[] = [];
  // Deterministic: if a validator published two records for one slot, the lower hash counts for
  // everyone, whatever order the records arrived in.
  const ordered = [...input.evidence].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  for (const e of ordered) {
    const v = e.validator.toLowerCase();
    const s = e.subject.toLowerCase();
    // Liveness challenges in their scheduled slots, and storage audits in theirs: both are work the
    // node was asked to do, so both count towards its availability.
    const scheduled =
      e.kind === EVIDENCE_KIND.liveness
        ? e.slot < input.perEpoch
        : e.kind === EVIDENCE_KIND.storageAudit &&
          e.slot >= AUDIT_SLOT_BASE &&
          e.slot < AUDIT_SLOT_BASE + MAX_AUDIT_SLOTS;
    if (!scheduled || !validatorSet.has(v) || !nodeSet.has(s)) continue;
    const key = `${v}:${s}:${e.slot}`;
    if (seen.has(key)) continue;
    seen.add(key);
    used.push(e);
  }
  const challenged = new Map<string, number>();
  const answered = new Map<string, number>();
  const reporting = new Set<string>();
  for (const e of used) {
    const s = e.subject.toLowerCase();
    reporting.add(e.validator.toLowerCase());
    challenged.set(s, (challenged.get(s) ?? 0) + 1);
    if (e.outcome === 1) answered.set(s, (answered.get(s) ?? 0) + 1);
  }
  const nodeScores: NodeScore[] = [...nodeSet.entries()].map(([id, n]) => ({
    account: id as Hex,
    stake: n.stake,
    challenged: challenged.get(id) ?? 0,
    answered: answered.get(id) ?? 0,
  }));
  const validatorScores: NodeScore[] = [...validatorSet.entries()].map(([id, v]) => ({
    account: id as Hex,
    stake: v.stake,
    challenged: 1,
    answered: reporting.has(id) ? 1 : 0,
  }));
  const validatorPool = (input.distributable * input.validatorShareBps) / 10_000n;
  const nodePool = input.distributable - validatorPool;
  const previous = new Map(input.previous.map((e) => [e.account.toLowerCase() as Hex, e.amount]));
  const forNodes = rewardEpoch({
    epoch: input.epoch,
    pool: nodePool,
    carry: 0n,
    scores: nodeScores,
    previous,
  });
  const afterNodes = new Map(forNodes.cumulative.map((e) => [e.account, e.amount]));
  // Validators are paid only when at least one node was served: no work, no validation fee.
  const forValidators = rewardEpoch({
    epoch: input.epoch,
    pool: forNodes.distributed > 0n ? validatorPool : 0n,
    carry: 0n,
    scores: validatorScores,
    previous: afterNodes,
  });
  const cumulative = forValidators.cumulative;
  const tree = buildRewardTree(cumulative);
  const allocations = new Map<string, bigint>();
  for (const a of [...forNodes.allocations, ...forValidators.allocations]) {
    allocations.set(a.account, (allocations.get(a.account) ?? 0n) + a.amount);
  }
  return {
    epoch: input.epoch,
    rewardsRoot: tree.root,
    evidenceRoot: evidenceRoot(used.map((e) => e.hash)),
    total: forNodes.distributed + forValidators.distributed,
    cumulative,
    allocations: [...allocations.entries()]
      .sort()
      .map(([account, amount]) => ({ account: account as Hex, amount })),
    scores: nodeScores,
    tree,
  };
}
