import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Hex } from 'viem';
import { verifyRewardProof } from '../core/merkle.ts';
import { computeEpochResult, type VerifiedEvidence } from './epochResult.ts';

const addr = (i: number) => `0x${(i + 1).toString(16).padStart(40, '0')}` as Hex;
const hash = (i: number) => `0x${(i + 1).toString(16).padStart(64, '0')}` as Hex;

function evidence(validator: number, node: number, slot: number, ok: boolean): VerifiedEvidence {
  return {
    validator: addr(100 + validator),
    kind: 1,
    subject: addr(node),
    slot,
    outcome: ok ? 1 : 0,
    reason: ok ? 0 : 1,
    hash: hash(validator * 100_000 + node * 1000 + slot * 10 + (ok ? 1 : 0)),
  };
}

const base = {
  epoch: 5n,
  validators: [0, 1, 2].map((v) => ({ id: addr(100 + v), stake: 1000n })),
  perEpoch: 2,
  previous: [] as { account: Hex; amount: bigint }[],
  distributable: 1_000_000n,
  validatorShareBps: 1000n,
};

test('pays nodes by stake × uptime and validators that reported by stake', () => {
  const nodes = [0, 1].map((n) => ({ id: addr(n), stake: 100n }));
  const ev = [0, 1, 2].flatMap((v) =>
    [0, 1].flatMap((s) => [evidence(v, 0, s, true), evidence(v, 1, s, s === 0)]),
  );
  const r = computeEpochResult({ ...base, nodes, evidence: ev });
  const amount = (a: Hex) => r.allocations.find((x) => x.account === a)?.amount ?? 0n;
  assert.equal(amount(addr(0)), 2n * amount(addr(1)), 'full uptime earns twice half uptime at equal stake');
  assert.equal(amount(addr(100)), amount(addr(101)));
  assert.ok(r.total <= base.distributable);
  for (const c of r.cumulative)
    assert.ok(verifyRewardProof(r.rewardsRoot, c.account, c.amount, r.tree.proof(c.account)));
});

test('ignores evidence from non-validators, for unknown nodes, beyond the slots, and duplicates', () => {
  const nodes = [{ id: addr(0), stake: 100n }];
  const honest = [evidence(0, 0, 0, true)];
  const noisy = [
    ...honest,
    evidence(9, 0, 0, false),
    evidence(0, 7, 0, true),
    evidence(0, 0, 5, false),
    { ...evidence(0, 0, 0, false), hash: hash(999) },
  ];
  assert.equal(
    computeEpochResult({ ...base, nodes, evidence: noisy }).rewardsRoot,
    computeEpochResult({ ...base, nodes, evidence: honest }).rewardsRoot,
  );
});

test('does not depend on the order of evidence', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(2), fc.nat(3), fc.nat(1), fc.boolean()), { maxLength: 40 }),
      fc.integer(),
      (rows, seed) => {
        const nodes = [0, 1, 2, 3].map((n) => ({ id: addr(n), stake: BigInt(n + 1) * 10n }));
        const ev = rows.map(([v, n, s, ok]) => evidence(v, n, s, ok));
        const shuffled = [...ev].sort((a, b) => (a.hash > b.hash ? 1 : -1) * (seed % 2 ? 1 : -1));
        const a = computeEpochResult({ ...base, nodes, evidence: ev });
        const b = computeEpochResult({ ...base, nodes, evidence: shuffled });
        return a.rewardsRoot === b.rewardsRoot && a.evidenceRoot === b.evidenceRoot && a.total === b.total;
      },
    ),
    { numRuns: 50 },
  );
});

test('never allocates more than the distributable amount, and cumulative only grows', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(2), fc.nat(5), fc.nat(1), fc.boolean()), { maxLength: 60 }),
      fc.bigInt({ min: 0n, max: 10n ** 24n }),
      fc.array(fc.bigInt({ min: 0n, max: 10n ** 20n }), { minLength: 6, maxLength: 6 }),
      (rows, distributable, prev) => {
        const nodes = [0, 1, 2, 3, 4, 5].map((n) => ({ id: addr(n), stake: BigInt(n * 7 + 1) }));
        const previous = prev.map((amount, i) => ({ account: addr(i), amount }));
        const r = computeEpochResult({
          ...base,
          nodes,
          evidence: rows.map(([v, n, s, ok]) => evidence(v, n, s, ok)),
          previous,
          distributable,
        });
        if (r.total > distributable) return false;
        const sumAlloc = r.allocations.reduce((a, x) => a + x.amount, 0n);
        if (sumAlloc !== r.total) return false;
        for (const p of previous) {
          const c = r.cumulative.find((x) => x.account === p.account)?.amount ?? 0n;
          if (p.amount > 0n && c < p.amount) return false;
        }
        return true;
      },
    ),
    { numRuns: 100 },
  );
});

test('storage audits count towards availability: a node failing them earns less', () => {
  const nodes = [0, 1].map((n) => ({ id: addr(n), stake: 100n }));
  const live = [0, 1].flatMap((s) => [evidence(0, 0, s, true), evidence(0, 1, s, true)]);
  const audit = (node: number, slot: number, ok: boolean) => ({ ...evidence(1, node, slot, ok), kind: 2 });
  const r = computeEpochResult({
    ...base,
    nodes,
    evidence: [...live, audit(0, 1000, true), audit(1, 1000, false), audit(1, 1001, false)],
  });
  const amount = (a: Hex) => r.allocations.find((x) => x.account === a)?.amount ?? 0n;
  assert.ok(amount(addr(1)) < amount(addr(0)), 'failed audits lower the reward');
  // Outside the audit slots, a storage record does not count.
  const stray = computeEpochResult({ ...base, nodes, evidence: [...live, audit(1, 5, false)] });
  assert.equal(stray.rewardsRoot, computeEpochResult({ ...base, nodes, evidence: live }).rewardsRoot);
});
