/**
 * `bindDeal`: tells the nodes that hold a deal's pieces that the deal exists (`POST
 * /v1/storage/deals`), so they keep the pieces until the deal ends instead of collecting them once
 * their pending TTL passes (docs/storage.md, "Piece lifecycle"). Called by `storeFile` right after
 * the deal is opened, and by whoever places a piece of an existing deal again (repair).
 *
 * Best effort: every holder is told in parallel with a timeout. A node that misses it keeps its
 * pieces only for its pending TTL; the call reports such nodes (and warns once per call), so the
 * caller can retry them or count them as lost for repair.
 */
import type { Hex } from 'viem';
import { fetchJson } from '../../core/http.ts';
import type { StorageClient } from './storageClient.ts';
import type { StorageNodeRef } from './transport.ts';

export type BindDealParameters = {
  dealId: bigint;
  /** Every piece id of the deal (the node rebuilds the deal's root from them). */
  pieceIds: readonly Hex[];
  /** Ids of the nodes holding any of the pieces (duplicates are fine). */
  holders: Iterable<string>;
  /** Where to find the holders (default: the active storage nodes on chain). */
  nodes?: readonly StorageNodeRef[];
  /** Per node, ms (default 10 s). */
  timeoutMs?: number;
};

export type BindDealReturnType = {
  /** Nodes that answered, with how many of the deal's pieces each holds. */
  bound: { node: Hex; pieces: number }[];
  /** Nodes that did not: their pieces of this deal expire with the pending TTL. */
  missed: { node: Hex; code: string; message: string }[];
};

export type BindDealErrorType = never;

/**
 * @example
 * const { missed } = await bindDeal(client, { dealId, pieceIds, holders: ['0xNode…'] });
 * if (missed.length) console.warn(`${missed.length} nodes will drop their pieces`);
 */
export async function bindDeal(sc: StorageClient, p: BindDealParameters): Promise<BindDealReturnType> {
  const wanted = new Set([...p.holders].map((id) => id.toLowerCase()));
  const known = new Map((p.nodes ?? (await sc.nodes())).map((n) => [n.id.toLowerCase(), n]));
  const body = { dealId: String(p.dealId), pieceIds: p.pieceIds };
  const out: BindDealReturnType = { bound: [], missed: [] };
  await Promise.all(
    [...wanted].map(async (id) => {
      const node = known.get(id);
      if (!node) {
        out.missed.push({
          node: id as Hex,
          code: 'STORAGE_NODE_UNKNOWN',
          message: 'not an active storage node',
        });
        return;
      }
      try {
        const r = await fetchJson<{ bound: number }>(`${node.endpoint.replace(/\/$/, '')}/v1/storage/deals`, {
          body,
          timeoutMs: p.timeoutMs ?? 10_000,
        });
        out.bound.push({ node: node.id, pieces: r.bound });
      } catch (e) {
        const err = e as { code?: string; message?: string };
        out.missed.push({
          node: node.id,
          code: err.code ?? 'STORAGE_NODE_ERROR',
          message: String(err.message),
        });
      }
    }),
  );
  if (out.missed.length > 0) {
    process.emitWarning(
      `${out.missed.length} of ${wanted.size} nodes did not bind deal ${p.dealId}; their pieces expire with the pending TTL (${out.missed.map((m) => `${m.node}: ${m.code}`).join(', ')})`,
      { code: 'DEPIN_DEAL_NOT_BOUND' },
    );
  }
  return out;
}
