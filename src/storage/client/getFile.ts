/**
 * `getFile`: find the sealed manifest from the file id alone (rendezvous-ranked nodes), then per
 * segment ask k+ε nodes at once, decode from the first k pieces that match their roots, and ask
 * more when some fail. Never returns wrong bytes: every piece is checked against its committed root
 * and every segment is authenticated (AES-GCM) before it is returned.
 */
import type { Hex } from 'viem';
import { DepinError } from '../../core/errors.ts';
import { egressPayer, prepareEgress } from './egress.ts';
import { fileKey, manifestId, manifestKey, unwrapSegmentKey } from './keys.ts';
import { type Manifest, openManifest } from './manifest.ts';
import { rendezvous } from './placement.ts';
import { decodeSegment } from './segment.ts';
import { getSegmentWorkers } from './segmentWorkers.ts';
import type { StorageClient } from './storageClient.ts';
import { manifestPieceId } from './storeFile.ts';
import { getPiece, type StorageNodeRef } from './transport.ts';

export type GetFileParameters = {
  fileId: Hex;
  /** Extra pieces asked for beyond k (long-tail on download). */
  extra?: number;
  onProgress?: (done: number, total: number) => void;
};

/**
 * Fetches and opens a file's manifest.
 *
 * @example const manifest = await fetchManifest(client, fileId);
 */
export async function fetchManifest(sc: StorageClient, fileId: Hex): Promise<Manifest> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(fileId))
    throw new DepinError('STORAGE_BAD_FILE_ID', 'A file id is 32 bytes of hex (0x…).');
  const mid = manifestId(sc.rootKey, fileId);
  const key = manifestKey(sc.rootKey, fileId);
  const pieceId = manifestPieceId(mid);
  let unpaid: unknown;
  for (const node of rendezvous(await sc.nodes(), mid)) {
    try {
      const sealed = await getPiece({
        account: sc.account,
        domain: sc.domain,
        node,
        pieceId,
        size: 0,
        signal: AbortSignal.timeout(5000),
        payer: egressPayer(sc),
      });
      return openManifest(sealed, key);
    } catch (e) {
      // next node; but a refused payment is what the caller must hear about, not "not found"
      if ((e as DepinError).status === 402 || (e as DepinError).code?.startsWith('EGRESS_')) unpaid = e;
    }
  }
  if (unpaid) throw unpaid;
  throw new DepinError(
    'STORAGE_FILE_NOT_FOUND',
    `No node holds a manifest for ${fileId} that this secret opens: check the id and the secret.`,
    {
      status: 404,
    },
  );
}

/**
 * @example const bytes = await getFile(client, { fileId });
 */
export async function getFile(sc: StorageClient, p: GetFileParameters): Promise<Uint8Array> {
  const manifest = await fetchManifest(sc, p.fileId);
  const nodes = new Map((await sc.nodes()).map((n) => [n.id, n]));
  await prepareEgress(sc, manifest, nodes, p.extra ?? 2);
  const out = new Uint8Array(manifest.size);
  const fkey = fileKey(sc.rootKey, p.fileId);
  let done = 0;
  p.onProgress?.(0, manifest.size);
  // The first round of each segment's fetches starts while the previous segment decodes, which
  // runs in a worker thread so that this thread keeps receiving meanwhile.
  const workers = manifest.segments.length > 1 ? getSegmentWorkers() : undefined;
  const extra = p.extra ?? 2;
  // Piece buffers go round: those of segment i are reused for segment i + 2 (two segments are in
  // flight), so a file of any size allocates about two segments' worth of them.
  const spare: Uint8Array[] = [];
  let scratch: Uint8Array | undefined; // the plaintext buffer the worker opens segments into
  const startSegment = (segment: Manifest['segments'][number]) => {
    const fetched: (Uint8Array | undefined)[] = new Array(manifest.n).fill(undefined);
    const queue = [...segment.pieces].sort((a, b) => a.index - b.index);
    const failed: string[] = [];
    const lent: Uint8Array[] = [];
    const borrow = (size: number) => {
      const i = spare.findIndex((b) => b.length === size);
      const buffer = i >= 0 ? spare.splice(i, 1)[0]! : new Uint8Array(size);
      lent.push(buffer);
      return buffer;
    };
    // Pieces a round cancelled once it had enough go back to the queue: if some that arrived turn
    // out corrupt, they are the next to ask for.
    const round = async (pieces: Manifest['segments'][number]['pieces'], enough: number) => {
      queue.unshift(...(await fetchFirst(sc, pieces, enough, nodes, fetched, failed, borrow)));
    };
    const first = round(queue.splice(0, manifest.k + extra), manifest.k);
    // Buffers that went to the worker come back as new objects in `fetched`; the lent ones that did
    // not go are still ours.
    const recycle = () => {
      for (const b of new Set([...lent, ...fetched])) if (b && b.buffer.byteLength > 0) spare.push(b);
    };
    return { fetched, queue, failed, first, round, recycle };
  };
  let upcoming = manifest.segments[0] ? startSegment(manifest.segments[0]) : undefined;
  for (const segment of manifest.segments) {
    const segmentKey = unwrapSegmentKey(fkey, segment.wrappedKey as Hex, {
      fileId: p.fileId,
      index: segment.index,
    });
    const { fetched, queue, failed, first, round, recycle } = upcoming!;
    await first;
    const following = manifest.segments[segment.index + 1];
    upcoming = following ? startSegment(following) : undefined;
    const roots: Hex[] = new Array(manifest.n).fill(`0x${'00'.repeat(32)}`);
    for (const piece of segment.pieces) roots[piece.index] = piece.pieceRoot as Hex;
    let plaintext: Uint8Array | undefined;
    while (!plaintext) {
      const have = fetched.filter(Boolean).length;
      const want = Math.max(0, manifest.k - have);
      if (have < manifest.k && queue.length === 0) {
        throw new DepinError(
          'STORAGE_TOO_FEW_PIECES',
          `Segment ${segment.index} of ${p.fileId} cannot be rebuilt: ${have} good pieces of the ${manifest.k} needed (${segment.pieces.length - have} missing or corrupt).`,
          {
            details: {
              segment: segment.index,
              needed: manifest.k,
              available: have,
              missing: segment.pieces.length - have,
              failures: failed.slice(0, 8),
            },
          },
        );
      }
      if (have < manifest.k) {
        await round(queue.splice(0, want), manifest.k - have);
        continue;
      }
      const parameters = {
        pieces: fetched,
        pieceRoots: roots,
        k: manifest.k,
        n: manifest.n,
        sealedSize: segment.sealedSize,
        index: segment.index,
        fileId: p.fileId,
        segmentKey,
        algorithm: manifest.algorithm,
        ...(workers ? { into: scratch ?? new Uint8Array(manifest.segmentSize) } : {}),
      };
      try {
        const r = workers ? await workers.decode(parameters) : decodeSegment(parameters);
        plaintext = r.plaintext;
      } catch (e) {
        if ((e as DepinError).code !== 'STORAGE_TOO_FEW_PIECES') throw e;
        // Some fetched pieces did not match their roots: drop them and ask for more.
        const corrupt = ((e as DepinError).details?.corrupt as number[] | undefined) ?? [];
        for (const i of corrupt) {
          fetched[i] = undefined;
          failed.push(`piece ${i}: PIECE_CORRUPT`);
        }
        if (corrupt.length === 0) throw e;
      } finally {
        scratch = parameters.into; // back from the worker, decoded or not
      }
    }
    out.set(plaintext, segment.index * manifest.segmentSize);
    recycle();
    done += segment.size;
    p.onProgress?.(done, manifest.size);
  }
  return out;
}

