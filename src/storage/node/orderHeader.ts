/**
 * Signed orders travel in a header, since piece bodies are raw bytes: `x-depin-order` holds the
 * EIP-712 envelope (`{type, chainId, message, signature}`) as base64url-encoded JSON.
 */
import type { IncomingMessage } from 'node:http';
import { DepinError } from '../../core/errors.ts';
import type { Envelope } from '../../core/messages.ts';

/** The header that carries a signed PutOrder, GetOrder or DeleteOrder. */
export const ORDER_HEADER = 'x-depin-order';

/**
 * The header value for a signed order.
 *
 * @example fetch(url, { method: 'PUT', headers: { [ORDER_HEADER]: encodeOrderHeader(order) }, body: piece });
 */
export function encodeOrderHeader(envelope: Envelope): string {
  return Buffer.from(JSON.stringify(envelope)).toString('base64url');
}

/**
 * The envelope a request carries, not yet verified (pass it to `verifyEnvelope`).
 * Errors: MISSING_ORDER 401, BAD_MESSAGE 400.
 *
 * @example const { message } = await verifyEnvelope(readOrderHeader(req), { type: 'GetOrder', … });
 */
export function readOrderHeader(req: IncomingMessage): unknown {
  const value = req.headers[ORDER_HEADER];
  if (typeof value !== 'string' || value.length === 0) {
    throw new DepinError(
      'MISSING_ORDER',
      `Send the signed order in the ${ORDER_HEADER} header (base64url JSON).`,
      {
        status: 401,
      },
    );
  }
  if (value.length > 8192 || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) {
    throw new DepinError('BAD_MESSAGE', `The ${ORDER_HEADER} header is not base64url.`);
  }
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch (e) {
    throw new DepinError('BAD_MESSAGE', `The ${ORDER_HEADER} header is not base64url-encoded JSON.`, {
      cause: e,
    });
  }
}
