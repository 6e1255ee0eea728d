/**
 * Deploys and wires the whole coordination layer, then hands every admin power to the Timelock
 * (so that only governance changes parameters and roles). Works against any EVM JSON-RPC endpoint.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Abi, encodeDeployData, type Hex, keccak256, toBytes, zeroAddress } from 'viem';
import { DepinError } from '../core/errors.ts';
import { depinTimelockAbi, paramsAbi, tokenAbi } from './abi/index.ts';
import type { ChainClients } from './clients.ts';
import type { Deployment } from './deployment.ts';

export type NetworkSettings = {
  epochLength: number;
  /** Token emitted per epoch before the first halving, base units. */
  initialEmission: bigint;
  halvingEpochs: bigint;
  params: Record<ParamName, bigint>;
  governance: {
    votingDelay: number;
    votingPeriod: number;
    proposalThreshold: bigint;
    quorumPercent: bigint;
    timelockDelay: bigint;
  };
  /** Devnet: token holders at genesis. */
  genesisAllocations: { address: Hex; amount: bigint }[];
  /** Price feed at deployment: USD with 8 decimals. */
  price: { price: bigint; confidence: bigint };
};

export const PARAM_NAMES = [
  'MIN_STAKE_BASE',
  'MIN_STAKE_STORAGE',
  'MIN_STAKE_COMPUTE',
  'MIN_STAKE_AI',
  'MIN_STAKE_WIRELESS',
  'MIN_STAKE_VALIDATOR',
  'UNBONDING_PERIOD',
  'SLASH_EQUIVOCATION_BPS',
  'REPORTER_REWARD_BPS',
  'REWARDS_BREAKER_MULTIPLIER',
  'CREDITS_MAX_PRICE_AGE',
  'CREDITS_REDEEM_DAILY_CAP',
  'REWARDS_SHARE_VALIDATORS_BPS',
  'CHALLENGES_PER_EPOCH',
  'STORAGE_PRICE_GIB_EPOCH',
  'STORAGE_PERM_DECLINE_BPS',
  'CHALLENGE_DEPOSIT',
  'CHALLENGE_WINDOW',
  'SLASH_LOST_PIECE',
  'CHALLENGE_REWARD_BPS',
  'SLASH_STORAGE_LOSS_BPS',
  'STORAGE_REPAIR_FEE_EPOCHS',
  'EGRESS_WITHDRAW_DELAY',
] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

const E18 = 10n ** 18n;
const MAX = 2n ** 128n - 1n;

/** Bounds governance may move each parameter within. */
export const PARAM_BOUNDS: Record<ParamName, [bigint, bigint]> = {
  MIN_STAKE_BASE: [0n, MAX],
  MIN_STAKE_STORAGE: [0n, MAX],
  MIN_STAKE_COMPUTE: [0n, MAX],
  MIN_STAKE_AI: [0n, MAX],
  MIN_STAKE_WIRELESS: [0n, MAX],
  MIN_STAKE_VALIDATOR: [1n, MAX],
  UNBONDING_PERIOD: [0n, 365n * 86400n],
  SLASH_EQUIVOCATION_BPS: [0n, 10_000n],
  REPORTER_REWARD_BPS: [0n, 10_000n],
  REWARDS_BREAKER_MULTIPLIER: [1n, 100n],
  CREDITS_MAX_PRICE_AGE: [1n, 86400n],
  CREDITS_REDEEM_DAILY_CAP: [0n, MAX],
  REWARDS_SHARE_VALIDATORS_BPS: [0n, 10_000n],
  CHALLENGES_PER_EPOCH: [1n, 64n],
  STORAGE_PRICE_GIB_EPOCH: [1n, MAX],
  // 0.01 %–50 % a year: the endowment's ln series needs the decline well below 100 %.
  STORAGE_PERM_DECLINE_BPS: [1n, 5000n],
  CHALLENGE_DEPOSIT: [1n, 2n ** 96n - 1n],
  CHALLENGE_WINDOW: [1n, 30n * 86400n],
  SLASH_LOST_PIECE: [0n, MAX],
  CHALLENGE_REWARD_BPS: [0n, 10_000n],
  SLASH_STORAGE_LOSS_BPS: [0n, 10_000n],
  STORAGE_REPAIR_FEE_EPOCHS: [0n, 10_000n],
  // At least a second, at most 30 days: nodes need time to redeem, clients their money back.
  EGRESS_WITHDRAW_DELAY: [1n, 30n * 86400n],
};

