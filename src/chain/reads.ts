/** Reads of on-chain state that the daemons share, optionally pinned to a block for determinism. */
import { type Hex, type PublicClient, parseAbiItem } from 'viem';
import { epochsAbi, registryAbi, rewardsAbi, validatorsAbi } from './abi/index.ts';
import type { Deployment } from './deployment.ts';

export type NodeRecord = {
  id: Hex;
  signer: Hex;
  services: number;
  status: number;
  capacity: bigint;
  h3: bigint;
  region: Hex;
  stake: bigint;
  unbonding: bigint;
  prices: readonly bigint[];
  endpoint: string;
};

export type ValidatorRecord = { id: Hex; stake: bigint; status: number; endpoint: string };

export const NODE_STATUS = { none: 0, active: 1, suspended: 2, exiting: 3 } as const;
export const VALIDATOR_STATUS = { none: 0, active: 1, exiting: 2, removed: 3 } as const;

type At = { blockNumber?: bigint };

/** Every registered node, in registration order. */
export async function readNodes(client: PublicClient, d: Deployment, at: At = {}): Promise<NodeRecord[]> {
  const out: NodeRecord[] = [];
  const page = 200n;
  for (let offset = 0n; ; offset += page) {
    const [ids, nodes] = await client.readContract({
      address: d.contracts.Registry,
      abi: registryAbi,
      functionName: 'listNodes',
      args: [offset, page],
      ...at,
    });
    ids.forEach((id, i) => {
      const n = nodes[i]!;
      out.push({
        id: id.toLowerCase() as Hex,
        signer: n.signer.toLowerCase() as Hex,
        services: n.services,
        status: n.status,
        capacity: n.capacity,
        h3: n.h3,
        region: n.region,
        stake: n.stake,
        unbonding: n.unbonding,
        prices: n.prices,
        endpoint: n.endpoint,
      });
    });
    if (BigInt(ids.length) < page) return out;
  }
}

/** Every validator that ever joined, with its current record. */
export async function readValidators(
  client: PublicClient,
  d: Deployment,
  at: At = {},
): Promise<ValidatorRecord[]> {
  const [ids, vs] = await client.readContract({
    address: d.contracts.Validators,
    abi: validatorsAbi,
    functionName: 'listValidators',
    ...at,
  });
  return ids.map((id, i) => ({
    id: id.toLowerCase() as Hex,
    stake: vs[i]!.stake,
    status: vs[i]!.status,
    endpoint: vs[i]!.endpoint,
  }));
}

const epochOpened = parseAbiItem('event EpochOpened(uint256 indexed epoch, bytes32 randomness)');

/** The epoch's randomness and the block that fixed it (the epoch's snapshot block), if opened. */
export async function readEpochOpening(
  client: PublicClient,
  d: Deployment,
  epoch: bigint,
): Promise<{ randomness: Hex; blockNumber: bigint } | undefined> {
  const logs = await client.getLogs({
    address: d.contracts.Epochs,
    event: epochOpened,
    args: { epoch },
    fromBlock: BigInt(d.deployedAt),
    toBlock: 'latest',
  });
  const log = logs[0];
  if (!log || log.blockNumber === null) return undefined;
  return { randomness: log.args.randomness as Hex, blockNumber: log.blockNumber };
}

/** Chain time (latest block timestamp) and the epoch it falls in. */
export async function readClock(
  client: PublicClient,
  d: Deployment,
): Promise<{ now: number; epoch: bigint }> {
  const block = await client.getBlock({ blockTag: 'latest' });
  const now = Number(block.timestamp);
  const { epochGenesis, epochLength } = d.settings;
  return { now, epoch: BigInt(Math.max(0, Math.floor((now - epochGenesis) / epochLength))) };
}

export async function readRewardsState(client: PublicClient, d: Deployment) {
  const [root, nextEpoch, totalAllocated] = await Promise.all([
    client.readContract({ address: d.contracts.Rewards, abi: rewardsAbi, functionName: 'root' }),
    client.readContract({ address: d.contracts.Rewards, abi: rewardsAbi, functionName: 'nextEpoch' }),
    client.readContract({ address: d.contracts.Rewards, abi: rewardsAbi, functionName: 'totalAllocated' }),
  ]);
  return { root, nextEpoch: BigInt(nextEpoch), totalAllocated };
}

export async function isEpochOpen(client: PublicClient, d: Deployment, epoch: bigint): Promise<boolean> {
  return client.readContract({
    address: d.contracts.Epochs,
    abi: epochsAbi,
    functionName: 'isOpen',
    args: [epoch],
  });
}
