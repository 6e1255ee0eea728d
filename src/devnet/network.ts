/**
 * A whole local network: the embedded chain with contracts, validators and nodes as child
 * processes, each with its own dev key and data directory. `depin devnet` and the end-to-end tests
 * both use it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { type EmbeddedChain, startEmbeddedChain } from './chain.ts';
import { createDaemon, type Daemon } from './processes.ts';

export type NetworkMember = Daemon & { address: Hex; key: Hex; dataDir: string };

export type LocalNetwork = {
  chain: EmbeddedChain;
  dir: string;
  validators: NetworkMember[];
  nodes: NetworkMember[];
  stop: () => Promise<void>;
};

export type LocalNetworkOptions = {
  nodes?: number;
  validators?: number;
  epochLength?: number;
  dir: string;
  port?: number;
  /** Extra arguments per validator index (e.g. a fault mode for tests). */
  validatorArgs?: (index: number) => string[];
  nodeArgs?: (index: number) => string[];
};

/**
 * @example const net = await startLocalNetwork({ dir: '.depin/devnet', nodes: 4, validators: 3 });
 */
export async function startLocalNetwork(options: LocalNetworkOptions): Promise<LocalNetwork> {
  const nodes = options.nodes ?? 4;
  const validators = options.validators ?? 3;
  if (nodes + validators > 19)
    throw new Error('at most 19 daemons on the devnet (20 dev accounts, one deploys)');
  rmSync(options.dir, { recursive: true, force: true });
  const chain = await startEmbeddedChain({
    port: options.port ?? 8545,
    deploymentPath: join(options.dir, 'deployment.json'),
    ...(options.epochLength === undefined ? {} : { epochLength: options.epochLength }),
  });
  const accounts = chain.devnet.accounts;
  const common = ['--rpc', chain.rpc, '--deployment', chain.deploymentPath];
  const member = (
    kind: 'validator' | 'node',
    i: number,
    accountIndex: number,
    extra: string[],
  ): NetworkMember => {
    const a = accounts[accountIndex]!;
    const dataDir = join(options.dir, `${kind}-${i}`);
    const daemon = createDaemon(
      `${kind}-${i}`,
      [kind, ...common, '--key', a.privateKey, '--data-dir', dataDir, ...extra],
      join(options.dir, 'logs', `${kind}-${i}.log`),
    );
    return Object.assign(daemon, { address: a.address.toLowerCase() as Hex, key: a.privateKey, dataDir });
  };
  const vs = Array.from({ length: validators }, (_, i) =>
    member('validator', i, 1 + i, options.validatorArgs?.(i) ?? []),
  );
  const ns = Array.from({ length: nodes }, (_, i) =>
    member('node', i, 1 + validators + i, options.nodeArgs?.(i) ?? []),
  );
  const stop = async () => {
    await Promise.all([...ns, ...vs].map((d) => d.stop()));
    await chain.stop();
  };
  try {
    // Validators first, one at a time (each joins with a transaction), then nodes in parallel.
    for (const v of vs) await v.start();
    await Promise.all(ns.map((n) => n.start()));
  } catch (e) {
    await stop();
    throw e;
  }
  return { chain, dir: options.dir, validators: vs, nodes: ns, stop };
}
