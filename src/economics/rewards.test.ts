import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isDepinError } from '../core/errors.ts';
import { type NodeScore, type RewardEpochInput, rewardEpoch } from './rewards.ts';

const A = '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const C = '0xcccccccccccccccccccccccccccccccccccccccc';

// Few distinct accounts, so that previous balances and scores overlap often.
const account = fc
  .integer({ min: 0, max: 40 })
  .map((i) => `0x${i.toString(16).padStart(2, '0').repeat(20)}` as `0x${string}`);
const score = fc
  .record({
    account,
    stake: fc.bigInt({ min: 0n, max: 10n ** 24n }),
    challenged: fc.integer({ min: 0, max: 50 }),
  })
  .chain((s) =>
    fc.integer({ min: 0, max: s.challenged }).map((answered) => ({ ...s, answered }) as NodeScore),
  );
const input: fc.Arbitrary<RewardEpochInput> = fc.record({
  epoch: fc.bigInt({ min: 0n, max: 1000n }),
  pool: fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 10n ** 27n })),
  carry: fc.bigInt({ min: 0n, max: 1000n }),
  scores: fc.uniqueArray(score, { maxLength: 30, selector: (s) => s.account }),
  previous: fc
    .uniqueArray(fc.tuple(account, fc.bigInt({ min: 0n, max: 10n ** 24n })), {
      maxLength: 20,
      selector: (p) => p[0],
    })
    .map((pairs) => new Map(pairs)),
});

test('never allocates more than pool + carry, and distributed + dust equals it exactly', () => {
  fc.assert(
    fc.property(input, (i) => {
      const r = rewardEpoch(i);
      const sum = r.allocations.reduce((s, a) => s + a.amount, 0n);
      assert.equal(sum, r.distributed);
      assert.ok(r.distributed <= i.pool + i.carry);
      assert.ok(r.dust >= 0n);
      assert.equal(r.distributed + r.dust, i.pool + i.carry);
      // Floor division loses less than one unit per weighted node.
      assert.ok(r.distributed === 0n || r.dust < BigInt(i.scores.length));
    }),
  );
});

test('adds each allocation to the previous cumulative balance, account by account', () => {
  fc.assert(
    fc.property(input, (i) => {
      const r = rewardEpoch(i);
      const allocated = new Map(r.allocations.map((a) => [a.account, a.amount]));
      const cumulative = new Map(r.cumulative.map((c) => [c.account, c.amount]));
      const accounts = new Set([...i.previous.keys(), ...allocated.keys()]);
      assert.equal(cumulative.size, accounts.size);
      for (const a of accounts) {
        assert.equal(cumulative.get(a), (i.previous.get(a) ?? 0n) + (allocated.get(a) ?? 0n));
      }
    }),
  );
});

test('gives the same output, sorted by account, whatever the order of the scores', () => {
  fc.assert(
    fc.property(
      input.chain((i) =>
        fc.shuffledSubarray(i.scores, { minLength: i.scores.length }).map((s) => [i, s] as const),
      ),
      ([i, shuffled]) => {
        const a = rewardEpoch(i);
        const b = rewardEpoch({ ...i, scores: shuffled });
        assert.deepEqual(b, a);
        const sorted = (l: { account: string }[]) =>
          l.every((x, k) => k === 0 || l[k - 1]!.account < x.account);
        assert.ok(sorted(a.allocations) && sorted(a.cumulative));
      },
    ),
  );
});

test('never gives a node with more uptime and equal stake less', () => {
  fc.assert(
    fc.property(
      input,
      fc.bigInt({ min: 0n, max: 10n ** 24n }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 50 }),
      fc.integer({ min: 0, max: 50 }),
      (i, stake, challenged, x, y) => {
        const [low, high] = [Math.min(x, y, challenged), Math.min(Math.max(x, y), challenged)];
        const s1 = '0x1111111111111111111111111111111111111111';
        const s2 = '0x2222222222222222222222222222222222222222';
        const scores = [
          ...i.scores.filter((s) => s.account !== s1 && s.account !== s2),
          { account: s1, stake, challenged, answered: low },
          { account: s2, stake, challenged, answered: high },
        ] as NodeScore[];
        const r = rewardEpoch({ ...i, scores });
        const got = (a: string) => r.allocations.find((x) => x.account === a)?.amount ?? 0n;
        assert.ok(got(s2) >= got(s1));
      },
    ),
  );
});

