/**
 * `listFiles`, `statFile`, `removeFile`: what a client sees of its stored files. Deals are on chain
 * (DealCreated, indexed by client); names and file ids are kept in a local index beside the client
 * key, since only the client can map a deal to a file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Hex } from 'viem';
import { storageDealsAbi } from '../../chain/abi/index.ts';
import { DepinError } from '../../core/errors.ts';
import { fetchManifest } from './getFile.ts';
import { manifestId } from './keys.ts';
import { dealRoot } from './manifest.ts';
import type { StorageClient } from './storageClient.ts';
import { manifestPieceId } from './storeFile.ts';
import { deletePiece, hasPiece } from './transport.ts';

export type FileEntry = { fileId: Hex; name: string; size: number; dealId: string; storedAt: number };

/** The client's local index of stored files (JSON). */
export function readIndex(path: string): FileEntry[] {
  if (!existsSync(path)) return [];
  return JSON.parse(readFileSync(path, 'utf8')) as FileEntry[];
}

export function addToIndex(path: string, entry: FileEntry): void {
  const entries = readIndex(path).filter((e) => e.fileId !== entry.fileId);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify([...entries, entry], null, 2));
}

export function removeFromIndex(path: string, fileId: Hex): void {
  if (existsSync(path))
    writeFileSync(
      path,
      JSON.stringify(
        readIndex(path).filter((e) => e.fileId !== fileId),
        null,
        2,
      ),
    );
}

export type FileStat = {
  fileId: Hex;
  size: number;
  k: number;
  n: number;
  algorithm: string;
  segments: { index: number; size: number; healthy: number; pieces: number; nodes: Hex[] }[];
  deal: {
    id: string;
    active: boolean;
    startEpoch: string;
    endEpoch: string;
    paidUntil: string | null;
    escrow: string;
    permanent: boolean;
  } | null;
};

/**
 * Manifest, per-segment piece health (each placed piece asked for, headers only) and the deal.
 *
 * @example const s = await statFile(client, fileId, dealId);
 */
export async function statFile(sc: StorageClient, fileId: Hex, dealId?: bigint): Promise<FileStat> {
  const manifest = await fetchManifest(sc, fileId);
  const nodes = new Map((await sc.nodes()).map((n) => [n.id, n]));
  const segments = await Promise.all(
    manifest.segments.map(async (s) => {
      const health = await Promise.all(
        s.pieces.map(async (p) => {
          const node = p.node ? nodes.get(p.node as Hex) : undefined;
          if (!node) return false;
          return hasPiece({
            account: sc.account,
            domain: sc.domain,
            node,
            pieceId: p.pieceId as Hex,
            size: p.size,
          });
        }),
      );
      return {
        index: s.index,
        size: s.size,
        healthy: health.filter(Boolean).length,
        pieces: s.pieces.length,
        nodes: s.pieces.map((p) => p.node as Hex),
      };
    }),
  );
  let deal: FileStat['deal'] = null;
  const id = dealId ?? (await findDeal(sc, fileId));
  if (id !== undefined) {
    const d = await sc.clients.public.readContract({
      address: sc.deployment.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'deal',
      args: [id],
    });
    const { epochGenesis, epochLength } = sc.deployment.settings;
    const permanent = d.permanent;
    deal = {
      id: String(id),
      active: !d.terminated,
      startEpoch: String(d.startEpoch),
      endEpoch: permanent ? 'never' : String(d.endEpoch),
      paidUntil: permanent
        ? null
        : new Date((epochGenesis + Number(d.endEpoch) * epochLength) * 1000).toISOString(),
      escrow: String(d.escrow),
      permanent,
    };
  }
  return {
    fileId,
    size: manifest.size,
    k: manifest.k,
    n: manifest.n,
    algorithm: manifest.algorithm,
    segments,
    deal,
  };
}

/** The deal whose root commits to this file's pieces (found through DealCreated events of this client). */
export async function findDeal(sc: StorageClient, fileId: Hex): Promise<bigint | undefined> {
  const manifest = await fetchManifest(sc, fileId);
  const ids = [
    ...manifest.segments.flatMap((s) => s.pieces.map((p) => p.pieceId as Hex)),
    manifestPieceId(manifestId(sc.rootKey, fileId)),
  ];
  const root = dealRoot(ids).toLowerCase();
  const logs = await sc.clients.public.getContractEvents({
    address: sc.deployment.contracts.StorageDeals,
    abi: storageDealsAbi,
    eventName: 'DealCreated',
    args: { client: sc.account.address },
    fromBlock: BigInt(sc.deployment.deployedAt),
  });
  const match = logs.find((l) => String(l.args.root).toLowerCase() === root);
  return match?.args.dealId;
}

/**
 * Ends the file's deal (refunding unspent escrow) and asks its nodes to delete the pieces.
 *
 * @example const { refund } = await removeFile(client, fileId);
 */
export async function removeFile(
  sc: StorageClient,
  fileId: Hex,
): Promise<{ dealId: string | null; deleted: number }> {
  const manifest = await fetchManifest(sc, fileId);
  const dealId = await findDeal(sc, fileId);
  if (dealId !== undefined) {
    try {
      await sc.clients.write({
        address: sc.deployment.contracts.StorageDeals,
        abi: storageDealsAbi,
        functionName: 'terminate',
        args: [dealId],
      });
    } catch (e) {
      if ((e as DepinError).code !== 'DEAL_ENDED') throw e;
    }
  }
  const nodes = await sc.nodes();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let deleted = 0;
  const mPiece = manifestPieceId(manifestId(sc.rootKey, fileId));
  const jobs = [
    ...manifest.segments.flatMap((s) =>
      s.pieces.map((p) => ({ node: byId.get(p.node as Hex), pieceId: p.pieceId as Hex })),
    ),
    ...nodes.map((node) => ({ node, pieceId: mPiece })),
  ];
  await Promise.all(
    jobs.map(async (j) => {
      if (!j.node) return;
      try {
        await deletePiece({ account: sc.account, domain: sc.domain, node: j.node, pieceId: j.pieceId });
        deleted++;
      } catch {
        // a node that is down collects the piece when the deal's end passes
      }
    }),
  );
  if (dealId === undefined && deleted === 0)
    throw new DepinError('STORAGE_FILE_NOT_FOUND', `Nothing to remove for ${fileId}.`, { status: 404 });
  return { dealId: dealId === undefined ? null : String(dealId), deleted };
}
