/**
 * THE reward function: one per project, used by validators, the simulator and anyone re-checking an
 * epoch. Pure and deterministic, money in bigint base units, no I/O.
 *
 * Rule, for one epoch:
 *
 * 1. Accounts are lowercased. An account may appear at most once in `scores`
 *    (`REWARD_DUPLICATE_ACCOUNT`). Stake must be ≥ 0, `challenged` and `answered` integers with
 *    0 ≤ answered ≤ challenged, pool and carry ≥ 0 (otherwise `REWARD_BAD_INPUT`).
 * 2. A node's uptime is answered / challenged, and 0 when it was never challenged.
 * 3. Its weight is stake × uptime, computed exactly in integers as
 *    `weight = stake * BigInt(answered) * SCALE / BigInt(challenged)` (floor division), with
 *    SCALE = {@link REWARD_WEIGHT_SCALE} = 10^18, and weight = 0 when challenged = 0.
 * 4. The epoch's distributable amount is `pool + carry` (this epoch's availability emission plus the
 *    dust carried from the previous epoch).
 * 5. Each node receives `floor(distributable * weight / totalWeight)`, totalWeight being the sum of
 *    all weights. Nodes with weight 0, and nodes whose share rounds down to 0, get no allocation line.
 * 6. `distributed` is the sum of the allocations and `dust = distributable − distributed` is carried
 *    to the next epoch: never lost, never over-allocated (0 ≤ dust < number of weighted nodes,
 *    or all of it when totalWeight = 0).
 * 7. `cumulative[a] = previous[a] + allocation[a]` for every account in `previous` or allocated this
 *    epoch (accounts with nothing anywhere do not appear).
 * 8. `allocations` and `cumulative` are sorted by account (byte order of the lowercase hex), so every
 *    validator produces identical output whatever the order of its inputs.
 */
import { DepinError } from '../core/errors.ts';

/** One node's availability record for an epoch: its stake and its challenges. */
export type NodeScore = { account: `0x${string}`; stake: bigint; challenged: number; answered: number };

/** Everything one epoch's rewards depend on. */
export type RewardEpochInput = {
  epoch: bigint;
  /** This epoch's availability emission. */
  pool: bigint;
  /** Dust carried from the previous epoch. */
  carry: bigint;
  scores: NodeScore[];
  /** Cumulative earned so far, by lowercase account. */
  previous: ReadonlyMap<`0x${string}`, bigint>;
};

/** One epoch's rewards: what each account earned now and in total. */
export type RewardEpochResult = {
  epoch: bigint;
  allocations: { account: `0x${string}`; amount: bigint }[];
  /** Every account ever rewarded, sorted by address. */
  cumulative: { account: `0x${string}`; amount: bigint }[];
  distributed: bigint;
  /** pool + carry − distributed, carried to the next epoch. */
  dust: bigint;
};

/** Error codes of the reward function. */
export type RewardErrorCode = 'REWARD_BAD_INPUT' | 'REWARD_DUPLICATE_ACCOUNT';

/** Fixed-point scale of a weight: stake × uptime keeps 18 decimals of uptime. */
export const REWARD_WEIGHT_SCALE = 10n ** 18n;

/**
 * Splits `pool + carry` among the nodes by stake × uptime (see the rule above).
 *
 * @example
 * const r = rewardEpoch({
 *   epoch: 7n, pool: 1000n, carry: 1n, previous: new Map(),
 *   scores: [
 *     { account: '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', stake: 100n, challenged: 4, answered: 4 },
 *     { account: '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', stake: 100n, challenged: 4, answered: 2 },
 *   ],
 * });
 * // r.allocations: a gets 667n, b 333n; r.distributed 1000n, r.dust 1n
 */
