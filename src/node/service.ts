/**
 * How vertical services plug into `depin node` (js-libp2p style): `service(init)(components)`
 * returns routes to mount and an optional start/stop life cycle; the daemon starts services in
 * order and stops them in reverse.
 */
import type { Hex, LocalAccount } from 'viem';
import type { ChainClients } from '../chain/clients.ts';
import type { Deployment } from '../chain/deployment.ts';
import type { Route } from '../core/http.ts';
import type { Logger } from '../core/log.ts';
import type { Domain } from '../core/messages.ts';
import type { Metrics } from '../core/metrics.ts';
import type { NonceStore } from '../core/nonces.ts';

export type NodeComponents = {
  /** The operator account (node id, stake holder, reward account). */
  account: LocalAccount;
  /** The key the node signs HTTP answers with (registered on chain as `signer`). */
  signer: LocalAccount;
  deployment: Deployment;
  clients: ChainClients;
  domain: Domain;
  log: Logger;
  metrics: Metrics;
  nonces: NonceStore;
  dataDir: string;
  /** True when `address` is an active validator (cached briefly). */
  isActiveValidator: (address: Hex) => Promise<boolean>;
};

export type NodeService = {
  name: string;
  /** Bit in the Registry's services mask this service offers (0 for infrastructure such as liveness). */
  serviceBit: number;
  routes: Route[];
  start?: () => Promise<void>;
  stop?: () => Promise<void>;
};

export type NodeServiceFactory = (components: NodeComponents) => NodeService;
