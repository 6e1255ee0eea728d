/**
 * `storeFile`: encrypt, cut into segments, erasure-code, place pieces on distinct nodes across
 * regions with long-tail cancellation, store the sealed manifest on the nodes that rendezvous
 * hashing ranks first for its id, and only then open the deal on chain — a client killed mid-upload
 * leaves no deal paying for data that is not stored (nodes collect unclaimed pieces).
 */
import { encodePacked, type Hex, keccak256 } from 'viem';
import { paramsAbi, storageDealsAbi } from '../../chain/abi/index.ts';
import { paramKey } from '../../chain/deploy.ts';
import { DepinError } from '../../core/errors.ts';
import type { Envelope } from '../../core/messages.ts';
import { bindDeal } from './bindDeal.ts';
import { ensureCredits } from './credits.ts';
import { createFileId } from './fileId.ts';
import { createSegmentKey, fileKey, manifestId, manifestKey, wrapSegmentKey } from './keys.ts';
import { dealRoot, type Manifest, type ManifestSegment, sealManifest } from './manifest.ts';
import { pieceRoot } from './pieces.ts';
import { rendezvous, requireNodes, selectNodes } from './placement.ts';
import { sealedSizeOf } from './seal.ts';
import { type EncodeSegmentParameters, encodeSegment, shardSizeOf } from './segment.ts';
import { getSegmentWorkers } from './segmentWorkers.ts';
import type { StorageClient } from './storageClient.ts';
import { submitPlacements } from './submitPlacements.ts';
import { putPiece, type StorageNodeRef } from './transport.ts';

export type StoreFileParameters = {
  data: Uint8Array;
  /** Only nodes in these regions. */
  geofence?: readonly string[];
  /** Term deal length in epochs (default: one day of epochs). */
  durationEpochs?: number;
  /** Pay once into the endowment instead of per epoch. */
  permanent?: boolean;
  onProgress?: (done: number, total: number) => void;
};

export type StoreFileReturnType = {
  fileId: Hex;
  dealId: bigint;
  size: number;
  segments: number;
  pieces: number;
};

/** Where a file's sealed manifest lives: one piece id, replicated on the first nodes by rendezvous hashing. */
export function manifestPieceId(manifestIdHex: Hex): Hex {
  return keccak256(encodePacked(['string', 'bytes32'], ['depin/manifest-piece', manifestIdHex]));
}

/**
 * @example const { fileId } = await storeFile(client, { data: await readFile('photo.jpg') });
 */
