/**
 * Repair, validator side. A node is healthy when the Registry has it active and the last storage
 * settlement did not suspend it (audit failures, proven loss). A segment whose pieces with a healthy
 * holder number at most its repair threshold is queued; each queued segment has one repairer among
 * the active validators (rendezvous by deal and segment), which rebuilds the lost pieces
 * (src/storage/repair/repairSegment.ts) and reports them to every validator. A report is accepted
 * when the new holder's receipt and the repairer's signature check out, the piece is the one on
 * record, the new holder is healthy and holds nothing else of the segment, and the old holder is
 * unhealthy; the placement moves and the repair is paid in the next settlement.
 */
import { encodePacked, type Hex, hexToBigInt, keccak256, type LocalAccount } from 'viem';
import type { ChainClients } from '../chain/clients.ts';
import type { Deployment } from '../chain/deployment.ts';
import { NODE_STATUS, readClock, readNodes, readValidators, VALIDATOR_STATUS } from '../chain/reads.ts';
import { DepinError } from '../core/errors.ts';
import { fetchJson, type Route } from '../core/http.ts';
import type { Logger } from '../core/log.ts';
import { type Domain, verifyEnvelope } from '../core/messages.ts';
import { type EgressClient, egressPayer, ensureEgressDeposit } from '../storage/client/egress.ts';
import type { StorageNodeRef } from '../storage/client/transport.ts';
import { egressCost } from '../storage/node/egressCharge.ts';
import {
  type RepairedPiece,
  type RepairJob,
  type ReplicaJob,
  repairReplica,
  repairSegment,
} from '../storage/repair/repairSegment.ts';
import type { PlacementStore } from '../storage/validator/placements.ts';

export type RepairDeps = {
  account: LocalAccount;
  clients: ChainClients;
  deployment: Deployment;
  placements: PlacementStore;
  domain: Domain;
  log: Logger;
  /** The nodes the last settlement on chain left suspended. */
  suspended: () => Promise<ReadonlySet<string>>;
  /** Pays priced nodes for the pieces a repair downloads. */
  egress?: EgressClient;
  /** Binds a re-placed piece to its deal on the new holder (so it does not expire as pending). */
  bindDeal?: (node: StorageNodeRef, dealId: bigint, pieceIds: Hex[]) => Promise<void>;
};

type NodeView = { healthy: (id: string) => boolean; refs: Map<string, StorageNodeRef> };

