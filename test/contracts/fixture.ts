/**
 * One deployed network per test file: a fresh in-process devnet behind a real JSON-RPC server, the
 * whole coordination layer deployed by `deployNetwork` (admin handed to the Timelock), and helpers
 * to act as any dev account, move time, snapshot/revert, and pass proposals through governance.
 */
import assert from 'node:assert/strict';
import {
  type Abi,
  concatHex,
  encodeFunctionData,
  type Hex,
  keccak256,
  maxUint256,
  type PublicClient,
  toBytes,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { creditsAbi, depinGovernorAbi, tokenAbi } from '../../src/chain/abi/index.ts';
import { type ChainClients, createChainClients } from '../../src/chain/clients.ts';
import { deployNetwork, devnetSettings, type NetworkSettings } from '../../src/chain/deploy.ts';
import type { Deployment } from '../../src/chain/deployment.ts';
import type { DevAccount } from '../../src/chain/devAccounts.ts';
import { createDevnet, type Devnet } from '../../src/chain/devnet.ts';
import { decodeChainError } from '../../src/chain/errors.ts';
import { type RpcServer, startRpcServer } from '../../src/chain/rpcServer.ts';
import { isDepinError } from '../../src/core/errors.ts';

export const E18 = 10n ** 18n;

export type FixtureOptions = {
  /** Token minted at genesis to each dev account 1..19 (account 0 deploys). */
  allocation?: bigint;
  /** Extra genesis allocations (e.g. generated accounts). */
  allocations?: { address: Hex; amount: bigint }[];
  /** Extra accounts funded with ETH at devnet start. */
  accounts?: number;
  settings?: (s: NetworkSettings) => NetworkSettings;
};

export type Fixture = {
  devnet: Devnet;
  rpc: RpcServer;
  deployment: Deployment;
  contracts: Deployment['contracts'];
  accounts: DevAccount[];
  public: PublicClient;
  /** Clients signing as dev account `i` (0 is the deployer), or as a private key. */
  as: (who: number | Hex) => ChainClients;
  /** Moves the chain clock forward and mines a block at the new time. */
  increaseTime: (seconds: number | bigint) => Promise<void>;
  /** Timestamp of the latest block. */
  now: () => Promise<bigint>;
  snapshot: () => Promise<Hex>;
  revert: (id: Hex) => Promise<void>;
  /** Runs `calls` through Governor and Timelock (delegate, propose, vote, queue, execute). */
  govern: (
    calls: { target: Hex; abi: Abi; functionName: string; args: readonly unknown[] }[],
  ) => Promise<void>;
  close: () => Promise<void>;
};

/**
 * @example
 * const f = await createFixture();
 * after(() => f.close());
 * await f.as(1).write({ address: f.contracts.Token, abi: tokenAbi, functionName: 'approve', args: [spender, 1n] });
 */
export async function createFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const devnet = await createDevnet({ blockTime: 0, accounts: 20 + (options.accounts ?? 0) });
  const rpc = await startRpcServer({ handle: devnet.handle, port: 0 });
  const accounts = devnet.accounts;
  const cache = new Map<string, ChainClients>();
  const as = (who: number | Hex): ChainClients => {
    const key = typeof who === 'number' ? accounts[who]?.privateKey : who;
    if (!key) throw new Error(`no dev account ${who}`);
    let c = cache.get(key);
    if (!c) {
      c = createChainClients({ rpc: rpc.url, chainId: devnet.chainId, privateKey: key, pollingInterval: 5 });
      cache.set(key, c);
    }
    return c;
  };
  const allocation = options.allocation ?? 1_000_000n * E18;
  const base = devnetSettings();
  base.genesisAllocations = [
    ...accounts.slice(1, 20).map((a) => ({ address: a.address, amount: allocation })),
    ...(options.allocations ?? []),
  ];
  const settings = options.settings ? options.settings(base) : base;
  const deployment = await deployNetwork(as(0), settings);
  const publicClient = as(0).public;

  const rpcCall = (method: string, params: unknown[] = []) =>
    devnet.request({ method, params } as never) as Promise<unknown>;
  const increaseTime = async (seconds: number | bigint) => {
    await rpcCall('evm_increaseTime', [Number(seconds)]);
    await rpcCall('evm_mine');
  };
  const now = async () => (await publicClient.getBlock()).timestamp;

  let delegated = false;
  let proposals = 0;
  const govern: Fixture['govern'] = async (calls) => {
    const voter = as(1);
    const { Governor: governor } = deployment.contracts;
    if (!delegated) {
      await voter.write({
        address: deployment.contracts.Token,
        abi: tokenAbi,
        functionName: 'delegate',
        args: [voter.account!.address],
      });
      await increaseTime(1);
      delegated = true;
    }
    const targets = calls.map((c) => c.target);
    const values = calls.map(() => 0n);
    const calldatas = calls.map((c) =>
      encodeFunctionData({ abi: c.abi, functionName: c.functionName, args: c.args as unknown[] }),
    );
    const description = `fixture proposal ${++proposals}`;
    const descriptionHash = keccak256(toBytes(description));
    await voter.write({
      address: governor,
      abi: depinGovernorAbi,
      functionName: 'propose',
      args: [targets, values, calldatas, description],
    });
    const id = await publicClient.readContract({
      address: governor,
      abi: depinGovernorAbi,
      functionName: 'hashProposal',
      args: [targets, values, calldatas, descriptionHash],
    });
    await increaseTime(settings.governance.votingDelay + 1);
    await voter.write({ address: governor, abi: depinGovernorAbi, functionName: 'castVote', args: [id, 1] });
    await increaseTime(settings.governance.votingPeriod + 1);
    await voter.write({
      address: governor,
      abi: depinGovernorAbi,
      functionName: 'queue',
      args: [targets, values, calldatas, descriptionHash],
    });
    await increaseTime(settings.governance.timelockDelay + 1n);
    await voter.write({
      address: governor,
      abi: depinGovernorAbi,
      functionName: 'execute',
      args: [targets, values, calldatas, descriptionHash],
    });
  };

  return {
    devnet,
    rpc,
    deployment,
    contracts: deployment.contracts,
    accounts,
    public: publicClient,
    as,
    increaseTime,
    now,
    snapshot: async () => (await rpcCall('evm_snapshot')) as Hex,
    revert: async (id) => {
      const ok = await rpcCall('evm_revert', [id]);
      if (ok !== true) throw new Error(`evm_revert ${id} failed`);
    },
    govern,
    close: () => rpc.close(),
  };
}

