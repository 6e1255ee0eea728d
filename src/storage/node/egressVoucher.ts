/**
 * The egress voucher (contracts/EgressPayments.sol): `EgressVoucher(client, node, cumulative)`, all
 * Credits a client owes a node so far, EIP-712-signed by the client under the EgressPayments domain
 * (`"depin egress"`, `"1"`, chain id, the EgressPayments contract). It travels with each download in
 * the `x-depin-egress-voucher` header as base64url JSON `{client, node, cumulative, signature}`.
 * A voucher has no nonce or expiry: it only ever raises a cumulative total, so a replay pays nothing.
 */
import type { IncomingMessage } from 'node:http';
import { type Hex, isAddress, type LocalAccount, recoverTypedDataAddress } from 'viem';
import { z } from 'zod';
import type { Deployment } from '../../chain/deployment.ts';
import { DepinError } from '../../core/errors.ts';

/** The header that carries a signed voucher on `GET /v1/pieces/:pieceId`. */
export const VOUCHER_HEADER = 'x-depin-egress-voucher';

export type EgressDomain = { name: 'depin egress'; version: '1'; chainId: number; verifyingContract: Hex };

export type EgressVoucher = { client: Hex; node: Hex; cumulative: bigint; signature: Hex };

export const egressVoucherTypes = {
  EgressVoucher: [
    { name: 'client', type: 'address' },
    { name: 'node', type: 'address' },
    { name: 'cumulative', type: 'uint256' },
  ],
} as const;

/**
 * @example const domain = egressDomain(deployment);
 */
export function egressDomain(d: Pick<Deployment, 'chainId' | 'contracts'>): EgressDomain {
  return {
    name: 'depin egress',
    version: '1',
    chainId: d.chainId,
    verifyingContract: d.contracts.EgressPayments,
  };
}

/**
 * Signs that `account` owes `node` a cumulative `cumulative` Credits.
 *
 * @example const v = await signEgressVoucher(account, domain, { node, cumulative: 1200n });
 */
export async function signEgressVoucher(
  account: LocalAccount,
  domain: EgressDomain,
  v: { node: Hex; cumulative: bigint },
): Promise<EgressVoucher> {
  const message = { client: account.address, node: v.node, cumulative: v.cumulative };
  const signature = await account.signTypedData({
    domain,
    types: egressVoucherTypes,
    primaryType: 'EgressVoucher',
    message,
  });
  return { ...message, signature };
}

/**
 * True when `voucher` is signed by its `client` (an EOA) under `domain`.
 *
 * @example if (!(await isVoucherSigned(domain, v))) throw …;
 */
export async function isVoucherSigned(domain: EgressDomain, voucher: EgressVoucher): Promise<boolean> {
  try {
    const signer = await recoverTypedDataAddress({
      domain,
      types: egressVoucherTypes,
      primaryType: 'EgressVoucher',
      message: { client: voucher.client, node: voucher.node, cumulative: voucher.cumulative },
      signature: voucher.signature,
    });
    return signer.toLowerCase() === voucher.client.toLowerCase();
  } catch {
    return false;
  }
}

const voucherSchema = z.object({
  client: z.string().refine((s) => isAddress(s, { strict: false }), 'expected an address'),
  node: z.string().refine((s) => isAddress(s, { strict: false }), 'expected an address'),
  cumulative: z
    .string()
    .regex(/^\d{1,78}$/)
    .transform((s) => BigInt(s))
    .refine((n) => n < 2n ** 256n, 'expected a uint256'),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'expected a 65-byte signature'),
});

/** A voucher as JSON (bigints as decimal strings), e.g. in answers of `GET /v1/storage/egress/:client`. */
export function voucherToJson(v: EgressVoucher): Record<string, string> {
  return { client: v.client, node: v.node, cumulative: v.cumulative.toString(), signature: v.signature };
}

/**
 * Parses a voucher from JSON (not yet checked: see {@link isVoucherSigned}). Errors: BAD_VOUCHER 400.
 *
 * @example const v = parseVoucher(JSON.parse(text));
 */
export function parseVoucher(input: unknown): EgressVoucher {
  const r = voucherSchema.safeParse(input);
  if (!r.success) {
    throw new DepinError(
      'BAD_VOUCHER',
      `The egress voucher is malformed: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}.`,
    );
  }
  return r.data as EgressVoucher;
}

/**
 * The header value for a voucher.
 *
 * @example fetch(url, { headers: { [VOUCHER_HEADER]: encodeVoucherHeader(v), … } });
 */
export function encodeVoucherHeader(v: EgressVoucher): string {
  return Buffer.from(JSON.stringify(voucherToJson(v))).toString('base64url');
}

/** The voucher a request carries, `undefined` without the header. Errors: BAD_VOUCHER 400. */
export function readVoucherHeader(req: IncomingMessage): EgressVoucher | undefined {
  const value = req.headers[VOUCHER_HEADER];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 2048 || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) {
    throw new DepinError('BAD_VOUCHER', `The ${VOUCHER_HEADER} header is not base64url.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch (e) {
    throw new DepinError('BAD_VOUCHER', `The ${VOUCHER_HEADER} header is not base64url-encoded JSON.`, {
      cause: e,
    });
  }
  return parseVoucher(json);
}
