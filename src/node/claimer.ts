/**
 * Claims the node's rewards: asks validators for its proof against the root on chain, checks the
 * proof locally, and calls `Rewards.claim` when cumulative exceeds what was already claimed.
 */
import type { Hex } from 'viem';
import { rewardsAbi } from '../chain/abi/index.ts';
import { readRewardsState, readValidators, VALIDATOR_STATUS } from '../chain/reads.ts';
import { isDepinError } from '../core/errors.ts';
import { fetchJson } from '../core/http.ts';
import { verifyRewardProof } from '../core/merkle.ts';
import type { NodeComponents } from './service.ts';

export type RewardProof = { root: Hex; epoch: string; account: Hex; amount: string; proof: Hex[] };

/** Fetches a proof for `account` from the first validator that has one for the on-chain root. */
export async function fetchRewardProof(
  c: Pick<NodeComponents, 'clients' | 'deployment'>,
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
export async function claimRewards(
  c: Pick<NodeComponents, 'clients' | 'deployment' | 'account' | 'log'>,
): Promise<bigint> {
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
