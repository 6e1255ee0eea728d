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
import type { Route } from '../../core/http.ts';
import type { Logger } from '../../core/log.ts';
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
  /**
   * The public layout of the deal's coded segments (no keys, no plaintext sizes beyond what the
   * pieces show), so that anyone can repair a segment: k of n pieces rebuild the others.
   */
  segments: z
    .array(
      z.object({
        index: z.number().int().min(0),
        k: z.number().int().min(1).max(255),
        n: z.number().int().min(2).max(256),
        repair: z.number().int().min(1).max(256),
        algorithm: z.enum(['cauchy', 'leopard']),
        pieces: z.array(hex32.nullable()).min(2).max(256),
      }),
    )
    .max(100_000)
    .optional(),
  /** A piece stored as whole copies (the file's sealed manifest) and how many copies it should have. */
  replicas: z
    .array(z.object({ pieceId: hex32, copies: z.number().int().min(1).max(64) }))
    .max(16)
    .optional(),
});
export type PlacementSubmission = z.infer<typeof placementSchema>;

export type Placement = { dealId: bigint; pieceId: Hex; pieceRoot: Hex; size: number; node: Hex };
export type SegmentLayout = NonNullable<PlacementSubmission['segments']>[number] & { dealId: bigint };
export type Repair = { dealId: bigint; pieceId: Hex; size: number; node: Hex; repairer: Hex; epoch: bigint };