export function createRepairs(deps: RepairDeps) {
  const { clients, deployment: d, placements, log } = deps;
  const me = deps.account.address.toLowerCase() as Hex;

  async function view(): Promise<NodeView> {
    const [nodes, suspended] = await Promise.all([readNodes(clients.public, d), deps.suspended()]);
    const refs = new Map<string, StorageNodeRef>();
    const ok = new Set<string>();
    for (const n of nodes) {
      refs.set(n.id, {
        id: n.id,
        signer: n.signer,
        endpoint: n.endpoint,
        region: regionName(n.region),
        egressPrice: n.prices[1] ?? 0n,
      });
      if (n.status === NODE_STATUS.active && !suspended.has(n.id) && (n.services & 1) !== 0) ok.add(n.id);
    }
    return { healthy: (id) => ok.has(id.toLowerCase()), refs };
  }

  /** Segments at or below their repair threshold with at least one piece lost. */
  function jobs(v: NodeView): RepairJob[] {
    const holders = new Map<string, { pieceRoot: Hex; size: number; nodes: Hex[] }>();
    for (const p of placements.all()) {
      const h = holders.get(p.pieceId) ?? { pieceRoot: p.pieceRoot, size: p.size, nodes: [] };
      h.nodes.push(p.node);
      holders.set(p.pieceId, h);
    }
    const out: RepairJob[] = [];
    for (const seg of placements.segments()) {
      const pieces = seg.pieces.map((id) => {
        const h = id ? holders.get(id.toLowerCase()) : undefined;
        if (!id || !h) return null;
        return {
          pieceId: id.toLowerCase() as Hex,
          pieceRoot: h.pieceRoot,
          size: h.size,
          healthy: h.nodes.filter((n) => v.healthy(n)),
          lost: h.nodes.filter((n) => !v.healthy(n)),
        };
      });
      const healthy = pieces.filter((x) => x && x.healthy.length > 0).length;
      const lost = pieces.some((x) => x && x.healthy.length === 0);
      if (healthy <= seg.repair && lost)
        out.push({
          dealId: seg.dealId,
          index: seg.index,
          k: seg.k,
          n: seg.n,
          algorithm: seg.algorithm,
          pieces,
        });
    }
    return out;
  }

  /** Replicated pieces (manifests) that lost a holder and have fewer healthy copies than wanted. */
  function replicaJobs(v: NodeView): ReplicaJob[] {
    const out: ReplicaJob[] = [];
    const all = placements.all();
    for (const r of placements.replicas()) {
      const held = all.filter((p) => p.pieceId === r.pieceId);
      if (held.length === 0) continue;
      const healthy = held.filter((p) => v.healthy(p.node)).map((p) => p.node);
      const lost = held.filter((p) => !v.healthy(p.node)).map((p) => p.node);
      if (lost.length > 0 && healthy.length < r.copies && healthy.length > 0)
        out.push({ ...r, pieceRoot: held[0]!.pieceRoot, size: held[0]!.size, healthy, lost });
    }
    return out;
  }

  /** Checks and records a repair report; returns whether the placement moved. */
  async function accept(input: unknown, v: NodeView, epoch: bigint): Promise<boolean> {
    const body = input as { receipt?: unknown; report?: unknown; size?: unknown };
    if (typeof body !== 'object' || body === null || !Number.isInteger(body.size))
      throw new DepinError('BAD_REPAIR', 'A repair is { receipt, report, size }.');
    const { message: report } = await verifyEnvelope(body.report, {
      type: 'RepairReport',
      domain: deps.domain,
      signerField: 'repairer',
    }).catch((e: unknown) => {
      throw new DepinError('BAD_REPAIR', `The repair report does not verify: ${(e as DepinError).code}.`, {
        cause: e,
      });
    });
    const node = report.node.toLowerCase() as Hex;
    const ref = v.refs.get(node);
    const { message: receipt } = await verifyEnvelope(body.receipt, {
      type: 'PieceReceipt',
      domain: deps.domain,
      signerField: 'node',
      resolveKey: async () => ref?.signer,
    }).catch((e: unknown) => {
      throw new DepinError('BAD_RECEIPT', `The receipt is not ${node}'s: ${(e as DepinError).code}.`, {
        cause: e,
      });
    });
    const pieceId = report.pieceId.toLowerCase() as Hex;
    if (
      receipt.node.toLowerCase() !== node ||
      receipt.pieceId.toLowerCase() !== pieceId ||
      receipt.pieceRoot.toLowerCase() !== report.pieceRoot.toLowerCase() ||
      Number(receipt.size) !== body.size
    )
      throw new DepinError('BAD_RECEIPT', 'The receipt does not match the repair report.');
    const onRecord = placements.all().filter((p) => p.pieceId === pieceId && p.dealId === report.dealId);
    if (
      onRecord.length === 0 ||
      onRecord[0]!.pieceRoot !== report.pieceRoot.toLowerCase() ||
      onRecord[0]!.size !== body.size
    )
      throw new DepinError(
        'PIECE_NOT_IN_DEAL',
        `Piece ${pieceId} of deal ${report.dealId} is not on record.`,
        {
          status: 404,
        },
      );
    if (!v.healthy(node)) throw new DepinError('NODE_UNHEALTHY', `${node} is not a healthy storage node.`);
    const seg = placements
      .segments()
      .find((s) => s.dealId === report.dealId && s.pieces.some((x) => x?.toLowerCase() === pieceId));
    const segmentPieces = new Set((seg?.pieces ?? [pieceId]).flatMap((x) => (x ? [x.toLowerCase()] : [])));
    const busy = placements
      .all()
      .some((p) => segmentPieces.has(p.pieceId) && p.node === node && p.pieceId !== pieceId);
    if (busy)
      throw new DepinError('NODE_BUSY', `${node} already holds a piece of this segment.`, { status: 409 });
    const from = onRecord.filter((p) => !v.healthy(p.node)).map((p) => p.node);
    if (onRecord.some((p) => p.node === node)) return false;
    if (from.length === 0)
      throw new DepinError('REPAIR_NOT_NEEDED', `Piece ${pieceId} still has a healthy holder.`, {
        status: 409,
      });
    return placements.recordRepair({
      dealId: report.dealId,
      pieceId,
      pieceRoot: report.pieceRoot,
      size: body.size as number,
      node,
      repairer: report.repairer.toLowerCase() as Hex,
      epoch,
      from,
    });
  }

  /** This validator's share of the queue: one repairer per job, chosen by rendezvous hashing. */
  async function work(): Promise<number> {
    const v = await view();
    const validators = (await readValidators(clients.public, d)).filter(
      (x) => x.status === VALIDATOR_STATUS.active,
    );
    const leads = (key: Hex) => {
      const rank = (id: Hex) => hexToBigInt(keccak256(encodePacked(['bytes32', 'address'], [key, id])));
      const leader = validators.reduce<Hex | undefined>(
        (best, x) => (!best || rank(x.id) > rank(best) ? x.id : best),
        undefined,
      );
      return leader === me;
    };
    const candidates = [...v.refs.values()].filter((n) => v.healthy(n.id) && n.endpoint);
    const maxPrice = [...v.refs.values()].reduce(
      (a, n) => ((n.egressPrice ?? 0n) > a ? n.egressPrice! : a),
      0n,
    );
    const common = (dealId: bigint, downloads: number, size: number) => {
      const pieceIds = placements.dealPieces(dealId);
      return {
        account: deps.account,
        domain: deps.domain,
        candidates,
        nodes: v.refs,
        prepare: async () => {
          // The downloads at up to the priciest node's rate, plus what this process already owes.
          if (deps.egress)
            await ensureEgressDeposit(
              deps.egress,
              BigInt(downloads) * egressCost(BigInt(size), maxPrice) + egressPayer(deps.egress).pending(),
            );
        },
        ...(deps.egress ? { payer: egressPayer(deps.egress) } : {}),
        ...(deps.bindDeal && pieceIds
          ? { afterUpload: (node: StorageNodeRef) => deps.bindDeal!(node, dealId, pieceIds) }
          : {}),
      };
    };
    const tasks: { what: Record<string, string | number>; run: () => Promise<RepairedPiece[]> }[] = [];
    for (const job of jobs(v)) {
      if (!leads(keccak256(encodePacked(['uint256', 'uint32'], [job.dealId, job.index])))) continue;
      const c = common(job.dealId, job.k, job.pieces.find((x) => x)?.size ?? 0);
      tasks.push({
        what: { deal: String(job.dealId), segment: job.index },
        run: async () => {
          await c.prepare();
          return repairSegment({ ...c, job });
        },
      });
    }
    for (const job of replicaJobs(v)) {
      if (!leads(job.pieceId)) continue;
      const c = common(job.dealId, 1, job.size);
      tasks.push({
        what: { deal: String(job.dealId), replica: job.pieceId },
        run: async () => {
          await c.prepare();
          return repairReplica({ ...c, job });
        },
      });
    }
    let repaired = 0;
    for (const task of tasks) {
      const done = await task.run().catch((e: unknown) => {
        log.warn({ ...task.what, err: (e as Error).message }, 'repair failed');
        return [];
      });
      for (const piece of done) {
        await Promise.allSettled(
          validators.map((x) =>
            fetchJson(`${x.endpoint.replace(/\/$/, '')}/v1/storage/repairs`, {
              body: { receipt: piece.receipt, report: piece.report, size: piece.size },
              timeoutMs: 10_000,
            }),
          ),
        );
        repaired++;
      }
      if (done.length > 0) log.info({ ...task.what, pieces: done.length }, 'repaired');
    }
    return repaired;
  }

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/v1/storage/repairs',
      handler: async () => ({
        body: await (async () => {
          const v = await view();
          return [
            ...jobs(v).map((j) => ({ kind: 'segment', ...j, dealId: String(j.dealId) })),
            ...replicaJobs(v).map((j) => ({ kind: 'replica', ...j, dealId: String(j.dealId) })),
          ];
        })(),
      }),
    },
    {
      method: 'POST',
      path: '/v1/storage/repairs',
      handler: async ({ body }) => {
        const v = await view();
        const { epoch } = await readClock(clients.public, d);
        const moved = await accept(body, v, epoch);
        return { status: moved ? 201 : 200, body: { accepted: moved } };
      },
    },
  ];

  return { routes, work, jobs: async () => jobs(await view()) };
}

function regionName(region: Hex): string {
  return Buffer.from(region.slice(2), 'hex').toString('utf8').replace(/\0+$/, '');
}