/** Settings of the local devnet (short epochs and delays so that a demo moves). */
export function devnetSettings(
  overrides: Partial<Pick<NetworkSettings, 'epochLength'>> = {},
): NetworkSettings {
  const epochLength = overrides.epochLength ?? 10;
  return {
    epochLength,
    initialEmission: 1000n * E18,
    halvingEpochs: BigInt(Math.round((2 * 365 * 86400) / epochLength)),
    params: {
      MIN_STAKE_BASE: 100n * E18,
      MIN_STAKE_STORAGE: 100n * E18,
      MIN_STAKE_COMPUTE: 100n * E18,
      MIN_STAKE_AI: 100n * E18,
      MIN_STAKE_WIRELESS: 10n * E18,
      MIN_STAKE_VALIDATOR: 1000n * E18,
      UNBONDING_PERIOD: 60n,
      SLASH_EQUIVOCATION_BPS: 5000n,
      REPORTER_REWARD_BPS: 1000n,
      REWARDS_BREAKER_MULTIPLIER: 2n,
      CREDITS_MAX_PRICE_AGE: 600n,
      CREDITS_REDEEM_DAILY_CAP: 1_000_000n * E18,
      REWARDS_SHARE_VALIDATORS_BPS: 1000n,
      CHALLENGES_PER_EPOCH: 3n,
      STORAGE_PRICE_GIB_EPOCH: 1n,
      STORAGE_PERM_DECLINE_BPS: 50n,
      CHALLENGE_DEPOSIT: E18,
      CHALLENGE_WINDOW: 30n,
      SLASH_LOST_PIECE: 20n * E18,
      CHALLENGE_REWARD_BPS: 2500n,
      SLASH_STORAGE_LOSS_BPS: 1000n,
      STORAGE_REPAIR_FEE_EPOCHS: 20n,
      EGRESS_WITHDRAW_DELAY: 60n,
    },
    governance: {
      votingDelay: 1,
      votingPeriod: 30,
      proposalThreshold: 0n,
      quorumPercent: 4n,
      timelockDelay: 5n,
    },
    genesisAllocations: [],
    price: { price: 1_00000000n, confidence: 1_000000n },
  };
}

export function paramKey(name: string): Hex {
  return keccak256(toBytes(name));
}

type Artifact = { abi: Abi; bytecode: Hex };
let artifactsCache: Record<string, Artifact> | undefined;

/** Compiled contracts from build/contracts.json (run `npm run build` first). */
export function loadArtifacts(): Record<string, Artifact> {
  if (artifactsCache) return artifactsCache;
  const file = join(dirname(fileURLToPath(import.meta.url)), '../../build/contracts.json');
  try {
    artifactsCache = JSON.parse(readFileSync(file, 'utf8')).artifacts as Record<string, Artifact>;
  } catch (e) {
    throw new DepinError('CONTRACTS_NOT_BUILT', 'The contracts are not compiled: run `npm run build`.', {
      cause: e,
    });
  }
  return artifactsCache;
}

/** Deploys one compiled contract and returns its address. */
export async function deployContract(
  clients: ChainClients,
  name: string,
  args: readonly unknown[],
): Promise<Hex> {
  const art = loadArtifacts()[name];
  if (!art)
    throw new DepinError('CONTRACTS_NOT_BUILT', `No compiled contract named ${name}: run \`npm run build\`.`);
  const data = encodeDeployData({ abi: art.abi, bytecode: art.bytecode, args });
  const receipt = await clients.send({ data, label: `deploy ${name}` });
  if (!receipt.contractAddress) throw new DepinError('DEPLOY_FAILED', `Deploying ${name} failed.`);
  return receipt.contractAddress;
}

/**
 * Deploys every contract, wires roles, declares parameters and gives admin powers to the Timelock.
 *
 * @example const deployment = await deployNetwork(clients, devnetSettings());
 */