export function rewardEpoch(input: RewardEpochInput): RewardEpochResult {
  const { epoch, pool, carry } = input;
  for (const [name, value] of [
    ['epoch', epoch],
    ['pool', pool],
    ['carry', carry],
  ] as const) {
    if (typeof value !== 'bigint' || value < 0n) {
      throw badInput(`The ${name} must be a non-negative bigint.`, { [name]: String(value) });
    }
  }
  const distributable = pool + carry;

  const nodes = input.scores.map(weigh);
  if (!isSorted(nodes)) nodes.sort(byAccount);
  let totalWeight = 0n;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (i > 0 && nodes[i - 1]!.account === node.account) {
      throw new DepinError<RewardErrorCode>(
        'REWARD_DUPLICATE_ACCOUNT',
        'An account has two scores in one epoch; merge its challenges into one score before rewarding.',
        { details: { account: node.account } },
      );
    }
    totalWeight += node.weight;
  }

  const allocations: { account: `0x${string}`; amount: bigint }[] = [];
  let distributed = 0n;
  if (totalWeight > 0n && distributable > 0n) {
    for (const { account, weight } of nodes) {
      if (weight === 0n) continue;
      const amount = (distributable * weight) / totalWeight;
      if (amount === 0n) continue;
      allocations.push({ account, amount });
      distributed += amount;
    }
  }

  return {
    epoch,
    allocations,
    cumulative: accumulate(previousEntries(input.previous), allocations),
    distributed,
    dust: distributable - distributed,
  };
}

type Weighted = { account: `0x${string}`; weight: bigint };

const ACCOUNT = /^0x[0-9a-fA-F]{40}$/;

function weigh(score: NodeScore, index: number): Weighted {
  const { account, stake, challenged, answered } = score;
  if (typeof account !== 'string' || !ACCOUNT.test(account)) {
    throw badInput('A score has a malformed account; accounts are 0x followed by 40 hex digits.', {
      index,
      account: String(account),
    });
  }
  if (typeof stake !== 'bigint' || stake < 0n) {
    throw badInput('A score has a negative or non-bigint stake.', { index, account, stake: String(stake) });
  }
  if (
    !Number.isSafeInteger(challenged) ||
    !Number.isSafeInteger(answered) ||
    answered < 0 ||
    answered > challenged
  ) {
    throw badInput('A score must have whole challenge counts with 0 ≤ answered ≤ challenged.', {
      index,
      account,
      challenged,
      answered,
    });
  }
  const weight =
    challenged === 0 ? 0n : (stake * BigInt(answered) * REWARD_WEIGHT_SCALE) / BigInt(challenged);
  return { account: account.toLowerCase() as `0x${string}`, weight };
}

function previousEntries(previous: ReadonlyMap<`0x${string}`, bigint>): Entry[] {
  const out: Entry[] = [];
  for (const [account, amount] of previous) {
    if (typeof account !== 'string' || !ACCOUNT.test(account)) {
      throw badInput('The previous balances hold a malformed account.', { account: String(account) });
    }
    if (typeof amount !== 'bigint' || amount < 0n) {
      throw badInput('The previous balances hold a negative or non-bigint amount.', {
        account,
        amount: String(amount),
      });
    }
    out.push({ account: account.toLowerCase() as `0x${string}`, amount });
  }
  if (!isSorted(out)) out.sort(byAccount);
  for (let i = 1; i < out.length; i++) {
    if (out[i - 1]!.account === out[i]!.account) {
      throw new DepinError<RewardErrorCode>(
        'REWARD_DUPLICATE_ACCOUNT',
        'The previous balances list one account twice (in different letter case); key them by lowercase account.',
        { details: { account: out[i]!.account } },
      );
    }
  }
  return out;
}

type Entry = { account: `0x${string}`; amount: bigint };

/** Merges two account-sorted lists, adding amounts of the same account. */
function accumulate(previous: Entry[], allocations: Entry[]): Entry[] {
  const out: Entry[] = [];
  let i = 0;
  let j = 0;
  while (i < previous.length || j < allocations.length) {
    const p = previous[i];
    const a = allocations[j];
    if (a === undefined || (p !== undefined && p.account < a.account)) {
      out.push(p!);
      i++;
    } else if (p === undefined || a.account < p.account) {
      out.push({ account: a.account, amount: a.amount });
      j++;
    } else {
      out.push({ account: p.account, amount: p.amount + a.amount });
      i++;
      j++;
    }
  }
  return out;
}

function byAccount(a: { account: string }, b: { account: string }): number {
  return a.account < b.account ? -1 : a.account > b.account ? 1 : 0;
}

function isSorted(list: { account: string }[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i - 1]!.account > list[i]!.account) return false;
  return true;
}

function badInput(message: string, details: Record<string, unknown>): DepinError<RewardErrorCode> {
  return new DepinError<RewardErrorCode>('REWARD_BAD_INPUT', message, { details });
}