export async function storeFile(sc: StorageClient, p: StoreFileParameters): Promise<StoreFileReturnType> {
  const { k, success, total } = sc.redundancy;
  const nodes = await sc.nodes();
  const fileId = createFileId();
  const fkey = fileKey(sc.rootKey, fileId);
  const segments: ManifestSegment[] = [];
  const receipts = new Map<string, Envelope>();
  const segmentCount = Math.ceil(p.data.length / sc.segmentSize);
  let algorithm: 'cauchy' | 'leopard' = 'cauchy';
  let done = 0;
  p.onProgress?.(0, p.data.length);
  // Segment i + 1 is coded in a worker thread while segment i uploads (at most two in memory). The
  // first is coded here while the worker starts, and a one-segment file never needs a worker. The
  // two segment buffers go round: the plaintext is copied in, sealed in place and coded after it.
  const workers = segmentCount > 1 ? getSegmentWorkers() : undefined;
  const spare: Uint8Array[] = [];
  const startEncoding = (i: number) => {
    const plaintext = p.data.subarray(i * sc.segmentSize, Math.min(p.data.length, (i + 1) * sc.segmentSize));
    const segmentKey = createSegmentKey();
    let parameters: EncodeSegmentParameters = { plaintext, index: i, fileId, segmentKey, k, n: total };
    if (workers) {
      const into = spare.pop() ?? new Uint8Array(total * shardSizeOf(sealedSizeOf(sc.segmentSize), k));
      into.set(plaintext);
      parameters = { ...parameters, plaintext: into.subarray(0, plaintext.length), into };
    }
    const encoded =
      i > 0 && workers ? workers.encode(parameters) : Promise.resolve().then(() => encodeSegment(parameters));
    encoded.catch(() => {}); // awaited below; an upload failing first must not leave it unhandled
    return { size: plaintext.length, segmentKey, encoded };
  };
  let next = segmentCount > 0 ? startEncoding(0) : undefined;
  // Once a segment has `success` pieces stored, the next one starts uploading while its slowest
  // pieces finish (or are cut) in the background: one such tail at a time, so at most three
  // segment buffers exist (uploading, its predecessor's tail, the next one being coded).
  let tail: Promise<void> = Promise.resolve();
  for (let i = 0; i < segmentCount; i++) {
    const { size, segmentKey, encoded: pending } = next!;
    next = i + 1 < segmentCount ? startEncoding(i + 1) : undefined;
    const encoded = await pending;
    algorithm = encoded.algorithm;
    const targets = selectNodes(nodes, total, {
      seed: keccak256(encodePacked(['bytes32', 'uint32'], [fileId, i])),
      ...(p.geofence ? { geofence: p.geofence } : {}),
    });
    requireNodes(targets.length, success, `Segment ${i}`);
    const upload = uploadLongTail(sc, receipts, encoded.pieces, targets, success);
    await upload.enough;
    await tail;
    tail = upload.all.then((placed) => {
      if (workers) spare.push(new Uint8Array(encoded.pieces[0]!.data.buffer));
      segments[i] = {
        index: i,
        size: encoded.size,
        sealedSize: encoded.sealedSize,
        wrappedKey: wrapSegmentKey(fkey, segmentKey, { fileId, index: i }),
        pieces: placed,
      };
      done += size;
      p.onProgress?.(done, p.data.length);
    });
  }
  await tail;
  const manifest: Manifest = {
    version: 1,
    fileId,
    size: p.data.length,
    segmentSize: sc.segmentSize,
    k,
    n: total,
    algorithm,
    segments,
    dealId: null,
  };
  const sealed = sealManifest(manifest, manifestKey(sc.rootKey, fileId));
  const mid = manifestId(sc.rootKey, fileId);
  const mPieceId = manifestPieceId(mid);
  const mRoot = pieceRoot(sealed);
  const holders = rendezvous(nodes, mid).slice(0, sc.manifestReplicas);
  const stored = await Promise.allSettled(
    holders.map((node) =>
      putPiece({
        account: sc.account,
        domain: sc.domain,
        node,
        pieceId: mPieceId,
        pieceRoot: mRoot,
        data: sealed,
        dealId: 0n,
      }),
    ),
  );
  const replicas = stored.filter((s) => s.status === 'fulfilled').length;
  stored.forEach((s, i) => {
    if (s.status === 'fulfilled') receipts.set(`${mPieceId}:${holders[i]!.id}`, s.value);
  });
  if (replicas === 0) throw new DepinError('STORAGE_UPLOAD_FAILED', 'No node accepted the manifest.');

  const pieceIds = [...segments.flatMap((s) => s.pieces.map((x) => x.pieceId as Hex)), mPieceId];
  const bytes =
    segments.reduce((a, s) => a + s.pieces.reduce((b, x) => b + x.size, 0), 0) + sealed.length * replicas;
  const dealId = await openDeal(sc, {
    root: dealRoot(pieceIds),
    size: bytes,
    pieces: pieceIds.length,
    durationEpochs: p.durationEpochs,
    permanent: p.permanent ?? false,
  });
  await bindDeal(sc, { dealId, pieceIds, nodes, holders: [...receipts.keys()].map((k) => k.split(':')[1]!) });
  // Tell the validators where the pieces are, with the holders' receipts, so they audit them.
  const sizes = new Map<string, { pieceRoot: Hex; size: number }>([
    [mPieceId, { pieceRoot: mRoot, size: sealed.length }],
  ]);
  for (const s of segments)
    for (const x of s.pieces) sizes.set(x.pieceId, { pieceRoot: x.pieceRoot as Hex, size: x.size });
  await submitPlacements(sc, {
    dealId: String(dealId),
    pieceIds,
    replicas: [{ pieceId: mPieceId, copies: holders.length }],
    // The public layout, so that the network can repair a segment without the file's keys.
    segments: segments.map((s) => ({
      index: s.index,
      k,
      n: total,
      repair: sc.redundancy.repair,
      algorithm,
      pieces: Array.from({ length: total }, (_, i) => s.pieces.find((x) => x.index === i)?.pieceId ?? null),
    })),
    pieces: [...receipts.entries()].map(([key, receipt]) => {
      const [pieceId, node] = key.split(':') as [Hex, Hex];
      return { pieceId, node, receipt, ...sizes.get(pieceId)! };
    }),
  });
  return { fileId, dealId, size: p.data.length, segments: segments.length, pieces: pieceIds.length };
}