/** Approves `spender` for an unlimited amount of Token from `who`. */
export async function approveToken(f: Fixture, who: number | Hex, spender: Hex): Promise<void> {
  await f.as(who).write({
    address: f.contracts.Token,
    abi: tokenAbi,
    functionName: 'approve',
    args: [spender, maxUint256],
  });
}

/** Burns `tokens` of `who`'s Token for Credits to `who` (approving Credits first). */
export async function buyCredits(f: Fixture, who: number, tokens: bigint): Promise<void> {
  await approveToken(f, who, f.contracts.Credits);
  await f.as(who).write({
    address: f.contracts.Credits,
    abi: creditsAbi,
    functionName: 'mint',
    args: [f.accounts[who]!.address, tokens, 0n],
  });
}

export async function tokenBalance(f: Fixture, account: Hex): Promise<bigint> {
  return f.public.readContract({
    address: f.contracts.Token,
    abi: tokenAbi,
    functionName: 'balanceOf',
    args: [account],
  });
}

/** The EIP-712 message validators sign for an epoch's result (Validators.EPOCH_ROOT_TYPEHASH). */
export type EpochRoot = { epoch: bigint; rewardsRoot: Hex; evidenceRoot: Hex; total: bigint };

export const EPOCH_ROOT_TYPES = {
  EpochRoot: [
    { name: 'epoch', type: 'uint256' },
    { name: 'rewardsRoot', type: 'bytes32' },
    { name: 'evidenceRoot', type: 'bytes32' },
    { name: 'total', type: 'uint256' },
  ],
} as const;

/** Signs `root` as the validator holding `privateKey`, for the Validators contract at `validators`. */
export async function signEpochRoot(
  privateKey: Hex,
  chainId: number,
  validators: Hex,
  root: EpochRoot,
): Promise<{ signer: Hex; signature: Hex }> {
  const account = privateKeyToAccount(privateKey);
  const signature = await account.signTypedData({
    domain: { name: 'depin', version: '1', chainId, verifyingContract: validators },
    types: EPOCH_ROOT_TYPES,
    primaryType: 'EpochRoot',
    message: root,
  });
  return { signer: account.address, signature };
}

/** 65-byte signatures concatenated in ascending signer order, as `verifyEpochRoot` expects. */
export function packSignatures(signed: { signer: Hex; signature: Hex }[]): Hex {
  const sorted = [...signed].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  return concatHex(sorted.map((s) => s.signature));
}

/** Turns a rejected read (viem error) into the DepinError the SDK would raise. */
export function decoded<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((e: unknown) => {
    throw decodeChainError(e);
  });
}

/** Asserts that `promise` rejects with a DepinError of `code`; returns the error for further checks. */
export async function rejectsWithCode(
  promise: Promise<unknown>,
  code: string,
): Promise<{ code: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isDepinError(e), `expected a DepinError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return { code: e.code, details: e.details ?? {} };
  }
  assert.fail(`expected a rejection with ${code}, but it succeeded`);
}