/**
 * A held extra piece is read at the latest this long after its round started, even when none of
 * the first pieces has arrived or failed yet.
 */
const HEDGE_MS = 2000;

/**
 * A round shows a tail when it has run this many times as long as its first piece took to arrive
 * with pieces still missing: on a healthy network the first k arrive within a few tens of percent
 * of each other, and reading the extras then only competes with them.
 */
const TAIL_FACTOR = 1.5;

/**
 * Fetches the given pieces in parallel; once `enough` have arrived, the rest are cancelled and
 * returned (failures are recorded in `failed` instead). All are asked for at once, but the pieces
 * beyond the first `enough` are read only once the round shows a tail: one of the first failed,
 * the round has run {@link TAIL_FACTOR} times as long as its first arrival took, or
 * {@link HEDGE_MS} have passed. On a healthy network this spares reading the extra pieces, which
 * would compete for the same bandwidth and CPU as the ones that are used.
 */
async function fetchFirst(
  sc: StorageClient,
  pieces: Manifest['segments'][number]['pieces'],
  enough: number,
  nodes: Map<Hex, StorageNodeRef>,
  into: (Uint8Array | undefined)[],
  failed: string[],
  borrow: (size: number) => Uint8Array,
): Promise<Manifest['segments'][number]['pieces']> {
  const controller = new AbortController();
  let release = () => {};
  const tail = new Promise<void>((resolve) => {
    release = resolve;
  });
  const started = performance.now();
  const timer = setTimeout(release, HEDGE_MS);
  let tailTimer: ReturnType<typeof setTimeout> | undefined;
  const cancelled: Manifest['segments'][number]['pieces'] = [];
  let arrived = 0;
  await Promise.all(
    pieces.map(async (piece, j) => {
      const node = piece.node ? nodes.get(piece.node as Hex) : undefined;
      if (!node) {
        failed.push(`piece ${piece.index}: NODE_GONE`);
        release();
        return;
      }
      try {
        into[piece.index] = await getPiece({
          account: sc.account,
          domain: sc.domain,
          node,
          pieceId: piece.pieceId as Hex,
          size: piece.size,
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(30_000)]),
          payer: egressPayer(sc),
          into: borrow(piece.size),
          ...(j < enough ? {} : { hold: tail }),
        });
        if (++arrived >= enough) controller.abort();
        else tailTimer ??= setTimeout(release, (performance.now() - started) * (TAIL_FACTOR - 1));
      } catch (e) {
        release();
        if (controller.signal.aborted) cancelled.push(piece);
        else failed.push(`piece ${piece.index}: ${(e as DepinError).code ?? (e as Error).message}`);
      }
    }),
  );
  clearTimeout(timer);
  clearTimeout(tailTimer);
  return cancelled.sort((a, b) => a.index - b.index);
}
