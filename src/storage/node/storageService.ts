/**
 * The storage service of `depin node` (docs/storage.md, "Node side"): stores pieces against
 * client-signed orders, serves them, deletes them for their owner, answers validators' audits with a
 * chunk and its Merkle proof, and charges downloads of priced pieces to clients' egress vouchers
 * (egress.ts).
 *
 * Every order is checked in the fixed order format → network → signature → expiry → replay, then
 * that it is addressed to this node and this piece, then (uploads) capacity → body size → pieceRoot.
 * Nothing is stored unless all pass.
 *
 * Piece lifecycle: an upload is *pending* (collected `pendingTtl` after it arrived) until anyone
 * shows the node its deal (`POST /v1/storage/deals`: the piece ids rebuild the deal's root on
 * chain); it is then *bound* and kept until the deal's end plus `dealGrace`, or forever for a
 * permanent deal. So a client killed before opening its deal leaves nothing behind for long.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Hex } from 'viem';
import { DepinError } from '../../core/errors.ts';
import type { Route } from '../../core/http.ts';
import { signMessage, verifyEnvelope } from '../../core/messages.ts';
import type { NodeComponents, NodeService } from '../../node/service.ts';
import { dealRoot } from '../client/manifest.ts';
import { CHUNK_SIZE } from '../client/pieces.ts';
import { buildChunkTree, createChunkHasher } from './chunks.ts';
import { createDealReader, DEAL_BINDING_MAX_BODY, type DealReader, parseDealBinding } from './dealBinding.ts';
import { createEgress, type EgressInit } from './egress.ts';
import { readOrderHeader } from './orderHeader.ts';
import { createPieceStore, type PieceStore } from './pieceStore.ts';

export type StorageInit = {
  /** Bytes of piece data this node accepts. */
  capacity: bigint;
  /** Largest piece, bytes (default 64 MiB, the largest segment). */
  maxPieceSize?: number;
  /** How often deleted and expired pieces are collected, ms (default 60 s). */
  gcEveryMs?: number;
  /** Unix seconds (tests). */
  now?: () => number;
  /** Seconds a piece no deal claims is kept after its upload (default 3600). */
  pendingTtl?: number;
  /**
   * Seconds a bound piece is kept after its deal ends (default 86,400): at least the chain's
   * `CHALLENGE_WINDOW`, since a challenge opened in the deal's last moments still needs its answer.
   */
  dealGrace?: number;
  /** Deals on chain (default: StorageDeals through the node's chain clients). */
  readDeal?: DealReader;
  /** Egress payments: when vouchers are redeemed, how long chain reads are cached. */
  egress?: EgressInit;
};

/** What the storage service needs from the node. */
export type StorageComponents = Pick<
  NodeComponents,
  | 'account'
  | 'signer'
  | 'domain'
  | 'log'
  | 'metrics'
  | 'nonces'
  | 'dataDir'
  | 'isActiveValidator'
  | 'clients'
  | 'deployment'
>;

export const DEFAULT_MAX_PIECE_SIZE = 64 * 1024 * 1024;
export const DEFAULT_PENDING_TTL = 3600;
export const DEFAULT_DEAL_GRACE = 86_400;
/** Registry services bit of storage. */
export const STORAGE_SERVICE_BIT = 1;

/**
 * @example
 * createNode({ …, services: [liveness(), storage({ capacity: 10n * 2n ** 30n })] });
 */
