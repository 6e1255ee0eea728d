import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Hex, keccak256, toHex } from 'viem';
import { EVIDENCE_KIND, OUTCOME, REASON } from '../../core/evidence.ts';
import type { VerifiedEvidence } from '../../validator/epochResult.ts';
import { AUDIT_SLOT_BASE } from './audit.ts';
import { DEFAULT_REPUTATION } from './reputation.ts';
import {
  computeSettlement,
  dealPayment,
  EMPTY_STATE,
  type SettlementInput,
  stateFromJson,
  stateToJson,
} from './settlement.ts';
import { ACTION } from './settlementSignature.ts';

const addr = (i: number) => toHex(i + 1, { size: 20 });
const NODES = [0, 1, 2, 3].map((i) => ({ id: addr(100 + i), stake: 1000n, status: 1 }));
const VALIDATORS = [0, 1, 2].map((i) => ({ id: addr(200 + i), stake: 10n }));
const piece = (i: number) => keccak256(toHex(`piece${i}`));

let hashes = 0;
function audit(
  validator: number,
  node: number,
  slot: number,
  outcome: number,
  reason: number,
): VerifiedEvidence {
  return {
    validator: VALIDATORS[validator]!.id,
    kind: EVIDENCE_KIND.storageAudit,
    subject: NODES[node]!.id,
    slot: AUDIT_SLOT_BASE + slot,
    outcome,
    reason,
    hash: keccak256(toHex(hashes++)),
  };
}

function input(over: Partial<SettlementInput> = {}): SettlementInput {
  return {
    epoch: 5n,
    previous: EMPTY_STATE,
    nodes: NODES,
    validators: VALIDATORS,
    evidence: [],
    deals: [{ dealId: 1n, amount: 100n }],
    placements: NODES.map((n, i) => ({ dealId: 1n, pieceId: piece(i), size: 1000, node: n.id })),
    repairs: [],
    slashLossBps: 1000n,
    repairFeeEpochs: 10n,
    reputation: DEFAULT_REPUTATION,
    ...over,
  };
}

test('a deal pays its epoch price over its placements by size; the root commits the cumulative amounts', () => {
  const s = computeSettlement(input());
  assert.equal(s.total, 100n);
  assert.deepEqual(
    s.state.cumulative.map((e) => e.amount),
    [25n, 25n, 25n, 25n],
  );
  assert.deepEqual(s.actions, []);
  const next = computeSettlement(input({ epoch: 6n, previous: s.state }));
  assert.equal(next.total, 100n);
  assert.deepEqual(
    next.state.cumulative.map((e) => e.amount),
    [50n, 50n, 50n, 50n],
  );
  assert.notEqual(next.stateHash, s.stateHash);
});

test('a small deal still pays one credit an epoch, to a different placement as epochs go by', () => {
  const winners = new Set<string>();
  for (let epoch = 0n; epoch < 12n; epoch++) {
    const s = computeSettlement(input({ epoch, deals: [{ dealId: 1n, amount: 1n }] }));
    assert.equal(s.total, 1n);
    winners.add([...s.allocations.keys()][0]!);
  }
  assert.ok(winners.size > 1);
});

test('proven loss reported by more than a third of the stake is slashed; offline never is', () => {
  const lost = computeSettlement(
    input({
      evidence: [
        audit(0, 1, 0, OUTCOME.invalid, REASON.PIECE_MISSING),
        audit(1, 1, 0, OUTCOME.invalid, REASON.BAD_PROOF),
        audit(0, 2, 1, OUTCOME.invalid, REASON.PIECE_MISSING), // one validator of three: not enough
        audit(0, 3, 2, OUTCOME.invalid, REASON.TIMEOUT),
        audit(1, 3, 2, OUTCOME.invalid, REASON.UNREACHABLE),
        audit(2, 3, 2, OUTCOME.invalid, REASON.TIMEOUT),
      ],
    }),
  );
  // Node 3 missed three audits in a row: suspended (it recovers by passing again), not slashed.
  assert.deepEqual(lost.actions, [
    { node: NODES[1]!.id, kind: ACTION.suspend, amount: 0n },
    { node: NODES[1]!.id, kind: ACTION.slash, amount: 100n },
    { node: NODES[3]!.id, kind: ACTION.suspend, amount: 0n },
  ]);
  // Nodes that failed an audit this epoch are not paid; their share is withheld.
  assert.equal(lost.total, 25n);
  assert.equal(lost.state.withheld, 75n);
});

