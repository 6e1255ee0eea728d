/**
 * Repairing one segment without its key: pieces are erasure-coded *sealed* bytes, so any k good
 * pieces rebuild every other piece byte for byte — same piece id, same root — and the repairer never
 * sees plaintext. The rebuilt pieces go to healthy nodes that hold no piece of the segment (spread
 * over regions), each under the deal's id, and the repairer signs one RepairReport per piece for
 * the validators, who move the placement and pay the repairer from the withheld pool.
 */
import type { Hex, LocalAccount } from 'viem';
import { DepinError } from '../../core/errors.ts';
import { type Domain, type Envelope, signMessage } from '../../core/messages.ts';
import type { EgressPayer } from '../client/egress.ts';
import { pieceRoot } from '../client/pieces.ts';
import { getPiece, putPiece, type StorageNodeRef } from '../client/transport.ts';
import { createErasureCoder, type ErasureCoder } from '../erasure/erasureCoder.ts';
import type { ErasureAlgorithm } from '../erasure/shape.ts';

/** A segment as a repairer sees it: the public layout and who healthily holds each piece. */
export type RepairJob = {
  dealId: bigint;
  index: number;
  k: number;
  n: number;
  algorithm: ErasureAlgorithm;
  /** By piece index; null where the client never placed a piece. */
  pieces: ({ pieceId: Hex; pieceRoot: Hex; size: number; healthy: Hex[]; lost: Hex[] } | null)[];
};

export type RepairedPiece = {
  pieceId: Hex;
  pieceRoot: Hex;
  size: number;
  node: Hex;
  receipt: Envelope;
  report: Envelope;
};

const coders = new Map<string, ErasureCoder>();
function coderFor(k: number, n: number, algorithm: ErasureAlgorithm): ErasureCoder {
  const key = `${k}/${n}/${algorithm}`;
  let c = coders.get(key);
  if (!c) {
    c = createErasureCoder({ dataShards: k, parityShards: n - k, algorithm });
    coders.set(key, c);
  }
  return c;
}

/**
 * Rebuilds the pieces at `want` from any k of `have` (by index), and checks each rebuilt piece
 * against its committed root. Throws STORAGE_TOO_FEW_PIECES with fewer than k, REPAIR_MISMATCH when
 * a rebuilt piece does not hash to its root (a layout that lies about k, n or the algorithm).
 */
export function rebuildPieces(
  job: Pick<RepairJob, 'k' | 'n' | 'algorithm' | 'pieces'>,
  have: ReadonlyMap<number, Uint8Array>,
  want: readonly number[],
): Map<number, Uint8Array> {
  const { k, n } = job;
  if (have.size < k)
    throw new DepinError('STORAGE_TOO_FEW_PIECES', `Repair needs ${k} good pieces but has ${have.size}.`, {
      details: { needed: k, available: have.size },
    });
  const size = [...have.values()][0]!.length;
  const used = [...have.keys()].sort((a, b) => a - b).slice(0, k);
  const missing = [...Array(n).keys()].filter((i) => !used.includes(i));
  const fresh = new Uint8Array(missing.length * size);
  const shards = Array.from({ length: n }, (_, i) => {
    const got = used.includes(i) ? have.get(i) : undefined;
    if (got) return got;
    const slot = missing.indexOf(i);
    return fresh.subarray(slot * size, (slot + 1) * size);
  });
  coderFor(k, n, job.algorithm).reconstructInto(shards, missing);
  const out = new Map<number, Uint8Array>();
  for (const i of want) {
    const expected = job.pieces[i];
    if (!expected) continue;
    const data = shards[i]!;
    if (pieceRoot(data) !== expected.pieceRoot.toLowerCase())
      throw new DepinError('REPAIR_MISMATCH', `Rebuilt piece ${i} does not match its committed root.`);
    out.set(i, data);
  }
  return out;
}

/** What both repair kinds work with: the repairer's key, the nodes, and how it pays and binds. */
export type RepairContext = {
  account: LocalAccount;
  domain: Domain;
  /** Healthy nodes that may receive pieces. */
  candidates: readonly StorageNodeRef[];
  nodes: ReadonlyMap<string, StorageNodeRef>;
  /** Pays priced nodes for the pieces downloaded (egress vouchers). */
  payer?: EgressPayer;
  /** Called after each upload, before the report is sent (e.g. to bind the piece to its deal). */
  afterUpload?: (node: StorageNodeRef, pieceId: Hex) => Promise<void>;
};

/**
 * Repairs `job`: fetches k healthy pieces, rebuilds every piece that has no healthy holder, and
 * places each on a candidate node that holds nothing of this segment. Returns what was placed.
 */
