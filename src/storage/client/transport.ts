/**
 * Piece transfers between a client and storage nodes over HTTP, each under a client-signed EIP-712
 * order (docs/storage.md): PUT stores a piece and returns the node's signed PieceReceipt, GET
 * streams it back (paid with an egress voucher from `payer` when the node charges), DELETE ends it.
 */
import { randomBytes } from 'node:crypto';
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

async function failure(res: Response, what: string): Promise<DepinError> {
  let code = 'STORAGE_NODE_ERROR';
  let message = `${what} answered ${res.status}`;
  let details: Record<string, unknown> | undefined;
  try {
    const body = (await res.json()) as {
      error?: { code?: string; message?: string; details?: Record<string, unknown> };
    };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
    details = body.error?.details;
  } catch {
    // not JSON
  }
  return new DepinError(code, message, { status: res.status, ...(details ? { details } : {}) });
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
  const res = await fetch(url(p.node, p.pieceId), {
    method: 'PUT',
    headers: { [ORDER_HEADER]: encodeOrderHeader(order), 'content-type': 'application/octet-stream' },
    body: p.data as Uint8Array<ArrayBuffer>,
    ...(p.signal ? { signal: p.signal } : {}),
  });
  if (!res.ok) throw await failure(res, `PUT piece on ${p.node.id}`);
  const receipt = (await res.json()) as Envelope;
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
 * price is paid through `payer` (without one it answers 402 `PAYMENT_REQUIRED`).
 *
 * @example const bytes = await getPiece({ account, domain, node, pieceId, size, payer: egressPayer(sc) });
 */
export async function getPiece(
  p: Common & { pieceId: Hex; size: number; payer?: EgressPayer },
): Promise<Uint8Array> {
  const send = async (voucher: string | undefined) => {
    const order = await signMessage(p.account, p.domain, 'GetOrder', {
      client: p.account.address,
      node: p.node.id,
      pieceId: p.pieceId,
      size: BigInt(p.size),
      expiry: expiry(p.ttl),
      nonce: nonce(),
    });
    const res = await fetch(url(p.node, p.pieceId), {
      headers: {
        [ORDER_HEADER]: encodeOrderHeader(order),
        ...(voucher ? { [VOUCHER_HEADER]: voucher } : {}),
      },
      ...(p.signal ? { signal: p.signal } : {}),
    });
    return Object.assign(res, {
      errorBody: () => res.clone().json(),
      discard: async () => void (await res.body?.cancel()),
    });
  };
  const res = p.payer ? await p.payer.fetchPaid(p.node, p.size, send) : await send(undefined);
  if (!res.ok) throw await failure(res, `GET piece from ${p.node.id}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (p.size !== 0 && bytes.length !== p.size)
    throw new DepinError('STORAGE_SHORT_PIECE', `${p.node.id} sent ${bytes.length} of ${p.size} bytes.`);
  return bytes;
}

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
  const order = await signMessage(p.account, p.domain, 'GetOrder', {
    client: p.account.address,
    node: p.node.id,
    pieceId: p.pieceId,
    size: BigInt(p.size),
    expiry: expiry(p.ttl),
    nonce: nonce(),
  });
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