export function storage(init: StorageInit): (c: StorageComponents) => NodeService & { store: PieceStore } {
  return (c) => {
    const log = c.log.child({ component: 'storage' });
    const maxPieceSize = init.maxPieceSize ?? DEFAULT_MAX_PIECE_SIZE;
    const now = init.now ?? (() => Math.floor(Date.now() / 1000));
    const pendingTtl = init.pendingTtl ?? DEFAULT_PENDING_TTL;
    const dealGrace = init.dealGrace ?? DEFAULT_DEAL_GRACE;
    const readDeal =
      init.readDeal ??
      (c.clients && c.deployment
        ? createDealReader({ clients: c.clients, deployment: c.deployment })
        : undefined);
    const db = new DatabaseSync(join(c.dataDir, 'storage.sqlite'));
    db.exec('PRAGMA journal_mode = WAL');
    const store = createPieceStore({ db, dir: join(c.dataDir, 'pieces'), capacity: init.capacity, now });
    const egressPayments = createEgress(init.egress ?? {}, c, db);
    const me = c.account.address.toLowerCase();

    const m = c.metrics;
    const usedGauge = m.gauge(
      'depin_node_storage_used_bytes',
      'Bytes of pieces stored (on disk until collected)',
    );
    const piecesGauge = m.gauge('depin_node_storage_pieces', 'Pieces stored');
    m.gauge('depin_node_storage_capacity_bytes', 'Declared storage capacity').set(Number(init.capacity));
    const ingress = m.counter('depin_node_storage_ingress_bytes_total', 'Piece bytes stored');
    const egress = m.counter('depin_node_storage_egress_bytes_total', 'Piece bytes served');
    const audits = m.counter('depin_node_storage_audits_answered_total', 'Storage audits answered');
    const bindings = m.counter('depin_node_storage_deal_bindings_total', 'Deal bindings accepted');
    const refreshGauges = () => {
      const s = store.stats();
      usedGauge.set(s.used);
      piecesGauge.set(s.pieces);
    };
    refreshGauges();

    /** Checks a client's order (format → network → signature → expiry → replay) and its address. */
    const verify = async <T extends 'PutOrder' | 'GetOrder' | 'DeleteOrder'>(
      input: unknown,
      type: T,
      pieceId: string,
    ) => {
      const v = await verifyEnvelope(input, {
        type,
        domain: c.domain,
        signerField: 'client',
        nonces: c.nonces,
        now: now(),
      });
      addressedHere(v.message.node);
      if (v.message.pieceId.toLowerCase() !== pieceId.toLowerCase()) {
        throw new DepinError(
          'ORDER_MISMATCH',
          `The order is for piece ${v.message.pieceId}, not ${pieceId}.`,
        );
      }
      return v;
    };
    const addressedHere = (node: Hex) => {
      if (node.toLowerCase() !== me) {
        throw new DepinError('WRONG_NODE', `This message is for ${node}, not this node (${me}).`, {
          status: 403,
        });
      }
    };

    const collect = () => {
      try {
        const { removed, freedBytes } = store.gc(now());
        if (removed > 0) log.info({ removed, freedBytes }, 'collected pieces');
        refreshGauges();
      } catch (e) {
        log.error({ err: e }, 'piece collection failed');
      }
    };
    let timer: NodeJS.Timeout | undefined;

    const routes: Route[] = [
      {
        method: 'PUT',
        path: '/v1/pieces/:pieceId',
        raw: true,
        maxBody: maxPieceSize,
        handler: async ({ req, params, raw }) => {
          const { message } = await verify(readOrderHeader(req), 'PutOrder', params.pieceId!);
          if (message.size < 1n) throw new DepinError('BAD_SIZE', 'A piece has at least one byte.');
          if (message.size > BigInt(maxPieceSize)) {
            throw new DepinError(
              'PIECE_TOO_LARGE',
              `Pieces are at most ${maxPieceSize} bytes: cut smaller segments.`,
              {
                status: 413,
              },
            );
          }
          const size = Number(message.size);
          const declared = Number(req.headers['content-length'] ?? 0);
          // Read only after the store has reserved the space: capacity is checked before body size.
          const body = (async function* () {
            if (declared > size) {
              throw new DepinError('BODY_TOO_LARGE', `The body is longer than the ordered ${size} bytes.`, {
                status: 413,
              });
            }
            yield* raw;
          })();
          const record = await store.put(
            {
              pieceId: message.pieceId,
              size,
              pieceRoot: message.pieceRoot,
              // The order's deal id is the client's word; only a deal binding (checked on chain) counts.
              dealId: 0n,
              client: message.client,
              expiresAt: now() + pendingTtl,
            },
            body,
          );
          if (!record.existed) {
            ingress.inc(size);
            refreshGauges();
            log.debug({ pieceId: record.pieceId, size, client: message.client }, 'stored piece');
          }
          return {
            status: record.existed ? 200 : 201,
            body: await signMessage(c.signer, c.domain, 'PieceReceipt', {
              node: c.account.address,
              pieceId: record.pieceId,
              pieceRoot: record.pieceRoot,
              size: BigInt(record.size),
              storedAt: BigInt(record.storedAt),
            }),
          };
        },
      },
      {
        method: 'GET',
        path: '/v1/pieces/:pieceId',
        handler: async ({ req, params }) => {
          const { message } = await verify(readOrderHeader(req), 'GetOrder', params.pieceId!);
          const { record, stream } = await store.read(message.pieceId);
          // size 0 asks for the whole piece (a client that knows only the id, e.g. of its manifest).
          if (message.size !== 0n && message.size !== BigInt(record.size)) {
            stream.destroy();
            throw new DepinError(
              'ORDER_MISMATCH',
              `Piece ${record.pieceId} has ${record.size} bytes, not ${message.size}.`,
            );
          }
          try {
            await egressPayments.charge(req, message.client, record.size);
          } catch (e) {
            stream.destroy();
            throw e;
          }
          egress.inc(record.size);
          return {
            body: stream,
            headers: { 'content-length': String(record.size), 'x-depin-piece-root': record.pieceRoot },
          };
        },
      },
      {
        // A health probe: what GET answers, without the bytes (and without counting egress).
        method: 'HEAD',
        path: '/v1/pieces/:pieceId',
        handler: async ({ req, params }) => {
          const { message } = await verify(readOrderHeader(req), 'GetOrder', params.pieceId!);
          const record = store.get(message.pieceId);
          if (!record || record.deleted) {
            throw new DepinError('PIECE_NOT_FOUND', `This node does not hold piece ${message.pieceId}.`, {
              status: 404,
            });
          }
          if (message.size !== 0n && message.size !== BigInt(record.size)) {
            throw new DepinError(
              'ORDER_MISMATCH',
              `Piece ${record.pieceId} has ${record.size} bytes, not ${message.size}.`,
            );
          }
          return {
            body: new Uint8Array(0),
            headers: { 'content-length': String(record.size), 'x-depin-piece-root': record.pieceRoot },
          };
        },
      },
      {
        method: 'DELETE',
        path: '/v1/pieces/:pieceId',
        handler: async ({ req, params }) => {
          const { message } = await verify(readOrderHeader(req), 'DeleteOrder', params.pieceId!);
          const record = store.get(message.pieceId);
          if (!record || record.deleted) {
            throw new DepinError('PIECE_NOT_FOUND', `This node does not hold piece ${message.pieceId}.`, {
              status: 404,
            });
          }
          if (record.client !== message.client.toLowerCase()) {
            throw new DepinError(
              'NOT_PIECE_OWNER',
              `Only ${record.client}, who stored the piece, may delete it.`,
              {
                status: 403,
              },
            );
          }
          store.markDeleted(record.pieceId);
          return { body: { pieceId: record.pieceId, deleted: true } };
        },
      },
      {
        method: 'POST',
        path: '/v1/storage/audit',
        handler: async ({ body }) => {
          const { message, hash } = await verifyEnvelope(body, {
            type: 'Audit',
            domain: c.domain,
            signerField: 'validator',
            nonces: c.nonces,
            now: now(),
            resolveKey: async (v) => ((await c.isActiveValidator(v)) ? v : undefined),
          });
          addressedHere(message.node);
          const answer = await store.readChunk(message.pieceId, message.chunk);
          audits.inc();
          return {
            body: {
              chunk: Buffer.from(answer.chunk).toString('base64'),
              proof: answer.proof,
              pieceRoot: answer.pieceRoot,
              response: await signMessage(c.signer, c.domain, 'AuditResponse', {
                audit: hash,
                node: c.account.address,
                pieceId: message.pieceId.toLowerCase() as Hex,
                chunk: message.chunk,
                leaf: answer.leaf,
                pieceRoot: answer.pieceRoot,
                answeredAt: BigInt(now()),
              }),
            },
          };
        },
      },
      {
        method: 'POST',
        path: '/v1/storage/deals',
        maxBody: DEAL_BINDING_MAX_BODY,
        handler: async ({ body }) => {
          const { dealId, pieceIds } = parseDealBinding(body);
          if (!readDeal) {
            throw new DepinError('CHAIN_UNAVAILABLE', 'This node reads no chain: it cannot check deals.', {
              status: 503,
            });
          }
          const deal = await readDeal(dealId);
          if (!deal) throw new DepinError('DEAL_UNKNOWN', `Deal ${dealId} is not on chain.`, { status: 404 });
          if (dealRoot(pieceIds) !== deal.root) {
            throw new DepinError(
              'DEAL_ROOT_MISMATCH',
              `These piece ids do not build deal ${dealId}'s root on chain: list all of the deal's pieces.`,
            );
          }
          const bound = store.bind(pieceIds, dealId, deal.endsAt === null ? null : deal.endsAt + dealGrace);
          bindings.inc();
          log.debug({ dealId: String(dealId), bound, listed: pieceIds.length }, 'bound deal');
          return { body: { dealId: String(dealId), bound } };
        },
      },
      {
        method: 'GET',
        path: '/v1/storage/stats',
        handler: () => ({ body: { ...store.stats(), maxPieceSize } }),
      },
      ...egressPayments.routes,
    ];

    return {
      name: 'storage',
      serviceBit: STORAGE_SERVICE_BIT,
      routes,
      store,
      async start() {
        // Build the commitment's WebAssembly tree hasher now rather than on the first upload.
        const warm = createChunkHasher();
        warm.update(new Uint8Array(64 * CHUNK_SIZE));
        buildChunkTree(warm.digest());
        collect();
        timer = setInterval(collect, init.gcEveryMs ?? 60_000);
        timer.unref();
        egressPayments.start();
      },
      async stop() {
        clearInterval(timer);
        // Vouchers are already in SQLite; only let a redemption in flight record its outcome.
        await egressPayments.stop();
        if (db.isOpen) db.close();
      },
    };
  };
}
