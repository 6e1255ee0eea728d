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

  // Columns rather than one object per node: a million nodes is the design point.
  const n = input.scores.length;
  const accounts: Account[] = new Array(n);
  const weights: bigint[] = new Array(n);
  let totalWeight = 0n;
  for (let i = 0; i < n; i++) {
    const { account, weight } = weigh(input.scores[i]!, i);
    accounts[i] = account;
    weights[i] = weight;
    totalWeight += weight;
  }
  const order = sortByAccount(accounts);
  const duplicate = findDuplicate(accounts, order);
  if (duplicate !== undefined) {
    throw new DepinError<RewardErrorCode>(
      'REWARD_DUPLICATE_ACCOUNT',
      'An account has two scores in one epoch; merge its challenges into one score before rewarding.',
      { details: { account: duplicate } },
    );
  }

  const allocations: Entry[] = [];
  let distributed = 0n;
  if (totalWeight > 0n && distributable > 0n) {
    for (let r = 0; r < n; r++) {
      const i = order ? order[r]! : r;
      const weight = weights[i]!;
      if (weight === 0n) continue;
      const amount = (distributable * weight) / totalWeight;
      if (amount === 0n) continue;
      allocations.push({ account: accounts[i]!, amount });
      distributed += amount;
    }
  }

  return {
    epoch,
    allocations,
    cumulative: accumulate(input.previous, allocations),
    distributed,
    dust: distributable - distributed,
  };
}

type Account = `0x${string}`;
type Entry = { account: Account; amount: bigint };

function weigh(score: NodeScore, index: number): { account: Account; weight: bigint } {
  const { stake, challenged, answered } = score;
  const account = normalize(score.account);
  if (account === null) {
    throw badInput('A score has a malformed account; accounts are 0x followed by 40 hex digits.', {
      index,
      account: String(score.account),
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
  // Same value as the rule's formula; full uptime and zero uptime skip the bigint division.
  const weight =
    answered === 0 || stake === 0n
      ? 0n
      : answered === challenged
        ? stake * REWARD_WEIGHT_SCALE
        : (stake * BigInt(answered) * REWARD_WEIGHT_SCALE) / BigInt(challenged);
  return { account, weight };
}

/** Merges the previous balances with this epoch's (account-sorted) allocations. */
function accumulate(previous: ReadonlyMap<Account, bigint>, allocations: Entry[]): Entry[] {
  const accounts: Account[] = new Array(previous.size);
  const amounts: bigint[] = new Array(previous.size);
  let k = 0;
  for (const [key, amount] of previous) {
    const account = normalize(key);
    if (account === null)
      throw badInput('The previous balances hold a malformed account.', { account: String(key) });
    if (typeof amount !== 'bigint' || amount < 0n) {
      throw badInput('The previous balances hold a negative or non-bigint amount.', {
        account,
        amount: String(amount),
      });
    }
    accounts[k] = account;
    amounts[k++] = amount;
  }
  const order = sortByAccount(accounts);
  const duplicate = findDuplicate(accounts, order);
  if (duplicate !== undefined) {
    throw new DepinError<RewardErrorCode>(
      'REWARD_DUPLICATE_ACCOUNT',
      'The previous balances list one account twice (in different letter case); key them by lowercase account.',
      { details: { account: duplicate } },
    );
  }
  const out: Entry[] = [];
  let i = 0;
  let j = 0;
  while (i < k || j < allocations.length) {
    const p = i < k ? (order ? order[i]! : i) : -1;
    const a = allocations[j];
    if (a === undefined || (p >= 0 && accounts[p]! < a.account)) {
      out.push({ account: accounts[p]!, amount: amounts[p]! });
      i++;
    } else if (p < 0 || a.account < accounts[p]!) {
      out.push({ account: a.account, amount: a.amount });
      j++;
    } else {
      out.push({ account: a.account, amount: amounts[p]! + a.amount });
      i++;
      j++;
    }
  }
  return out;
}

/** The lowercase form of a 0x + 40 hex digits address (the same string if already so), or null. */
function normalize(account: unknown): Account | null {
  if (typeof account !== 'string' || account.length !== 42) return null;
  if (account.charCodeAt(0) !== 48 || account.charCodeAt(1) !== 120) return null;
  let upper = false;
  for (let i = 2; i < 42; i++) {
    const c = account.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) continue;
    if (c >= 65 && c <= 70) upper = true;
    else return null;
  }
  return (upper ? account.toLowerCase() : account) as Account;
}

/**
 * Indices of `accounts` (lowercase, well formed) in ascending order, or null if they already are.
 * Buckets on the first hex digits (about one account per bucket), then sorts inside each bucket:
 * O(n) for a million accounts instead of a million-element comparison sort.
 */
function sortByAccount(accounts: Account[]): Uint32Array | null {
  const n = accounts.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = accounts[i - 1]! <= accounts[i]!;
  if (sorted) return null;
  const bits = Math.min(20, Math.ceil(Math.log2(n + 1)));
  const keys = new Uint32Array(n);
  const starts = new Uint32Array((1 << bits) + 1);
  for (let i = 0; i < n; i++) {
    const a = accounts[i]!;
    let key = 0;
    for (let c = 2; c < 7; c++) {
      const code = a.charCodeAt(c);
      key = (key << 4) | (code <= 57 ? code - 48 : code - 87);
    }
    keys[i] = key >>> (20 - bits);
    starts[keys[i]! + 1]!++;
  }
  for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
  const order = new Uint32Array(n);
  const fill = starts.slice(0, -1);
  for (let i = 0; i < n; i++) order[fill[keys[i]!]!++] = i;
  const less = (x: number, y: number) => accounts[x]! < accounts[y]!;
  for (let b = 0; b + 1 < starts.length; b++) {
    const lo = starts[b]!;
    const hi = starts[b + 1]!;
    if (hi - lo < 2) continue;
    if (hi - lo > 32) {
      order.subarray(lo, hi).sort((x, y) => (less(x, y) ? -1 : less(y, x) ? 1 : 0));
      continue;
    }
    for (let i = lo + 1; i < hi; i++) {
      const v = order[i]!;
      let j = i - 1;
      for (; j >= lo && less(v, order[j]!); j--) order[j + 1] = order[j]!;
      order[j + 1] = v;
    }
  }
  return order;
}

function findDuplicate(accounts: Account[], order: Uint32Array | null): Account | undefined {
  for (let r = 1; r < accounts.length; r++) {
    const a = accounts[order ? order[r - 1]! : r - 1]!;
    if (a === accounts[order ? order[r]! : r]) return a;
  }
  return undefined;
}

function badInput(message: string, details: Record<string, unknown>): DepinError<RewardErrorCode> {
  return new DepinError<RewardErrorCode>('REWARD_BAD_INPUT', message, { details });
}
