/**
 * `depin node`: the one place that wires an operator node. On start it serves its HTTP API, then
 * registers and stakes if it is not registered yet (idempotent: a restart changes nothing unless
 * the endpoint or key moved), answers challenges, and claims rewards each epoch.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Hex, LocalAccount } from 'viem';
import { registryAbi, tokenAbi, validatorsAbi } from '../chain/abi/index.ts';
import { createClaimLoop } from '../chain/claimRewards.ts';
import { createChainClients } from '../chain/clients.ts';
import type { Deployment } from '../chain/deployment.ts';
import { VALIDATOR_STATUS } from '../chain/reads.ts';
import { startJsonServer } from '../core/http.ts';
import type { Logger } from '../core/log.ts';
import { messageDomain } from '../core/messages.ts';
import { createMetrics } from '../core/metrics.ts';
import { createNonceStore } from '../core/nonces.ts';
import type { NodeComponents, NodeService, NodeServiceFactory } from './service.ts';

export type NodeConfig = {
  rpc: string;
  deployment: Deployment;
  account: LocalAccount;
  /** Signing key for HTTP answers; defaults to the operator account. */
  signer?: LocalAccount;
  dataDir: string;
  host: string;
  port: number;
  publicUrl?: string;
  stake: bigint;
  services: NodeServiceFactory[];
  /** Registry fields. */
  capacity: bigint;
  h3: bigint;
  region: string;
  prices: readonly [bigint, bigint, bigint];
  /** How often to try claiming, ms. */
  claimEveryMs: number;
  maxBody: number;
  log: Logger;
};

export type NodeDaemon = { readonly url: string; start: () => Promise<void>; stop: () => Promise<void> };

export function createNode(config: NodeConfig): NodeDaemon {
  const d = config.deployment;
  const log = config.log;
  mkdirSync(config.dataDir, { recursive: true });
  const db = new DatabaseSync(join(config.dataDir, 'node.sqlite'));
  // Used nonces only: losing the last commits to a power cut reopens at most their (short) expiry.
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
  const clients = createChainClients({ rpc: config.rpc, chainId: d.chainId, account: config.account });
  const metrics = createMetrics('depin_node');
  const validatorCache = new Map<string, { active: boolean; at: number }>();
  const components: NodeComponents = {
    account: config.account,
    signer: config.signer ?? config.account,
    deployment: d,
    clients,
    domain: messageDomain(d.chainId, d.contracts.Registry),
    log,
    metrics,
    nonces: createNonceStore(db),
    dataDir: config.dataDir,
    isActiveValidator: async (address: Hex) => {
      const key = address.toLowerCase();
      const hit = validatorCache.get(key);
      if (hit && Date.now() - hit.at < 5000) return hit.active;
      const v = await clients.public.readContract({
        address: d.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'getValidator',
        args: [address],
      });
      const active = v.status === VALIDATOR_STATUS.active;
      validatorCache.set(key, { active, at: Date.now() });
      return active;
    },
  };
  const services: NodeService[] = config.services.map((make) => make(components));
  let server: Awaited<ReturnType<typeof startJsonServer>> | undefined;
  const claims = createClaimLoop(
    { clients, deployment: d, account: config.account, log },
    config.claimEveryMs,
  );
  const started: NodeService[] = [];

  async function ensureRegistered(url: string): Promise<void> {
    const me = config.account.address;
    const signer = components.signer.address;
    const servicesMask = services.reduce((m, s) => m | s.serviceBit, 0) || 1;
    const params = {
      signer,
      services: servicesMask,
      capacity: config.capacity,
      h3: config.h3,
      region: regionBytes(config.region),
      prices: config.prices,
      endpoint: url,
    } as const;
    const node = await clients.public.readContract({
      address: d.contracts.Registry,
      abi: registryAbi,
      functionName: 'getNode',
      args: [me],
    });
    if (node.status === 0) {
      const required = await clients.public.readContract({
        address: d.contracts.Registry,
        abi: registryAbi,
        functionName: 'requiredStake',
        args: [servicesMask],
      });
      const stake = config.stake > required ? config.stake : required;
      await clients.write({
        address: d.contracts.Token,
        abi: tokenAbi,
        functionName: 'approve',
        args: [d.contracts.Registry, stake],
      });
      await clients.write({
        address: d.contracts.Registry,
        abi: registryAbi,
        functionName: 'register',
        args: [params, stake],
      });
      log.info({ node: me, stake: String(stake), endpoint: url }, 'registered and staked');
      return;
    }
    const changed =
      node.endpoint !== url ||
      node.signer.toLowerCase() !== signer.toLowerCase() ||
      node.services !== servicesMask ||
      node.prices.some((price, i) => price !== config.prices[i]);
    if (changed && node.status !== 3) {
      await clients.write({
        address: d.contracts.Registry,
        abi: registryAbi,
        functionName: 'update',
        args: [params],
      });
      log.info({ node: me, endpoint: url }, 'registration updated');
    } else {
      log.info({ node: me, status: node.status, stake: String(node.stake) }, 'already registered');
    }
  }

  return {
    get url() {
      return server?.url ?? '';
    },
    async start() {
      for (const s of services) {
        await s.start?.();
        started.push(s);
      }
      server = await startJsonServer({
        log,
        host: config.host,
        port: config.port,
        maxBody: config.maxBody,
        routes: [
          {
            method: 'GET',
            path: '/health',
            handler: () => ({
              body: { ok: true, node: config.account.address, services: services.map((s) => s.name) },
            }),
          },
          metrics.route,
          ...services.flatMap((s) => s.routes),
        ],
        onRequest: (route, status) => metrics.requests.inc({ route, status: String(status) }),
      });
      const url = config.publicUrl ?? server.url;
      await ensureRegistered(url);
      log.info({ url, node: config.account.address }, 'node serving');
      claims.start();
    },
    async stop() {
      await claims.stop();
      await server?.stop();
      for (const s of started.reverse()) await s.stop?.();
      db.close();
    },
  };
}

function regionBytes(region: string): Hex {
  const bytes = Buffer.alloc(8);
  bytes.write(region.slice(0, 8), 'utf8');
  return `0x${bytes.toString('hex')}`;
}