export async function deployNetwork(clients: ChainClients, settings: NetworkSettings): Promise<Deployment> {
  const me = clients.account?.address;
  if (!me) throw new DepinError('CHAIN_NO_ACCOUNT', 'Deploying needs a key.');
  const block = await clients.public.getBlock();
  const genesis = Number(block.timestamp);

  const params = await deployContract(clients, 'Params', [me]);
  for (const name of PARAM_NAMES) {
    const [min, max] = PARAM_BOUNDS[name];
    await clients.write({
      address: params,
      abi: paramsAbi,
      functionName: 'declare',
      args: [paramKey(name), settings.params[name], min, max],
    });
  }
  const token = await deployContract(clients, 'Token', [
    me,
    settings.genesisAllocations.map((a) => a.address),
    settings.genesisAllocations.map((a) => a.amount),
  ]);
  const feed = await deployContract(clients, 'DevPriceFeed', [
    me,
    settings.price.price,
    settings.price.confidence,
  ]);
  const epochs = await deployContract(clients, 'Epochs', [BigInt(genesis), BigInt(settings.epochLength)]);
  const registry = await deployContract(clients, 'Registry', [me, token, params]);
  const validators = await deployContract(clients, 'Validators', [token, params]);
  const rewards = await deployContract(clients, 'Rewards', [
    token,
    validators,
    params,
    epochs,
    settings.initialEmission,
    settings.halvingEpochs,
  ]);
  const credits = await deployContract(clients, 'Credits', [me, token, feed, params]);
  const storageDeals = await deployContract(clients, 'StorageDeals', [
    credits,
    validators,
    registry,
    params,
    epochs,
  ]);
  const challenges = await deployContract(clients, 'Challenges', [token, registry, storageDeals, params]);
  const egressPayments = await deployContract(clients, 'EgressPayments', [credits, params]);
  const g = settings.governance;
  const timelock = await deployContract(clients, 'DepinTimelock', [g.timelockDelay, [], [zeroAddress], me]);
  const governor = await deployContract(clients, 'DepinGovernor', [
    token,
    timelock,
    g.votingDelay,
    g.votingPeriod,
    g.proposalThreshold,
    g.quorumPercent,
  ]);

  // Every role contract speaks OpenZeppelin AccessControl, so one ABI grants them all.
  const grants: [contract: Hex, role: string, to: Hex][] = [
    [token, 'MINTER_ROLE', rewards],
    [token, 'MINTER_ROLE', credits],
    // Challenges mints back the challenger's share of a slash the Registry burned (never more).
    [token, 'MINTER_ROLE', challenges],
    [credits, 'MARKET_ROLE', storageDeals],
    // Egress deposits in, voucher payments and withdrawals out.
    [credits, 'MARKET_ROLE', egressPayments],
    [registry, 'SLASHER_ROLE', challenges],
    // Storage settlements suspend, reinstate and slash nodes as the audits call for.
    [registry, 'SUSPENDER_ROLE', storageDeals],
    [registry, 'SLASHER_ROLE', storageDeals],
    [timelock, 'PROPOSER_ROLE', governor],
    [timelock, 'CANCELLER_ROLE', governor],
  ];
  for (const [address, role, to] of grants) {
    await clients.write({ address, abi: tokenAbi, functionName: 'grantRole', args: [paramKey(role), to] });
  }
  await clients.write({
    address: params,
    abi: paramsAbi,
    functionName: 'transferOwnership',
    args: [timelock],
  });
  // Admin of every role-based contract passes to the Timelock; the deployer keeps nothing.
  const admin = `0x${'00'.repeat(32)}` as Hex;
  for (const address of [token, registry, credits]) {
    await clients.write({ address, abi: tokenAbi, functionName: 'grantRole', args: [admin, timelock] });
    await clients.write({ address, abi: tokenAbi, functionName: 'renounceRole', args: [admin, me] });
  }
  await clients.write({
    address: timelock,
    abi: depinTimelockAbi,
    functionName: 'renounceRole',
    args: [admin, me],
  });

  return {
    chainId: clients.chain.id,
    deployedAt: Number(block.number),
    contracts: {
      Token: token,
      Credits: credits,
      DevPriceFeed: feed,
      Params: params,
      Registry: registry,
      Epochs: epochs,
      Validators: validators,
      Rewards: rewards,
      StorageDeals: storageDeals,
      Challenges: challenges,
      EgressPayments: egressPayments,
      Timelock: timelock,
      Governor: governor,
    },
    settings: {
      epochGenesis: genesis,
      epochLength: settings.epochLength,
      initialEmission: settings.initialEmission.toString(),
      halvingEpochs: settings.halvingEpochs.toString(),
    },
  };
}
