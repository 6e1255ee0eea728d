/**
 * Where each piece of each deal lives, as validators know it: clients submit their placements
 * after opening a deal, and a placement is accepted only when the deal is on chain, its root is the
 * root of the submitted piece ids, and every piece carries the holder's signed PieceReceipt.
 * Stored in the validator's SQLite; audits sample from it.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Hex } from 'viem';
import { z } from 'zod';
import { storageDealsAbi } from '../../chain/abi/index.ts';
import type { ChainClients } from '../../chain/clients.ts';
import type { Deployment } from '../../chain/deployment.ts';
import type { NodeRecord } from '../../chain/reads.ts';
import { DepinError } from '../../core/errors.ts';
import { type Domain, verifyEnvelope } from '../../core/messages.ts';
import { dealRoot } from '../client/manifest.ts';

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
export const placementSchema = z.object({
  dealId: z.string().regex(/^[1-9][0-9]{0,30}$/),
  pieceIds: z.array(hex32).min(1).max(100_000),
  pieces: z
    .array(
      z.object({
        pieceId: hex32,
        pieceRoot: hex32,
        size: z.number().int().positive(),
        node: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
        receipt: z.unknown(),
      }),
    )
    .min(1)
    .max(100_000),
});
export type PlacementSubmission = z.infer<typeof placementSchema>;

export type Placement = { dealId: bigint; pieceId: Hex; pieceRoot: Hex; size: number; node: Hex };

export function createPlacementStore(db: DatabaseSync) {
  db.exec(`CREATE TABLE IF NOT EXISTS placements (
    deal_id INTEGER NOT NULL, piece_id TEXT NOT NULL, piece_root TEXT NOT NULL, size INTEGER NOT NULL,
    node TEXT NOT NULL, PRIMARY KEY (piece_id, node))`);
  const insert = db.prepare(
    'INSERT OR IGNORE INTO placements (deal_id, piece_id, piece_root, size, node) VALUES (?, ?, ?, ?, ?)',
  );
  const all = db.prepare('SELECT * FROM placements');
  return {
    add(p: Placement[]): number {
      let added = 0;
      db.exec('BEGIN');
      try {
        for (const x of p)
          added += Number(
            insert.run(
              x.dealId,
              x.pieceId.toLowerCase(),
              x.pieceRoot.toLowerCase(),
              x.size,
              x.node.toLowerCase(),
            ).changes,
          );
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
      return added;
    },
    all(): Placement[] {
      return (all.all() as Record<string, string | number>[]).map((r) => ({
        dealId: BigInt(r.deal_id!),
        pieceId: r.piece_id as Hex,
        pieceRoot: r.piece_root as Hex,
        size: Number(r.size),
        node: r.node as Hex,
      }));
    },
  };
}
export type PlacementStore = ReturnType<typeof createPlacementStore>;

/**
 * Checks a submission against the chain and the nodes' receipts; returns the placements to keep.
 * Errors: BAD_PLACEMENT, DEAL_UNKNOWN, DEAL_ROOT_MISMATCH, PIECE_NOT_IN_DEAL, BAD_RECEIPT.
 */
export async function verifyPlacements(
  input: unknown,
  deps: { clients: ChainClients; deployment: Deployment; domain: Domain; nodes: () => Promise<NodeRecord[]> },
): Promise<Placement[]> {
  const parsed = placementSchema.safeParse(input);
  if (!parsed.success) {
    throw new DepinError(
      'BAD_PLACEMENT',
      `The placement is malformed: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}.`,
    );
  }
  const sub = parsed.data;
  const dealId = BigInt(sub.dealId);
  let onChain: Hex;
  try {
    [onChain] = await deps.clients.public.readContract({
      address: deps.deployment.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'dealRoot',
      args: [dealId],
    });
  } catch (e) {
    throw new DepinError('DEAL_UNKNOWN', `Deal ${dealId} is not on chain.`, { cause: e, status: 404 });
  }
  if (/^0x0+$/.test(onChain))
    throw new DepinError('DEAL_UNKNOWN', `Deal ${dealId} is not on chain.`, { status: 404 });
  if (dealRoot(sub.pieceIds as Hex[]).toLowerCase() !== onChain.toLowerCase()) {
    throw new DepinError('DEAL_ROOT_MISMATCH', `The piece ids do not build deal ${dealId}'s root on chain.`);
  }
  const inDeal = new Set(sub.pieceIds.map((x) => x.toLowerCase()));
  const signers = new Map((await deps.nodes()).map((n) => [n.id, n.signer]));
  const out: Placement[] = [];
  for (const p of sub.pieces) {
    if (!inDeal.has(p.pieceId.toLowerCase()))
      throw new DepinError('PIECE_NOT_IN_DEAL', `Piece ${p.pieceId} is not in deal ${dealId}.`);
    const node = p.node.toLowerCase() as Hex;
    let message: { node: Hex; pieceId: Hex; pieceRoot: Hex; size: bigint };
    try {
      ({ message } = await verifyEnvelope(p.receipt, {
        type: 'PieceReceipt',
        domain: deps.domain,
        signerField: 'node',
        resolveKey: async () => signers.get(node),
      }));
    } catch (e) {
      throw new DepinError(
        'BAD_RECEIPT',
        `The receipt for piece ${p.pieceId} is not ${node}'s: ${(e as DepinError).code ?? (e as Error).message}.`,
        { cause: e },
      );
    }
    if (
      message.node.toLowerCase() !== node ||
      message.pieceId.toLowerCase() !== p.pieceId.toLowerCase() ||
      message.pieceRoot.toLowerCase() !== p.pieceRoot.toLowerCase() ||
      Number(message.size) !== p.size
    ) {
      throw new DepinError('BAD_RECEIPT', `The receipt for piece ${p.pieceId} does not match the placement.`);
    }
    out.push({ dealId, pieceId: p.pieceId as Hex, pieceRoot: p.pieceRoot as Hex, size: p.size, node });
  }
  return out;
}
