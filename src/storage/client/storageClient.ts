/**
 * The storage SDK's context: the client's key and chain connection, its root key (derived once
 * from the secret), redundancy settings, and the storage nodes currently registered on chain.
 */
import type { Hex, LocalAccount } from 'viem';
import { type ChainClients, createChainClients } from '../../chain/clients.ts';
import type { Deployment } from '../../chain/deployment.ts';
import { NODE_STATUS, readNodes } from '../../chain/reads.ts';
import { DepinError } from '../../core/errors.ts';
import { type Domain, messageDomain } from '../../core/messages.ts';
import { DEFAULT_EGRESS_TOP_UP } from './egress.ts';
import { deriveRootKey, type RootKeyParams } from './keys.ts';
import type { StorageNodeRef } from './transport.ts';

/** Reed-Solomon thresholds (Storj's names): any k rebuild; repair at or below `repair`; an upload succeeds at `success`; `total` are started. */
export type Redundancy = { k: number; repair: number; success: number; total: number };

/** Defaults justified in docs/storage.md (durability calculation). */
export const DEFAULT_REDUNDANCY: Redundancy = { k: 8, repair: 10, success: 12, total: 16 };

export type StorageClient = {
  account: LocalAccount;
  clients: ChainClients;
  deployment: Deployment;
  domain: Domain;
  rootKey: Uint8Array;
  redundancy: Redundancy;
  segmentSize: number;
  manifestReplicas: number;
  /** Active storage nodes with an endpoint. */
  nodes: () => Promise<StorageNodeRef[]>;
  /** Egress payments: top the deposit up before downloads, by at least `minTopUp` Credits. */
  egress: { autoDeposit: boolean; minTopUp: bigint };
};

export type CreateStorageClientParameters = {
  rpc: string;
  deployment: Deployment;
  account: LocalAccount;
  /** The secret every key of the client's files derives from (Argon2id). */
  secret: string;
  redundancy?: Redundancy;
  segmentSize?: number;
  manifestReplicas?: number;
  /** Lighter Argon2id for tests. */
  keyParams?: RootKeyParams;
  /** Deposit for egress automatically before downloads (default true; see `depositEgress`). */
  autoDeposit?: boolean;
  /** Smallest automatic egress top-up, Credits (default 100,000 = $1). */
  minTopUp?: bigint;
};

/**
 * @example const sc = await createStorageClient({ rpc, deployment, account, secret: 'correct horse' });
 */
export async function createStorageClient(p: CreateStorageClientParameters): Promise<StorageClient> {
  const clients = createChainClients({
    rpc: p.rpc,
    chainId: p.deployment.chainId,
    account: p.account,
    pollingInterval: 100,
  });
  const redundancy = p.redundancy ?? DEFAULT_REDUNDANCY;
  const { k, repair, success, total } = redundancy;
  if (!(k >= 1 && k <= repair && repair < success && success <= total && total <= 256)) {
    throw new DepinError(
      'STORAGE_BAD_REDUNDANCY',
      `Need 1 ≤ k ≤ repair < success ≤ total ≤ 256, got ${k}/${repair}/${success}/${total}.`,
    );
  }
  const rootKey = await deriveRootKey(
    p.secret,
    p.account.address,
    p.keyParams ? { params: p.keyParams } : {},
  );
  return {
    account: p.account,
    clients,
    deployment: p.deployment,
    domain: messageDomain(p.deployment.chainId, p.deployment.contracts.Registry),
    rootKey,
    redundancy,
    segmentSize: p.segmentSize ?? 64 * 1024 * 1024,
    manifestReplicas: p.manifestReplicas ?? 6,
    nodes: async () =>
      (await readNodes(clients.public, p.deployment))
        .filter((n) => n.status === NODE_STATUS.active && (n.services & 1) !== 0 && n.endpoint)
        .map((n) => ({
          id: n.id,
          signer: n.signer,
          endpoint: n.endpoint,
          region: regionName(n.region),
          egressPrice: n.prices[1] ?? 0n,
        })),
    egress: { autoDeposit: p.autoDeposit ?? true, minTopUp: p.minTopUp ?? DEFAULT_EGRESS_TOP_UP },
  };
}

/** Redundancy that fits a network of `nodes` storage nodes: the defaults, scaled down when needed. */
export function fitRedundancy(nodes: number, wanted: Redundancy = DEFAULT_REDUNDANCY): Redundancy {
  if (nodes >= wanted.total) return wanted;
  const total = Math.max(2, nodes);
  const k = Math.max(1, Math.floor((total * wanted.k) / wanted.total));
  const success = Math.max(k + 1, Math.min(total, Math.ceil((total * wanted.success) / wanted.total)));
  const repair = Math.max(k, Math.min(success - 1, Math.round((total * wanted.repair) / wanted.total)));
  return { k, repair, success, total };
}

function regionName(region: Hex): string {
  return Buffer.from(region.slice(2), 'hex').toString('utf8').replace(/\0+$/, '');
}
