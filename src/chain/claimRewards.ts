type ClaimDeps = { clients: ChainClients; deployment: Deployment; account: { address: Hex }; log: Logger };

/**
 * Claims an account's rewards (nodes and validators alike): asks validators for its proof against the root on chain, checks the
 * proof locally, and calls `Rewards.claim` when cumulative exceeds what was already claimed.
 */
import type { Hex } from 'viem';
import { isDepinError } from '../core/errors.ts';
import { fetchJson } from '../core/http.ts';
import type { Logger } from '../core/log.ts';
import { verifyRewardProof } from '../core/merkle.ts';
import { rewardsAbi, storageDealsAbi } from './abi/index.ts';
import type { ChainClients } from './clients.ts';
import type { Deployment } from './deployment.ts';
import { readRewardsState, readValidators, VALIDATOR_STATUS } from './reads.ts';

export type RewardProof = { root: Hex; epoch: string; account: Hex; amount: string; proof: Hex[] };

/** Fetches a proof for `account` from the first validator that has one for the on-chain root. */
export async function fetchRewardProof(
  c: Pick<ClaimDeps, 'clients' | 'deployment'>,
  account: Hex,
): Promise<RewardProof | undefined> {
  const state = await readRewardsState(c.clients.public, c.deployment);
  if (/^0x0+$/.test(state.root)) return undefined;
  const validators = (await readValidators(c.clients.public, c.deployment)).filter(
    (v) => v.status !== VALIDATOR_STATUS.none,
  );
  for (const v of validators) {
    try {
      const p = await fetchJson<RewardProof>(`${v.endpoint.replace(/\/$/, '')}/v1/rewards/${account}`, {
        timeoutMs: 5000,
      });
      if (p.root.toLowerCase() !== state.root.toLowerCase()) continue;
      if (BigInt(p.amount) > 0n && !verifyRewardProof(state.root, account, BigInt(p.amount), p.proof))
        continue;
      return p;
    } catch {
      // next validator
    }
  }
  return undefined;
}

/**
 * One claim attempt. Returns the amount paid (0n when nothing was due).
 *
 * @example const paid = await claimRewards(components);
 */
export async function claimRewards(c: ClaimDeps): Promise<bigint> {
  const account = c.account.address;
  const proof = await fetchRewardProof(c, account.toLowerCase() as Hex);
  if (!proof) return 0n;
  const cumulative = BigInt(proof.amount);
  const claimed = await c.clients.public.readContract({
    address: c.deployment.contracts.Rewards,
    abi: rewardsAbi,
    functionName: 'claimed',
    args: [account],
  });
  if (cumulative <= claimed) return 0n;
  try {
    await c.clients.write({
      address: c.deployment.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'claim',
      args: [account, cumulative, proof.proof],
    });
  } catch (e) {
    // A newer root may have landed between reading and sending; the next attempt uses it.
    if (isDepinError(e, 'INVALID_PROOF') || isDepinError(e, 'NOTHING_TO_CLAIM')) return 0n;
    throw e;
  }
  c.log.info(
    { amount: String(cumulative - claimed), cumulative: String(cumulative), epoch: proof.epoch },
    'rewards claimed',
  );
  return cumulative - claimed;
}

/**
 * One claim of the account's storage Credits (StorageDeals): the proof from the first validator
 * whose copy builds the on-chain payments root. Returns the amount paid (0n when nothing was due).
 */
export async function claimStorageCredits(c: ClaimDeps): Promise<bigint> {
  const d = c.deployment;
  const read = <N extends 'paymentsRoot'>(functionName: N) =>
    c.clients.public.readContract({ address: d.contracts.StorageDeals, abi: storageDealsAbi, functionName });
  const root = await read('paymentsRoot');
  if (/^0x0+$/.test(root)) return 0n;
  const account = c.account.address.toLowerCase() as Hex;
  const validators = (await readValidators(c.clients.public, d)).filter(
    (v) => v.status === VALIDATOR_STATUS.active,
  );
  for (const v of validators) {
    let p: RewardProof;
    try {
      p = await fetchJson<RewardProof>(`${v.endpoint.replace(/\/$/, '')}/v1/storage/credits/${account}`, {
        timeoutMs: 5000,
      });
    } catch {
      continue;
    }
    const cumulative = BigInt(p.amount);
    if (p.root.toLowerCase() !== root.toLowerCase() || cumulative === 0n) continue;
    if (!verifyRewardProof(root, account, cumulative, p.proof)) continue;
    const claimed = await c.clients.public.readContract({
      address: d.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'claimed',
      args: [account],
    });
    if (cumulative <= claimed) return 0n;
    try {
      await c.clients.write({
        address: d.contracts.StorageDeals,
        abi: storageDealsAbi,
        functionName: 'claimCredits',
        args: [account, cumulative, p.proof],
      });
    } catch (e) {
      if (isDepinError(e, 'INVALID_PROOF') || isDepinError(e, 'NOTHING_TO_CLAIM')) return 0n;
      throw e;
    }
    c.log.info(
      { amount: String(cumulative - claimed), cumulative: String(cumulative) },
      'storage credits claimed',
    );
    return cumulative - claimed;
  }
  return 0n;
}

/**
 * Claims every `everyMs` until stopped (rewards, then storage Credits); failures are logged and retried next round.
 *
 * @example const loop = createClaimLoop(deps, 3000); loop.start(); … await loop.stop();
 */
export function createClaimLoop(
  c: ClaimDeps,
  everyMs: number,
): { start: () => void; stop: () => Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = claimRewards(c)
        .then(() => claimStorageCredits(c))
        .catch((e: unknown) => c.log.warn({ err: (e as Error).message }, 'claim failed'))
        .finally(schedule);
    }, everyMs);
  };
  return {
    start: schedule,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
