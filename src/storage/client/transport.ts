/**
 * Piece transfers between a client and storage nodes over HTTP, each under a client-signed EIP-712
 * order (docs/storage.md): PUT stores a piece and returns the node's signed PieceReceipt, GET
 * streams it back (paid with an egress voucher from `payer` when the node charges), DELETE ends it.
 *
 * PUT and GET use node:http rather than fetch: fetch copies a request body twice before sending it
 * and assembles a response from its chunks, which for 8–20 MiB pieces cost the client more CPU than
 * the rest of the transfer. Here a piece is written to the socket from the caller's buffer and read
 * straight into one buffer of the ordered size.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, type IncomingMessage, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { finished } from 'node:stream/promises';
import { type Hex, type LocalAccount, toHex } from 'viem';
import { DepinError } from '../../core/errors.ts';
import { type Domain, type Envelope, signMessage, verifyEnvelope } from '../../core/messages.ts';
import { VOUCHER_HEADER } from '../node/egressVoucher.ts';
import { encodeOrderHeader, ORDER_HEADER } from '../node/orderHeader.ts';
import type { EgressPayer } from './egress.ts';

export type StorageNodeRef = {
  id: Hex;
  signer: Hex;
  endpoint: string;
  region: string;
  /** Registered egress price, Credits per GiB (Registry `prices[1]`); unknown: the node says. */
  egressPrice?: bigint;
};

type Common = {
  account: LocalAccount;
  domain: Domain;
  node: StorageNodeRef;
  signal?: AbortSignal;
  ttl?: number;
};

const expiry = (ttl = 600) => BigInt(Math.floor(Date.now() / 1000) + ttl);
const nonce = () => toHex(randomBytes(32));
const url = (node: StorageNodeRef, pieceId: Hex) =>
  `${node.endpoint.replace(/\/$/, '')}/v1/pieces/${pieceId}`;

async function failure(res: Response | IncomingMessage, what: string): Promise<DepinError> {
  const status = (res instanceof Response ? res.status : res.statusCode) ?? 0;
  let body: unknown;
  try {
    body =
      res instanceof Response ? await res.json() : JSON.parse(Buffer.from(await readBody(res)).toString());
  } catch {
    // not JSON
  }
  return refusal(status, body, what);
}

/** The DepinError a node's JSON refusal `{error: {code, message, details}}` stands for. */
function refusal(status: number, body: unknown, what: string): DepinError {
  const error = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })
    ?.error;
  return new DepinError(error?.code ?? 'STORAGE_NODE_ERROR', error?.message ?? `${what} answered ${status}`, {
    status,
    ...(error?.details ? { details: error.details } : {}),
  });
}

const agents = { http: new Agent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/** One HTTP exchange; resolves at the response headers (read or cancel the body). */
function exchange(
  target: string,
  o: { method: string; headers: Record<string, string>; body?: Uint8Array; signal?: AbortSignal },
): Promise<IncomingMessage> {
  const secure = target.startsWith('https:');
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : request)(target, {
      method: o.method,
      headers: o.body ? { ...o.headers, 'content-length': String(o.body.length) } : o.headers,
      agent: secure ? agents.https : agents.http,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    req.on('error', reject);
    req.once('response', (res) => {
      // An abort after the headers must also stop the body.
      if (o.signal) {
        const stop = () => res.destroy(o.signal!.reason as Error);
        o.signal.addEventListener('abort', stop, { once: true });
        res.once('close', () => o.signal!.removeEventListener('abort', stop));
      }
      resolve(res);
    });
    req.end(o.body ? Buffer.from(o.body.buffer, o.body.byteOffset, o.body.length) : undefined);
  });
}

/**
 * Reads a response body; with `size`, straight into one buffer of that many bytes (`into`, or an
 * ArrayBuffer of its own, so it can be transferred to a worker), failing with STORAGE_SHORT_PIECE
 * on more.
 */
async function readBody(res: IncomingMessage, size = 0, what = '', into?: Uint8Array): Promise<Uint8Array> {
  if (size > 0) {
    const out = into ?? new Uint8Array(size);
    let at = 0;
    // Flowing mode: each chunk is copied as it is parsed, rather than queued and read back.
    res.on('data', (chunk: Buffer) => {
      if (at + chunk.length > size) {
        res.destroy(
          new DepinError('STORAGE_SHORT_PIECE', `${what} sent more than the ${size} bytes ordered.`),
        );
        return;
      }
      out.set(chunk, at);
      at += chunk.length;
    });
    await finished(res);
    return at === size ? out : out.subarray(0, at);
  }
  const parts: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) parts.push(chunk);
  const all = Buffer.concat(parts);
  return new Uint8Array(all.buffer, all.byteOffset, all.length) as Uint8Array<ArrayBuffer>;
}

/**
 * Uploads one piece; resolves to the node's signed receipt (checked against its registered key).
 *
 * @example const receipt = await putPiece({ account, domain, node, pieceId, pieceRoot, data, dealId: 0n });
 */