/**
 * Starts every upload at once. Once `success` pieces are stored (`enough` resolves), the others get
 * a short grace (half the time taken so far, at least 250 ms) and are then cancelled (`all`
 * resolves with what was placed): a slow node never holds the upload back, while a healthy network
 * still receives every piece. Both reject with STORAGE_UPLOAD_FAILED when fewer than `success` were
 * stored.
 */
function uploadLongTail(
  sc: StorageClient,
  receipts: Map<string, Envelope>,
  pieces: { index: number; data: Uint8Array; pieceRoot: Hex; pieceId: Hex }[],
  targets: StorageNodeRef[],
  success: number,
): { enough: Promise<void>; all: Promise<ManifestSegment['pieces']> } {
  const placed: ManifestSegment['pieces'] = [];
  const controller = new AbortController();
  const errors: string[] = [];
  const started = performance.now();
  let grace: NodeJS.Timeout | undefined;
  let reached: () => void = () => {};
  const enough = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const all = Promise.all(
    targets.map(async (node, j) => {
      const piece = pieces[j]!;
      try {
        const receipt = await putPiece({
          account: sc.account,
          domain: sc.domain,
          node,
          pieceId: piece.pieceId,
          pieceRoot: piece.pieceRoot,
          data: piece.data,
          dealId: 0n,
          signal: controller.signal,
        });
        if (controller.signal.aborted) return;
        placed.push({
          index: piece.index,
          pieceId: piece.pieceId,
          pieceRoot: piece.pieceRoot,
          size: piece.data.length,
          node: node.id,
        });
        receipts.set(`${piece.pieceId}:${node.id}`, receipt);
        if (placed.length === success) {
          reached();
          if (placed.length < targets.length)
            grace = setTimeout(() => controller.abort(), Math.max(250, (performance.now() - started) / 2));
        }
      } catch (e) {
        if (!controller.signal.aborted) errors.push(`${node.id}: ${(e as Error).message}`);
      }
    }),
  ).then(() => {
    clearTimeout(grace);
    if (placed.length < success) {
      throw new DepinError(
        'STORAGE_UPLOAD_FAILED',
        `Only ${placed.length} of the ${success} pieces a segment needs were stored.`,
        {
          details: { placed: placed.length, needed: success, errors: errors.slice(0, 5) },
        },
      );
    }
    return placed.sort((a, b) => a.index - b.index);
  });
  // Too few pieces: `enough` fails as `all` does.
  all.catch(() => {});
  return { enough: Promise.race([enough, all.then(() => undefined)]), all };
}

/** Escrows the deal's price (minting credits from tokens if needed) and creates it. */
async function openDeal(
  sc: StorageClient,
  d: { root: Hex; size: number; pieces: number; durationEpochs: number | undefined; permanent: boolean },
): Promise<bigint> {
  const c = sc.deployment.contracts;
  const pub = sc.clients.public;
  const epochsPerDay = Math.max(1, Math.round(86400 / sc.deployment.settings.epochLength));
  const duration = d.permanent ? 0 : (d.durationEpochs ?? epochsPerDay);
  const priceGiB = await pub.readContract({
    address: c.Params,
    abi: paramsAbi,
    functionName: 'get',
    args: [paramKey('STORAGE_PRICE_GIB_EPOCH')],
  });
  const price = d.permanent ? 0n : (BigInt(d.size) * priceGiB + 2n ** 30n - 1n) / 2n ** 30n || 1n;
  const escrow = d.permanent
    ? await pub.readContract({
        address: c.StorageDeals,
        abi: storageDealsAbi,
        functionName: 'endowment',
        args: [BigInt(d.size)],
      })
    : price * BigInt(duration);
  await ensureCredits(sc, escrow);
  const receipt = await sc.clients.write({
    address: c.StorageDeals,
    abi: storageDealsAbi,
    functionName: 'createDeal',
    args: [d.root, BigInt(d.size), d.pieces, duration, price, d.permanent],
  });
  const { parseEventLogs } = await import('viem');
  const [event] = parseEventLogs({ abi: storageDealsAbi, logs: receipt.logs, eventName: 'DealCreated' });
  if (!event) throw new DepinError('STORAGE_DEAL_FAILED', 'createDeal emitted no DealCreated event.');
  return event.args.dealId;
}