export async function repairSegment(p: RepairContext & { job: RepairJob }): Promise<RepairedPiece[]> {
  const { job } = p;
  const want = job.pieces.flatMap((x, i) => (x && x.healthy.length === 0 ? [i] : []));
  if (want.length === 0) return [];
  const have = new Map<number, Uint8Array>();
  const errors: string[] = [];
  for (const [i, x] of job.pieces.entries()) {
    if (have.size >= job.k) break;
    if (!x) continue;
    const data = await fetchGood(p, x, errors);
    if (data) have.set(i, data);
  }
  if (have.size < job.k)
    throw new DepinError(
      'STORAGE_TOO_FEW_PIECES',
      `Repair needs ${job.k} good pieces but got ${have.size}.`,
      {
        details: { needed: job.k, available: have.size, errors: errors.slice(0, 5) },
      },
    );
  const rebuilt = rebuildPieces(job, have, want);
  const busy = new Set(
    job.pieces.flatMap((x) => (x ? [...x.healthy, ...x.lost].map((h) => h.toLowerCase()) : [])),
  );
  const usedRegions = new Set(
    job.pieces.flatMap((x) => (x ? x.healthy.map((h) => p.nodes.get(h.toLowerCase())?.region ?? '') : [])),
  );
  const pool = p.candidates.filter((c) => !busy.has(c.id.toLowerCase()));
  // Prefer regions the segment is not in yet, then any.
  pool.sort((a, b) => Number(usedRegions.has(a.region)) - Number(usedRegions.has(b.region)));
  const out: RepairedPiece[] = [];
  for (const [i, data] of rebuilt) {
    const x = job.pieces[i]!;
    while (pool.length > 0) {
      const node = pool.shift()!;
      try {
        out.push(await place(p, node, job.dealId, x.pieceId, x.pieceRoot, data));
        break;
      } catch {
        // that node refused or failed: the next candidate
      }
    }
  }
  return out;
}

/** A replicated piece (a file's sealed manifest): `copies` wanted, some holders lost. */
export type ReplicaJob = {
  dealId: bigint;
  pieceId: Hex;
  pieceRoot: Hex;
  size: number;
  copies: number;
  healthy: Hex[];
  lost: Hex[];
};

/**
 * Re-replicates a piece: copies it from a healthy holder to healthy nodes that do not hold it
 * until `copies` healthy holders exist again (or no candidate is left).
 */
export async function repairReplica(p: RepairContext & { job: ReplicaJob }): Promise<RepairedPiece[]> {
  const { job } = p;
  const missing = job.copies - job.healthy.length;
  if (missing <= 0 || job.healthy.length === 0) return [];
  const errors: string[] = [];
  const data = await fetchGood(p, job, errors);
  if (!data)
    throw new DepinError('STORAGE_TOO_FEW_PIECES', `No healthy holder served replica ${job.pieceId}.`, {
      details: { needed: 1, available: 0, errors: errors.slice(0, 5) },
    });
  const busy = new Set([...job.healthy, ...job.lost].map((h) => h.toLowerCase()));
  const out: RepairedPiece[] = [];
  for (const node of p.candidates) {
    if (out.length >= missing) break;
    if (busy.has(node.id.toLowerCase())) continue;
    try {
      out.push(await place(p, node, job.dealId, job.pieceId, job.pieceRoot, data));
    } catch {
      // next candidate
    }
  }
  return out;
}

/** The piece from the first healthy holder whose bytes match its root; why the others failed goes to `errors`. */
async function fetchGood(
  p: Pick<RepairContext, 'account' | 'domain' | 'nodes' | 'payer'>,
  x: { pieceId: Hex; pieceRoot: Hex; size: number; healthy: readonly Hex[] },
  errors: string[],
): Promise<Uint8Array | undefined> {
  for (const holder of x.healthy) {
    const node = p.nodes.get(holder.toLowerCase());
    if (!node) continue;
    try {
      const data = await getPiece({
        account: p.account,
        domain: p.domain,
        node,
        pieceId: x.pieceId,
        size: x.size,
        ...(p.payer ? { payer: p.payer } : {}),
      });
      if (pieceRoot(data) === x.pieceRoot.toLowerCase()) return data;
      errors.push(`${holder}: PIECE_CORRUPT`);
    } catch (e) {
      errors.push(`${holder}: ${(e as DepinError).code ?? (e as Error).message}`);
    }
  }
  return undefined;
}

/** Uploads one rebuilt or copied piece under its deal and signs the repair report for it. */
async function place(
  p: Pick<RepairContext, 'account' | 'domain' | 'afterUpload'>,
  node: StorageNodeRef,
  dealId: bigint,
  pieceId: Hex,
  root: Hex,
  data: Uint8Array,
): Promise<RepairedPiece> {
  const receipt = await putPiece({
    account: p.account,
    domain: p.domain,
    node,
    pieceId,
    pieceRoot: root,
    data,
    dealId,
  });
  await p.afterUpload?.(node, pieceId);
  const report = await signMessage(p.account, p.domain, 'RepairReport', {
    repairer: p.account.address,
    dealId,
    pieceId,
    pieceRoot: root,
    node: node.id,
  });
  return { pieceId, pieceRoot: root, size: data.length, node: node.id, receipt, report };
}