export function createPlacementStore(db: DatabaseSync) {
  db.exec(`CREATE TABLE IF NOT EXISTS placements (
    deal_id INTEGER NOT NULL, piece_id TEXT NOT NULL, piece_root TEXT NOT NULL, size INTEGER NOT NULL,
    node TEXT NOT NULL, PRIMARY KEY (piece_id, node))`);
  const insert = db.prepare(
    'INSERT OR IGNORE INTO placements (deal_id, piece_id, piece_root, size, node) VALUES (?, ?, ?, ?, ?)',
  );
  const all = db.prepare('SELECT * FROM placements');
  db.exec(`CREATE TABLE IF NOT EXISTS segments (
    deal_id INTEGER NOT NULL, idx INTEGER NOT NULL, layout TEXT NOT NULL, PRIMARY KEY (deal_id, idx))`);
  db.exec(`CREATE TABLE IF NOT EXISTS repairs (
    deal_id INTEGER NOT NULL, piece_id TEXT NOT NULL, size INTEGER NOT NULL, node TEXT NOT NULL,
    repairer TEXT NOT NULL, epoch INTEGER NOT NULL, PRIMARY KEY (piece_id, node))`);
  db.exec('CREATE TABLE IF NOT EXISTS deal_pieces (deal_id INTEGER PRIMARY KEY, piece_ids TEXT NOT NULL)');
  db.exec(`CREATE TABLE IF NOT EXISTS replicas (
    deal_id INTEGER NOT NULL, piece_id TEXT NOT NULL, copies INTEGER NOT NULL, PRIMARY KEY (deal_id, piece_id))`);
  const insertReplica = db.prepare(
    'INSERT OR IGNORE INTO replicas (deal_id, piece_id, copies) VALUES (?, ?, ?)',
  );
  const allReplicas = db.prepare('SELECT * FROM replicas ORDER BY deal_id, piece_id');
  const insertDealPieces = db.prepare('INSERT OR IGNORE INTO deal_pieces (deal_id, piece_ids) VALUES (?, ?)');
  const dealPieces = db.prepare('SELECT piece_ids FROM deal_pieces WHERE deal_id = ?');
  const insertSegment = db.prepare('INSERT OR IGNORE INTO segments (deal_id, idx, layout) VALUES (?, ?, ?)');
  const allSegments = db.prepare('SELECT deal_id, layout FROM segments ORDER BY deal_id, idx');
  const removePlacement = db.prepare('DELETE FROM placements WHERE piece_id = ? AND node = ?');
  const insertRepair = db.prepare(
    'INSERT OR IGNORE INTO repairs (deal_id, piece_id, size, node, repairer, epoch) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const repairsIn = db.prepare('SELECT * FROM repairs WHERE epoch >= ? AND epoch <= ? ORDER BY epoch');
  const tx = <T>(fn: () => T): T => {
    db.exec('BEGIN');
    try {
      const out = fn();
      db.exec('COMMIT');
      return out;
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  };
  return {
    /** The deal's piece ids (what its root is built from) and its segments' layout. */
    addLayout(
      dealId: bigint,
      pieceIds: readonly Hex[],
      segments: NonNullable<PlacementSubmission['segments']>,
      replicas: NonNullable<PlacementSubmission['replicas']> = [],
    ): void {
      tx(() => {
        for (const r of replicas) insertReplica.run(dealId, r.pieceId.toLowerCase(), r.copies);
        insertDealPieces.run(dealId, JSON.stringify(pieceIds.map((x) => x.toLowerCase())));
        for (const seg of segments) insertSegment.run(dealId, seg.index, JSON.stringify(seg));
      });
    },
    dealPieces(dealId: bigint): Hex[] | undefined {
      const row = dealPieces.get(dealId) as { piece_ids: string } | undefined;
      return row ? (JSON.parse(row.piece_ids) as Hex[]) : undefined;
    },
    replicas(): { dealId: bigint; pieceId: Hex; copies: number }[] {
      return (allReplicas.all() as Record<string, string | number>[]).map((r) => ({
        dealId: BigInt(r.deal_id!),
        pieceId: r.piece_id as Hex,
        copies: Number(r.copies),
      }));
    },
    segments(): SegmentLayout[] {
      return (allSegments.all() as { deal_id: number; layout: string }[]).map((r) => ({
        ...(JSON.parse(r.layout) as NonNullable<PlacementSubmission['segments']>[number]),
        dealId: BigInt(r.deal_id),
      }));
    },
    /** Moves a piece from `from` (the holders it replaces) to `to`, and records who repaired it. */
    recordRepair(r: Repair & { pieceRoot: Hex; from: readonly Hex[] }): boolean {
      return tx(() => {
        for (const f of r.from) removePlacement.run(r.pieceId.toLowerCase(), f.toLowerCase());
        const added = insert.run(
          r.dealId,
          r.pieceId.toLowerCase(),
          r.pieceRoot.toLowerCase(),
          r.size,
          r.node.toLowerCase(),
        );
        if (added.changes === 0) return false;
        insertRepair.run(
          r.dealId,
          r.pieceId.toLowerCase(),
          r.size,
          r.node.toLowerCase(),
          r.repairer.toLowerCase(),
          r.epoch,
        );
        return true;
      });
    },
    /** The repairs reported in epochs `from` … `to`. */
    repairsIn(from: bigint, to: bigint): Repair[] {
      return (repairsIn.all(from, to) as Record<string, string | number>[]).map((r) => ({
        dealId: BigInt(r.deal_id!),
        pieceId: r.piece_id as Hex,
        size: Number(r.size),
        node: r.node as Hex,
        repairer: r.repairer as Hex,
        epoch: BigInt(r.epoch!),
      }));
    },
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
): Promise<{
  placements: Placement[];
  pieceIds: Hex[];
  segments: NonNullable<PlacementSubmission['segments']>;
  replicas: NonNullable<PlacementSubmission['replicas']>;
}> {
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
  for (const r of sub.replicas ?? [])
    if (!inDeal.has(r.pieceId.toLowerCase()))
      throw new DepinError('PIECE_NOT_IN_DEAL', `Replicated piece ${r.pieceId} is not in deal ${dealId}.`);
  for (const seg of sub.segments ?? []) {
    if (seg.pieces.length !== seg.n || seg.k >= seg.n || seg.repair < seg.k || seg.repair >= seg.n)
      throw new DepinError('BAD_PLACEMENT', `Segment ${seg.index}: want k ≤ repair < n and n piece slots.`);
    for (const id of seg.pieces)
      if (id && !inDeal.has(id.toLowerCase()))
        throw new DepinError(
          'PIECE_NOT_IN_DEAL',
          `Piece ${id} of segment ${seg.index} is not in deal ${dealId}.`,
        );
  }
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
  return {
    placements: out,
    pieceIds: sub.pieceIds as Hex[],
    segments: sub.segments ?? [],
    replicas: sub.replicas ?? [],
  };
}

/** `POST /v1/storage/placements`: a client tells where its deal's pieces are (201 `{accepted}`). */
export function placementRoute(deps: {
  store: PlacementStore;
  log: Logger;
  verify: Parameters<typeof verifyPlacements>[1];
}): Route {
  return {
    method: 'POST',
    path: '/v1/storage/placements',
    handler: async ({ body }) => {
      const verified = await verifyPlacements(body, deps.verify);
      const accepted = deps.store.add(verified.placements);
      deps.store.addLayout(
        verified.placements[0]!.dealId,
        verified.pieceIds,
        verified.segments,
        verified.replicas,
      );
      deps.log.info({ accepted }, 'placements accepted');
      return { status: 201, body: { accepted } };
    },
  };
}