test('carries everything to the next epoch when no node has weight', () => {
  fc.assert(
    fc.property(input, (i) => {
      const scores = i.scores.map((s) => ({ ...s, answered: 0 }));
      const r = rewardEpoch({ ...i, scores });
      assert.deepEqual(r.allocations, []);
      assert.equal(r.distributed, 0n);
      assert.equal(r.dust, i.pool + i.carry);
    }),
  );
});

test('splits by stake times uptime and carries the rounding dust', () => {
  const r = rewardEpoch({
    epoch: 7n,
    pool: 1000n,
    carry: 1n,
    previous: new Map([[C, 5n]]),
    scores: [
      { account: B, stake: 100n, challenged: 4, answered: 2 },
      { account: A, stake: 100n, challenged: 4, answered: 4 },
      { account: C, stake: 10n ** 30n, challenged: 0, answered: 0 },
    ],
  });
  assert.deepEqual(r, {
    epoch: 7n,
    allocations: [
      { account: A, amount: 667n },
      { account: B, amount: 333n },
    ],
    cumulative: [
      { account: A, amount: 667n },
      { account: B, amount: 333n },
      { account: C, amount: 5n },
    ],
    distributed: 1000n,
    dust: 1n,
  });
});

test('lowercases accounts and treats mixed-case duplicates as duplicates', () => {
  const upper = `0x${'A'.repeat(40)}` as `0x${string}`;
  const r = rewardEpoch({
    epoch: 1n,
    pool: 10n,
    carry: 0n,
    previous: new Map(),
    scores: [{ account: upper, stake: 1n, challenged: 1, answered: 1 }],
  });
  assert.deepEqual(r.allocations, [{ account: A, amount: 10n }]);
  assert.throws(
    () =>
      rewardEpoch({
        epoch: 1n,
        pool: 10n,
        carry: 0n,
        previous: new Map(),
        scores: [
          { account: upper, stake: 1n, challenged: 1, answered: 1 },
          { account: A, stake: 2n, challenged: 1, answered: 1 },
        ],
      }),
    (e) => isDepinError(e, 'REWARD_DUPLICATE_ACCOUNT'),
  );
});

test('gives no line to a node whose share rounds down to zero', () => {
  const r = rewardEpoch({
    epoch: 1n,
    pool: 2n,
    carry: 0n,
    previous: new Map(),
    scores: [
      { account: A, stake: 1000n, challenged: 1, answered: 1 },
      { account: B, stake: 1n, challenged: 1, answered: 1 },
    ],
  });
  assert.deepEqual(r.allocations, [{ account: A, amount: 1n }]);
  assert.equal(r.dust, 1n);
});

test('rejects negative or inconsistent input with REWARD_BAD_INPUT', () => {
  const base: RewardEpochInput = { epoch: 1n, pool: 10n, carry: 0n, previous: new Map(), scores: [] };
  const node = { account: A, stake: 1n, challenged: 2, answered: 1 } as NodeScore;
  for (const bad of [
    { ...base, pool: -1n },
    { ...base, carry: -1n },
    { ...base, epoch: -1n },
    { ...base, scores: [{ ...node, stake: -1n }] },
    { ...base, scores: [{ ...node, answered: 3 }] },
    { ...base, scores: [{ ...node, answered: -1 }] },
    { ...base, scores: [{ ...node, challenged: 1.5 }] },
    { ...base, scores: [{ ...node, account: '0x1234' as `0x${string}` }] },
    { ...base, previous: new Map([[A, -1n]]) },
  ] as RewardEpochInput[]) {
    assert.throws(
      () => rewardEpoch(bad),
      (e) => isDepinError(e, 'REWARD_BAD_INPUT'),
    );
  }
});

test('sorts accounts that share a long prefix, and previous balances in any order', () => {
  const accounts = Array.from(
    { length: 100 },
    (_, i) => `0x0000000000${(i * 7919).toString(16).padStart(30, '0')}` as `0x${string}`,
  );
  const shuffled = [...accounts].sort((a, b) => (a.slice(-3) < b.slice(-3) ? -1 : 1));
  const scores = shuffled.map((account) => ({ account, stake: 1n, challenged: 1, answered: 1 }));
  const previous = new Map(shuffled.map((a) => [a, 1n] as const));
  const r = rewardEpoch({ epoch: 0n, pool: 100n, carry: 0n, scores, previous });
  const sorted = [...accounts].sort();
  assert.deepEqual(
    r.allocations.map((a) => a.account),
    sorted,
  );
  assert.deepEqual(
    r.cumulative.map((c) => [c.account, c.amount]),
    sorted.map((a) => [a, 2n]),
  );
});
