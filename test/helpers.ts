/** Helpers for end-to-end tests: a local network in a temp dir, chain reads, waiting. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Hex, type PublicClient, parseAbiItem } from 'viem';
import { createChainClients } from '../src/chain/clients.ts';
import { readRewardsState } from '../src/chain/reads.ts';
import { type LocalNetwork, type LocalNetworkOptions, startLocalNetwork } from '../src/devnet/network.ts';

export async function startTestNetwork(
  options: Omit<LocalNetworkOptions, 'dir' | 'port'>,
): Promise<LocalNetwork & { client: PublicClient }> {
  const dir = mkdtempSync(join(tmpdir(), 'depin-e2e-'));
  const net = await startLocalNetwork({ ...options, dir, port: 0 });
  const client = createChainClients({
    rpc: net.chain.rpc,
    chainId: net.chain.deployment.chainId,
    pollingInterval: 100,
  }).public;
  return Object.assign(net, { client });
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Waits until the chain has rewarded epoch `epoch` (Rewards.nextEpoch > epoch). */
export async function waitForRewardedEpoch(
  net: LocalNetwork & { client: PublicClient },
  epoch: bigint,
  timeoutMs?: number,
): Promise<void> {
  const len = net.chain.deployment.settings.epochLength;
  await waitFor(
    `epoch ${epoch} rewarded`,
    async () => (await readRewardsState(net.client, net.chain.deployment)).nextEpoch > epoch,
    timeoutMs ?? (Number(epoch) + 6) * len * 1000,
  );
}

const rootPosted = parseAbiItem(
  'event RootPosted(uint256 indexed epoch, bytes32 rewardsRoot, bytes32 evidenceRoot, uint256 total)',
);

/** Every root posted so far, in order. */
export async function postedRoots(net: LocalNetwork & { client: PublicClient }) {
  const logs = await net.client.getLogs({
    address: net.chain.deployment.contracts.Rewards,
    event: rootPosted,
    fromBlock: 0n,
    toBlock: 'latest',
  });
  return logs.map((l) => ({
    epoch: l.args.epoch!,
    rewardsRoot: l.args.rewardsRoot as Hex,
    total: l.args.total!,
  }));
}

export async function currentEpoch(net: LocalNetwork & { client: PublicClient }): Promise<bigint> {
  const b = await net.client.getBlock();
  const { epochGenesis, epochLength } = net.chain.deployment.settings;
  return BigInt(Math.floor((Number(b.timestamp) - epochGenesis) / epochLength));
}

/** Sleeps until `fraction` of the way into the next epoch (by chain time). */
export async function untilEpochFraction(
  net: LocalNetwork & { client: PublicClient },
  fraction: number,
): Promise<bigint> {
  const b = await net.client.getBlock();
  const { epochGenesis, epochLength } = net.chain.deployment.settings;
  const now = Number(b.timestamp);
  const e = Math.floor((now - epochGenesis) / epochLength) + 1;
  const target = epochGenesis + e * epochLength + fraction * epochLength;
  await new Promise((r) => setTimeout(r, Math.max(0, (target - now) * 1000)));
  return BigInt(e);
}