export async function putPiece(
  p: Common & { pieceId: Hex; pieceRoot: Hex; data: Uint8Array; dealId: bigint },
): Promise<Envelope> {
  const order = await signMessage(p.account, p.domain, 'PutOrder', {
    client: p.account.address,
    node: p.node.id,
    pieceId: p.pieceId,
    pieceRoot: p.pieceRoot,
    size: BigInt(p.data.length),
    dealId: p.dealId,
    expiry: expiry(p.ttl),
    nonce: nonce(),
  });
  const res = await exchange(url(p.node, p.pieceId), {
    method: 'PUT',
    headers: { [ORDER_HEADER]: encodeOrderHeader(order), 'content-type': 'application/octet-stream' },
    body: p.data,
    ...(p.signal ? { signal: p.signal } : {}),
  });
  if (!ok(res)) throw await failure(res, `PUT piece on ${p.node.id}`);
  const receipt = JSON.parse(Buffer.from(await readBody(res)).toString()) as Envelope;
  const { message } = await verifyEnvelope(receipt, {
    type: 'PieceReceipt',
    domain: p.domain,
    signerField: 'node',
    resolveKey: async () => p.node.signer,
  });
  if (
    message.pieceId.toLowerCase() !== p.pieceId.toLowerCase() ||
    message.pieceRoot.toLowerCase() !== p.pieceRoot.toLowerCase()
  ) {
    throw new DepinError('STORAGE_BAD_RECEIPT', `${p.node.id} signed a receipt for another piece.`);
  }
  return receipt;
}

/**
 * Downloads one piece of `size` bytes (0: the whole piece, size unknown). A node with an egress
 * price is paid through `payer` (without one it answers 402 `PAYMENT_REQUIRED`). With `hold`, the
 * request is sent at once but its body is read only once `hold` settles: the node has checked the
 * order and stands ready, while the bytes wait in socket buffers (a hedge that costs next to
 * nothing unless it is used).
 *
 * @example const bytes = await getPiece({ account, domain, node, pieceId, size, payer: egressPayer(sc) });
 */
export async function getPiece(
  p: Common & {
    pieceId: Hex;
    size: number;
    payer?: EgressPayer;
    hold?: Promise<unknown>;
    /** Read into this buffer of exactly `size` bytes (e.g. one reused across segments). */
    into?: Uint8Array;
  },
): Promise<Uint8Array> {
  const send = async (voucher: string | undefined) => {
    const order = await signGetOrder(p);
    const res = await exchange(url(p.node, p.pieceId), {
      method: 'GET',
      headers: {
        [ORDER_HEADER]: encodeOrderHeader(order),
        ...(voucher ? { [VOUCHER_HEADER]: voucher } : {}),
      },
      ...(p.signal ? { signal: p.signal } : {}),
    });
    // A refusal's body is read once, by the payer or for the error, whichever asks first.
    let refused: Promise<unknown> | undefined;
    const errorBody = () =>
      (refused ??= readBody(res).then((b) => JSON.parse(Buffer.from(b).toString()) as unknown));
    return { res, status: res.statusCode ?? 0, errorBody, discard: async () => void res.resume() };
  };
  const answer = p.payer ? await p.payer.fetchPaid(p.node, p.size, send) : await send(undefined);
  const res = answer.res;
  if (!ok(res)) {
    const body = await answer.errorBody().catch(() => undefined);
    throw refusal(answer.status, body, `GET piece from ${p.node.id}`);
  }
  if (p.hold) await Promise.race([p.hold, once(res, 'close')]);
  const bytes = await readBody(res, p.size, p.node.id, p.into?.length === p.size ? p.into : undefined);
  if (p.size !== 0 && bytes.length !== p.size)
    throw new DepinError('STORAGE_SHORT_PIECE', `${p.node.id} sent ${bytes.length} of ${p.size} bytes.`);
  return bytes;
}

/** A fresh GetOrder for one piece (GET and HEAD take the same order). */
function signGetOrder(p: Common & { pieceId: Hex; size: number }) {
  return signMessage(p.account, p.domain, 'GetOrder', {
    client: p.account.address,
    node: p.node.id,
    pieceId: p.pieceId,
    size: BigInt(p.size),
    expiry: expiry(p.ttl),
    nonce: nonce(),
  });
}

const ok = (res: IncomingMessage) => (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;

/** Asks a node to drop a piece this client stored. */
export async function deletePiece(p: Common & { pieceId: Hex }): Promise<void> {
  const order = await signMessage(p.account, p.domain, 'DeleteOrder', {
    client: p.account.address,
    node: p.node.id,
    pieceId: p.pieceId,
    expiry: expiry(p.ttl),
    nonce: nonce(),
  });
  const res = await fetch(url(p.node, p.pieceId), {
    method: 'DELETE',
    headers: { [ORDER_HEADER]: encodeOrderHeader(order) },
  });
  if (!res.ok && res.status !== 404) throw await failure(res, `DELETE piece on ${p.node.id}`);
}

/** Whether the node holds the piece: a signed HEAD (no bytes move, no egress is counted). */
export async function hasPiece(p: Common & { pieceId: Hex; size: number }): Promise<boolean> {
  const order = await signGetOrder(p);
  try {
    const res = await fetch(url(p.node, p.pieceId), {
      method: 'HEAD',
      headers: { [ORDER_HEADER]: encodeOrderHeader(order) },
      signal: AbortSignal.timeout(5000),
    });
    return res.ok;
  } catch {
    return false;
  }
}
