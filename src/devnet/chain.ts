/**
 * The embedded chain with the contracts deployed: an EDR devnet behind a JSON-RPC server on
 * 127.0.0.1, a deployment file on disk, and dev accounts funded with ETH and Token.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createChainClients } from '../chain/clients.ts';
import { deployNetwork, devnetSettings } from '../chain/deploy.ts';
import type { Deployment } from '../chain/deployment.ts';
import { writeDeployment } from '../chain/deployment.ts';
import { createDevnet, type Devnet } from '../chain/devnet.ts';
import { startRpcServer } from '../chain/rpcServer.ts';

export type EmbeddedChain = {
  devnet: Devnet;
  rpc: string;
  deployment: Deployment;
  deploymentPath: string;
  stop: () => Promise<void>;
};

export const DEV_TOKEN_BALANCE = 1_000_000n * 10n ** 18n;

/**
 * @example const chain = await startEmbeddedChain({ port: 8545, deploymentPath: '.depin/devnet/deployment.json' });
 */
export async function startEmbeddedChain(options: {
  port?: number;
  host?: string;
  epochLength?: number;
  deploymentPath: string;
  accounts?: number;
}): Promise<EmbeddedChain> {
  const devnet = await createDevnet({ accounts: options.accounts ?? 20, blockTime: 1000 });
  const server = await startRpcServer({
    handle: devnet.handle,
    port: options.port ?? 8545,
    host: options.host ?? '127.0.0.1',
  });
  const settings = devnetSettings(
    options.epochLength === undefined ? {} : { epochLength: options.epochLength },
  );
  settings.genesisAllocations = devnet.accounts.map((a) => ({
    address: a.address,
    amount: DEV_TOKEN_BALANCE,
  }));
  const clients = createChainClients({
    rpc: server.url,
    chainId: devnet.chainId,
    privateKey: devnet.accounts[0]!.privateKey,
    pollingInterval: 50,
  });
  const deployment = { ...(await deployNetwork(clients, settings)), rpc: server.url };
  mkdirSync(dirname(options.deploymentPath), { recursive: true });
  writeDeployment(options.deploymentPath, deployment);
  return { devnet, rpc: server.url, deployment, deploymentPath: options.deploymentPath, stop: server.close };
}