test('a node failing audits is suspended, and reinstated once it passes again', () => {
  let state = EMPTY_STATE;
  const kinds: number[] = [];
  const run = (epoch: bigint, ok: boolean) => {
    const s = computeSettlement(
      input({
        epoch,
        previous: state,
        evidence: [
          audit(0, 0, 0, ok ? OUTCOME.valid : OUTCOME.invalid, ok ? REASON.OK : REASON.TIMEOUT),
          audit(1, 0, 0, ok ? OUTCOME.valid : OUTCOME.invalid, ok ? REASON.OK : REASON.TIMEOUT),
        ],
      }),
    );
    kinds.push(...s.actions.map((a) => a.kind));
    state = s.state;
    return s;
  };
  run(1n, false);
  const s = run(2n, false);
  assert.deepEqual(s.actions, [{ node: NODES[0]!.id, kind: ACTION.suspend, amount: 0n }]);
  assert.deepEqual(state.suspended, [NODES[0]!.id.toLowerCase()]);
  // Suspended: not paid even when it passes, until reinstated.
  const passing = run(3n, true);
  assert.equal(passing.allocations.get(NODES[0]!.id.toLowerCase() as Hex), undefined);
  for (let e = 4n; e < 20n && state.suspended.length > 0; e++) run(e, true);
  assert.deepEqual(state.suspended, []);
  assert.deepEqual(kinds, [ACTION.suspend, ACTION.reinstate]);
});

test('repairers are paid from the withheld pool, never more than it holds', () => {
  const first = computeSettlement(input({ evidence: [audit(0, 0, 0, OUTCOME.invalid, REASON.TIMEOUT)] }));
  assert.equal(first.state.withheld, 25n);
  const repairer = addr(999);
  const paid = computeSettlement(
    input({
      epoch: 6n,
      previous: first.state,
      repairs: [{ dealId: 1n, pieceId: piece(0), size: 1000, repairer }],
    }),
  );
  // fee = 10 epochs × 25 = 250, capped at the 25 withheld.
  assert.equal(paid.allocations.get(repairer.toLowerCase() as Hex), 25n);
  assert.equal(paid.state.withheld, 0n);
  assert.equal(paid.total, 125n);
});

test('the result does not depend on the order evidence arrived in, and the state round-trips', () => {
  const evidence = [
    audit(0, 0, 0, OUTCOME.valid, REASON.OK),
    audit(1, 0, 0, OUTCOME.invalid, REASON.TIMEOUT),
    audit(2, 2, 3, OUTCOME.invalid, REASON.PIECE_CORRUPT),
    audit(0, 2, 3, OUTCOME.invalid, REASON.PIECE_CORRUPT),
  ];
  const a = computeSettlement(input({ evidence }));
  const b = computeSettlement(input({ evidence: [...evidence].reverse() }));
  assert.equal(a.stateHash, b.stateHash);
  assert.equal(a.root, b.root);
  assert.deepEqual(a.actions, b.actions);
  const back = stateFromJson(JSON.parse(JSON.stringify(stateToJson(a.state))));
  assert.deepEqual(back, a.state);
});

test('a settlement pays each deal for every epoch since the last one in which it ran, skipped ones included', () => {
  const deal = { startEpoch: 10n, endEpoch: 20n };
  assert.equal(dealPayment(deal, 7n, 12n, 12n), 7n, 'one epoch: its price');
  assert.equal(dealPayment(deal, 7n, 12n, 14n), 21n, 'two skipped epochs are paid with the third');
  assert.equal(dealPayment(deal, 7n, 0n, 11n), 14n, 'not before it started');
  assert.equal(dealPayment(deal, 7n, 18n, 25n), 14n, 'not from its end epoch on');
  assert.equal(dealPayment(deal, 7n, 20n, 25n), 0n, 'nothing once it ended');
  assert.equal(dealPayment(deal, 7n, 5n, 9n), 0n, 'nothing before it started');
  assert.equal(dealPayment({ startEpoch: 3n, endEpoch: 3n }, 7n, 0n, 9n), 0n, 'a deal terminated at once');
});

test('a small deal with one ineligible placement still pays the others: only that share is withheld', () => {
  // 1 credit an epoch over 4 placements, node 0 failing its audit: over many epochs the credit
  // goes to the eligible placements about 3 times in 4, and is withheld only when it lands on node 0.
  let paid = 0n;
  let withheld = 0n;
  for (let e = 1n; e <= 200n; e++) {
    const s = computeSettlement(
      input({
        epoch: e,
        deals: [{ dealId: 1n, amount: 1n }],
        evidence: [audit(0, 0, 0, OUTCOME.invalid, REASON.TIMEOUT)],
      }),
    );
    assert.equal(s.allocations.get(NODES[0]!.id.toLowerCase() as Hex), undefined, 'node 0 is never paid');
    assert.equal(s.total + s.state.withheld, 1n, 'each epoch pays or withholds exactly its credit');
    paid += s.total;
    withheld += s.state.withheld;
  }
  assert.ok(paid > 120n && withheld > 20n, `paid ${paid}, withheld ${withheld} of 200`);
});
