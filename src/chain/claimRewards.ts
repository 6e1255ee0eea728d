/**
 * Claims an account's cumulative earnings — Token rewards and storage Credits alike: asks validators
 * for its proof against the root on chain, checks the proof locally, and claims when cumulative
 * exceeds what was already claimed.
 */

import type { Hex } from 'viem';
import { isDepinError } from '../core/errors.ts';
import { fetchJson } from '../core/http.ts';
import type { Logger } from '../core/log.ts';
import { type Loop, repeatEvery } from '../core/loop.ts';
import { verifyRewardProof } from '../core/merkle.ts';
import { rewardsAbi, storageDealsAbi } from './abi/index.ts';
import type { ChainClients } from './clients.ts';
import type { Deployment } from './deployment.ts';
import { readRewardsState, readValidators, VALIDATOR_STATUS } from './reads.ts';

type ClaimDeps = { clients: ChainClients; deployment: Deployment; account: { address: Hex }; log: Logger };

export type RewardProof = { root: Hex; epoch: string; account: Hex; amount: string; proof: Hex[] };

/** Where an account's cumulative earnings are claimed: Token rewards, or storage Credits. */
type ClaimSource = {
  what: string;
  /** The validators' route serving `{root, epoch, account, amount, proof}` for an account. */
  path: string;
  root(c: ClaimDeps): Promise<Hex>;
  claimed(c: ClaimDeps, account: Hex): Promise<bigint>;
  claim(c: ClaimDeps, account: Hex, cumulative: bigint, proof: Hex[]): Promise<unknown>;
};

const REWARDS: ClaimSource = {
  what: 'rewards',
  path: '/v1/rewards/',
  root: async (c) => (await readRewardsState(c.clients.public, c.deployment)).root,
  claimed: (c, account) =>
    c.clients.public.readContract({
      address: c.deployment.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'claimed',
      args: [account],
    }),
  claim: (c, account, cumulative, proof) =>
    c.clients.write({
      address: c.deployment.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'claim',
      args: [account, cumulative, proof],
    }),
};

const STORAGE_CREDITS: ClaimSource = {
  what: 'storage credits',
  path: '/v1/storage/credits/',
  root: (c) =>
    c.clients.public.readContract({
      address: c.deployment.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'paymentsRoot',
    }),
  claimed: (c, account) =>
    c.clients.public.readContract({
      address: c.deployment.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'claimed',
      args: [account],
    }),
  claim: (c, account, cumulative, proof) =>
    c.clients.write({
      address: c.deployment.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'claimCredits',
      args: [account, cumulative, proof],
    }),
};

/** A proof for `account` from the first validator whose copy builds the root on chain. */
async function fetchProof(c: ClaimDeps, source: ClaimSource, account: Hex): Promise<RewardProof | undefined> {
  const root = await source.root(c);
  if (/^0x0+$/.test(root)) return undefined;
  const validators = (await readValidators(c.clients.public, c.deployment)).filter(
    (v) => v.status !== VALIDATOR_STATUS.none,
  );
  for (const v of validators) {
    try {
      const p = await fetchJson<RewardProof>(`${v.endpoint.replace(/\/$/, '')}${source.path}${account}`, {
        timeoutMs: 5000,
      });
      if (p.root.toLowerCase() !== root.toLowerCase()) continue;
      if (BigInt(p.amount) > 0n && !verifyRewardProof(root, account, BigInt(p.amount), p.proof)) continue;
      return p;
    } catch {
      // next validator
    }
  }
  return undefined;
}

/** One claim attempt from `source`. Returns the amount paid (0n when nothing was due). */
async function claimFrom(c: ClaimDeps, source: ClaimSource): Promise<bigint> {
  const account = c.account.address.toLowerCase() as Hex;
  const proof = await fetchProof(c, source, account);
  if (!proof) return 0n;
  const cumulative = BigInt(proof.amount);
  const claimed = await source.claimed(c, account);
  if (cumulative <= claimed) return 0n;
  try {
    await source.claim(c, account, cumulative, proof.proof);
  } catch (e) {
    // A newer root may have landed between reading and sending; the next attempt uses it.
    if (isDepinError(e, 'INVALID_PROOF') || isDepinError(e, 'NOTHING_TO_CLAIM')) return 0n;
    throw e;
  }
  c.log.info(
    { amount: String(cumulative - claimed), cumulative: String(cumulative), epoch: proof.epoch },
    `${source.what} claimed`,
  );
  return cumulative - claimed;
}

/**
 * One claim of the account's Token rewards (nodes and validators alike).
 *
 * @example const paid = await claimRewards(components);
 */
export const claimRewards = (c: ClaimDeps): Promise<bigint> => claimFrom(c, REWARDS);

/** One claim of the account's storage Credits (StorageDeals payments and repair fees). */
export const claimStorageCredits = (c: ClaimDeps): Promise<bigint> => claimFrom(c, STORAGE_CREDITS);

/**
 * Claims every `everyMs` until stopped (rewards, then storage Credits); failures are logged and retried next round.
 *
 * @example const loop = createClaimLoop(deps, 3000); loop.start(); … await loop.stop();
 */
export function createClaimLoop(c: ClaimDeps, everyMs: number): Loop {
  return repeatEvery(
    everyMs,
    () => claimRewards(c).then(() => claimStorageCredits(c)),
    (e) => c.log.warn({ err: e.message }, 'claim failed'),
  );
}
