/** What `depin devnet` shows: a live status, and the JSON summary of a finished run. */
import type { Hex } from 'viem';
import { rewardsAbi } from '../chain/abi/index.ts';
import { createChainClients } from '../chain/clients.ts';
import { readClock, readRewardsState } from '../chain/reads.ts';
import { fetchJson } from '../core/http.ts';
import type { Envelope } from '../core/messages.ts';
import type { LocalNetwork, NetworkMember } from './network.ts';

function client(net: LocalNetwork) {
  return createChainClients({ rpc: net.chain.rpc, chainId: net.chain.deployment.chainId }).public;
}

async function up(m: NetworkMember): Promise<boolean> {
  if (!m.url || !m.proc || m.proc.exitCode !== null || m.proc.signalCode !== null) return false;
  try {
    await fetchJson(`${m.url}/health`, { timeoutMs: 1000 });
    return true;
  } catch {
    return false;
  }
}

async function claimedBy(net: LocalNetwork, account: Hex): Promise<bigint> {
  return client(net).readContract({
    address: net.chain.deployment.contracts.Rewards,
    abi: rewardsAbi,
    functionName: 'claimed',
    args: [account],
  });
}

export async function readLiveStatus(net: LocalNetwork) {
  const c = client(net);
  const d = net.chain.deployment;
  const [{ epoch }, rewards, nodesUp, validatorsUp, claims] = await Promise.all([
    readClock(c, d),
    readRewardsState(c, d),
    Promise.all(net.nodes.map(up)).then((r) => r.filter(Boolean).length),
    Promise.all(net.validators.map(up)).then((r) => r.filter(Boolean).length),
    Promise.all([...net.nodes, ...net.validators].map((m) => claimedBy(net, m.address))),
  ]);
  return {
    epoch,
    nodesUp,
    validatorsUp,
    nextEpoch: rewards.nextEpoch,
    rewardedThrough: rewards.nextEpoch === 0n ? 'none' : String(rewards.nextEpoch - 1n),
    allocated: BigInt(rewards.totalAllocated),
    claimed: claims.reduce((a, b) => a + b, 0n),
  };
}

/** Earned (cumulative in the on-chain root), claimed and uptime for every member. */
export async function networkSummary(net: LocalNetwork, range: { fromEpoch: bigint; toEpoch: bigint }) {
  const c = client(net);
  const d = net.chain.deployment;
  const rewards = await readRewardsState(c, d);
  const liveValidator = net.validators.find((v) => v.proc && v.proc.exitCode === null) ?? net.validators[0]!;
  const earned = async (a: Hex) => {
    try {
      const p = await fetchJson<{ amount: string }>(`${liveValidator.url}/v1/rewards/${a}`, {
        timeoutMs: 5000,
      });
      return BigInt(p.amount);
    } catch {
      return 0n;
    }
  };
  const challenged = new Map<string, number>();
  const answered = new Map<string, number>();
  for (let e = range.fromEpoch; e <= range.toEpoch; e++) {
    for (const v of net.validators) {
      let envs: Envelope[] = [];
      try {
        envs = await fetchJson<Envelope[]>(`${v.url}/v1/evidence/${e}`, { timeoutMs: 3000 });
      } catch {
        continue;
      }
      for (const env of envs) {
        const subject = String(env.message.subject).toLowerCase();
        challenged.set(subject, (challenged.get(subject) ?? 0) + 1);
        if (Number(env.message.outcome) === 1) answered.set(subject, (answered.get(subject) ?? 0) + 1);
      }
    }
  }
  const row = async (m: NetworkMember, withUptime: boolean) => ({
    address: m.address,
    ...(withUptime
      ? {
          uptime: Number(
            ((answered.get(m.address) ?? 0) / Math.max(1, challenged.get(m.address) ?? 0)).toFixed(4),
          ),
        }
      : {}),
    earned: String(await earned(m.address)),
    claimed: String(await claimedBy(net, m.address)),
  });
  const emitted = await c.readContract({
    address: d.contracts.Rewards,
    abi: rewardsAbi,
    functionName: 'cumulativeEmission',
    args: [rewards.nextEpoch - 1n],
  });
  const nodes = await Promise.all(net.nodes.map((n) => row(n, true)));
  const validators = await Promise.all(net.validators.map((v) => row(v, false)));
  return {
    chainId: d.chainId,
    rpc: net.chain.rpc,
    epochs: {
      from: String(range.fromEpoch),
      to: String(range.toEpoch),
      rewardedThrough: String(rewards.nextEpoch - 1n),
    },
    emitted: String(emitted),
    allocated: String(rewards.totalAllocated),
    claimed: String([...nodes, ...validators].reduce((a, r) => a + BigInt(r.claimed), 0n)),
    nodes,
    validators,
  };
}

/** Waits until every live member has claimed all it earned under the root on chain (or the timeout). */
export async function waitForClaims(net: LocalNetwork, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const validator = () =>
    net.validators.find((v) => v.proc && v.proc.exitCode === null && v.proc.signalCode === null);
  while (Date.now() < deadline) {
    const v = validator();
    const live = [...net.nodes, ...net.validators].filter(
      (m) => m.proc && m.proc.exitCode === null && m.proc.signalCode === null,
    );
    if (v) {
      const pending = await Promise.all(
        live.map(async (m) => {
          try {
            const p = await fetchJson<{ amount: string }>(`${v.url}/v1/rewards/${m.address}`, {
              timeoutMs: 3000,
            });
            return BigInt(p.amount) > (await claimedBy(net, m.address));
          } catch {
            return true;
          }
        }),
      );
      if (!pending.some(Boolean)) return true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
