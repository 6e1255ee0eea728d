/**
 * `npm run bench -- rewards [--quick]`: the reward manifest and the reward function at 1M accounts.
 *
 * - `manifest.1m`: buildRewardTree over 1,000,000 (account, cumulative amount) entries, sorted by
 *   account as rewardEpoch() returns them, random with a fixed seed. Two baselines in the same run:
 *   `@openzeppelin/merkle-tree` building the same tree (the roots must be equal; ~140 s and ~3 GB
 *   here) and `keccak-only`, the bare hashing the tree needs (2 hashes per leaf + n−1 inner nodes)
 *   with the project's keccak kernel on one thread and nothing else (no encoding, sorting or
 *   layout). The build uses a helper thread for hashing (2 cores here); `manifest.1m.1thread` is the
 *   same build on one thread, against the same baseline.
 * - `rewardEpoch.1m`: the reward function over 1,000,000 scores (in random order) with 1,000,000
 *   previous balances, against a loop that only sums stake × answered over the same scores.
 *
 * `--quick` (or BENCH_QUICK=1) uses 100,000 accounts and names the cases `.100k`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { createKeccakKernel, KECCAK_RESERVED_BYTES } from '../src/core/keccak.ts';
import { buildRewardTree, type RewardEntry } from '../src/core/merkle.ts';
import { type NodeScore, rewardEpoch } from '../src/economics/rewards.ts';
import { bestTime, report } from './report.ts';

const BENCH = 'rewards';
const HEAP_MB = 8192;

/**
 * Runs the benchmark; re-spawns itself with a larger heap when the OpenZeppelin baseline needs it.
 *
 * @example await main(['--quick']);
 */
export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick') || process.env['BENCH_QUICK'] === '1';
  if (!quick && getHeapStatistics().heap_size_limit < (HEAP_MB - 512) * 2 ** 20) {
    const runner = join(dirname(fileURLToPath(import.meta.url)), 'run.ts');
    const child = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, runner, BENCH, ...args], {
      stdio: 'inherit',
    });
    if (child.status !== 0) throw new Error(`benchmark child exited with ${child.status ?? child.signal}`);
    return;
  }
  const n = quick ? 100_000 : 1_000_000;
  const label = quick ? '100k' : '1m';
  const entries = randomEntries(n, 0x5eed);

  const ours = await bestTime(() => buildRewardTree(entries), 1000, 3);
  const root = buildRewardTree(entries).root;
  const bare = await bestTime(keccakOnly(entries.length), 1000, 3);
  report(
    { bench: BENCH, case: `manifest.${label}`, value: ours, unit: 's' },
    { name: 'keccak-only', value: bare, higherIsBetter: false },
  );
  // The same build without the helper thread, against the same single-threaded bare hashing.
  const single = await bestTime(() => buildRewardTree(entries, { threads: 1 }), 1000, 3);
  report(
    { bench: BENCH, case: `manifest.${label}.1thread`, value: single, unit: 's' },
    { name: 'keccak-only', value: bare, higherIsBetter: false },
  );

  const t0 = performance.now();
  const oz = StandardMerkleTree.of(
    entries.map((e) => [e.account, e.amount]),
    ['address', 'uint256'],
  );
  const ozSeconds = (performance.now() - t0) / 1000;
  if (oz.root !== root) throw new Error(`roots differ: ours ${root}, @openzeppelin/merkle-tree ${oz.root}`);
  report(
    { bench: BENCH, case: `manifest.${label}`, value: ours, unit: 's' },
    { name: '@openzeppelin/merkle-tree', value: ozSeconds, higherIsBetter: false },
  );

  const { scores, previous } = randomEpoch(entries, 0xfeed);
  const input = { epoch: 1n, pool: 10n ** 24n, carry: 0n, scores, previous };
  const reward = await bestTime(() => rewardEpoch(input), 1000, 3);
  const sum = await bestTime(() => {
    let total = 0n;
    for (const s of scores) total += s.stake * BigInt(s.answered);
    return total;
  });
  report(
    { bench: BENCH, case: `rewardEpoch.${label}`, value: reward, unit: 's' },
    { name: 'sum-loop', value: sum, higherIsBetter: false },
  );
}

/** The bare hashing a tree of n leaves needs: 2n leaf hashes and n−1 node hashes, nothing else. */
function keccakOnly(n: number): () => void {
  const src = KECCAK_RESERVED_BYTES;
  const out = src + 64 * n;
  const kernel = createKeccakKernel(96 * n);
  const mem = new Uint8Array(kernel.memory.buffer);
  const rand = sfc32(7);
  for (let i = src; i < out; i += 4) new DataView(mem.buffer).setUint32(i, rand());
  return () => {
    kernel.hashLeaves(src, n, out);
    kernel.hashBlocks64(src, n - 1, out);
  };
}

/**
 * n distinct random accounts, sorted, with amounts below ~2^72 (thousands of 18-decimal tokens).
 * The entry objects and their strings are allocated in account order, as rewardEpoch() creates them.
 */
function randomEntries(n: number, seed: number): RewardEntry[] {
  const rand = sfc32(seed);
  const hex = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
  const accounts = new Set<string>();
  while (accounts.size < n) {
    let s = '';
    for (let i = 0; i < 5; i++) {
      const w = rand();
      s += hex[w >>> 24]! + hex[(w >>> 16) & 0xff]! + hex[(w >>> 8) & 0xff]! + hex[w & 0xff]!;
    }
    accounts.add(s);
  }
  return [...accounts].sort().map((account) => ({
    account: Buffer.from(`0x${account}`, 'latin1').toString('latin1') as `0x${string}`,
    amount: (BigInt(rand() & 0xff) << 64n) | (BigInt(rand()) << 32n) | BigInt(rand()),
  }));
}

/** Scores for the same accounts in random order, and the entries as previous balances. */
function randomEpoch(entries: RewardEntry[], seed: number) {
  const rand = sfc32(seed);
  const scores: NodeScore[] = entries.map((e) => {
    const challenged = 1 + (rand() % 24);
    return {
      account: e.account,
      stake: (BigInt(rand() & 0xffff) << 32n) * 10n ** 9n,
      challenged,
      answered: rand() % (challenged + 1),
    };
  });
  for (let i = scores.length - 1; i > 0; i--) {
    const j = rand() % (i + 1);
    [scores[i], scores[j]] = [scores[j]!, scores[i]!];
  }
  const previous = new Map(entries.map((e) => [e.account, e.amount]));
  return { scores, previous };
}

/** Small fast seeded PRNG (sfc32), 32-bit unsigned outputs. */
function sfc32(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}
