/**
 * EIP-712 messages that cross HTTP between daemons. Every one names the chain (domain chain id and
 * the Registry as verifying contract), carries an expiry and a nonce where replay matters, and is
 * checked in a fixed order: format → network → signature → expiry → replay → registration.
 */
import { type Hex, hashTypedData, isAddress, isHex, type LocalAccount, recoverTypedDataAddress } from 'viem';
import { z } from 'zod';
import { DepinError } from './errors.ts';
import type { NonceStore } from './nonces.ts';

export type Domain = { name: 'depin'; version: '1'; chainId: number; verifyingContract: Hex };

export function messageDomain(chainId: number, registry: Hex): Domain {
  return { name: 'depin', version: '1', chainId, verifyingContract: registry };
}

export const messageTypes = {
  Challenge: [
    { name: 'validator', type: 'address' },
    { name: 'node', type: 'address' },
    { name: 'epoch', type: 'uint256' },
    { name: 'slot', type: 'uint32' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'expiry', type: 'uint64' },
  ],
  ChallengeResponse: [
    { name: 'challenge', type: 'bytes32' },
    { name: 'node', type: 'address' },
    { name: 'answeredAt', type: 'uint64' },
  ],
  Evidence: [
    { name: 'epoch', type: 'uint256' },
    { name: 'validator', type: 'address' },
    { name: 'subject', type: 'address' },
    { name: 'kind', type: 'uint8' },
    { name: 'slot', type: 'uint32' },
    { name: 'outcome', type: 'uint8' },
    { name: 'reason', type: 'uint8' },
    { name: 'measurement', type: 'uint64' },
  ],
  // Storage (docs/storage.md): orders signed by the client, receipts and answers signed by the node.
  PutOrder: [
    { name: 'client', type: 'address' },
    { name: 'node', type: 'address' },
    { name: 'pieceId', type: 'bytes32' },
    { name: 'pieceRoot', type: 'bytes32' },
    { name: 'size', type: 'uint64' },
    { name: 'dealId', type: 'uint256' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'bytes32' },
  ],
  GetOrder: [
    { name: 'client', type: 'address' },
    { name: 'node', type: 'address' },
    { name: 'pieceId', type: 'bytes32' },
    { name: 'size', type: 'uint64' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'bytes32' },
  ],
  DeleteOrder: [
    { name: 'client', type: 'address' },
    { name: 'node', type: 'address' },
    { name: 'pieceId', type: 'bytes32' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'bytes32' },
  ],
  PieceReceipt: [
    { name: 'node', type: 'address' },
    { name: 'pieceId', type: 'bytes32' },
    { name: 'pieceRoot', type: 'bytes32' },
    { name: 'size', type: 'uint64' },
    { name: 'storedAt', type: 'uint64' },
  ],
  Audit: [
    { name: 'validator', type: 'address' },
    { name: 'node', type: 'address' },
    { name: 'pieceId', type: 'bytes32' },
    { name: 'chunk', type: 'uint32' },
    { name: 'epoch', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'expiry', type: 'uint64' },
  ],
  /** A repairer's claim to have re-placed a lost piece on `node` (paid from the withheld pool). */
  RepairReport: [
    { name: 'repairer', type: 'address' },
    { name: 'dealId', type: 'uint256' },
    { name: 'pieceId', type: 'bytes32' },
    { name: 'pieceRoot', type: 'bytes32' },
    { name: 'node', type: 'address' },
  ],
  AuditResponse: [
    { name: 'audit', type: 'bytes32' },
    { name: 'node', type: 'address' },
    { name: 'pieceId', type: 'bytes32' },
    { name: 'chunk', type: 'uint32' },
    { name: 'leaf', type: 'bytes32' },
    { name: 'pieceRoot', type: 'bytes32' },
    { name: 'answeredAt', type: 'uint64' },
  ],
} as const;

export type MessageType = keyof typeof messageTypes;

export type ChallengeMessage = {
  validator: Hex;
  node: Hex;
  epoch: bigint;
  slot: number;
  nonce: Hex;
  expiry: bigint;
};
export type ChallengeResponseMessage = { challenge: Hex; node: Hex; answeredAt: bigint };
export type EvidenceMessage = {
  epoch: bigint;
  validator: Hex;
  subject: Hex;
  kind: number;
  slot: number;
  outcome: number;
  reason: number;
  measurement: bigint;
};

/** A client's order to store a piece; `size` is the exact byte length of the upload. */
export type PutOrderMessage = {
  client: Hex;
  node: Hex;
  pieceId: Hex;
  pieceRoot: Hex;
  size: bigint;
  dealId: bigint;
  expiry: bigint;
  nonce: Hex;
};
/** A client's order to download a piece (`size` = the piece's size, what the client will pay egress for). */
export type GetOrderMessage = {
  client: Hex;
  node: Hex;
  pieceId: Hex;
  size: bigint;
  expiry: bigint;
  nonce: Hex;
};
/** The storing client's order to delete a piece. */
export type DeleteOrderMessage = { client: Hex; node: Hex; pieceId: Hex; expiry: bigint; nonce: Hex };
/** The node's signed confirmation that it stored a piece whose bytes hash to `pieceRoot`. */
export type PieceReceiptMessage = { node: Hex; pieceId: Hex; pieceRoot: Hex; size: bigint; storedAt: bigint };
/** A validator's request for one 1 KiB chunk of a piece with its Merkle proof. */
export type AuditMessage = {
  validator: Hex;
  node: Hex;
  pieceId: Hex;
  chunk: number;
  epoch: bigint;
  nonce: Hex;
  expiry: bigint;
};
/**
 * The node's signed answer to an audit: `leaf` = sha256(uint32be(chunk) ‖ the 1 KiB zero-padded
 * chunk it sent), the Merkle leaf its proof starts from.
 */
export type AuditResponseMessage = {
  audit: Hex;
  node: Hex;
  pieceId: Hex;
  chunk: number;
  leaf: Hex;
  pieceRoot: Hex;
  answeredAt: bigint;
};

export type RepairReportMessage = { repairer: Hex; dealId: bigint; pieceId: Hex; pieceRoot: Hex; node: Hex };

type Messages = {
  Challenge: ChallengeMessage;
  ChallengeResponse: ChallengeResponseMessage;
  Evidence: EvidenceMessage;
  PutOrder: PutOrderMessage;
  GetOrder: GetOrderMessage;
  DeleteOrder: DeleteOrderMessage;
  PieceReceipt: PieceReceiptMessage;
  Audit: AuditMessage;
  AuditResponse: AuditResponseMessage;
  RepairReport: RepairReportMessage;
};

/** The typed message of an EIP-712 type name. */
export type MessageOf<T extends MessageType> = Messages[T];

/** A signed message as it travels in JSON: bigints as decimal strings. */
export type Envelope = {
  type: MessageType;
  chainId: number;
  message: Record<string, unknown>;
  signature: Hex;
};

/**
 * Signs a message and wraps it for JSON.
 *
 * @example const env = await signMessage(account, domain, 'Challenge', { validator, node, epoch: 3n, slot: 0, nonce, expiry });
 */
export async function signMessage<T extends MessageType>(
  account: LocalAccount,
  domain: Domain,
  type: T,
  message: MessageOf<T>,
): Promise<Envelope> {
  const signature = await account.signTypedData(typedData(domain, type, message) as never);
  return { type, chainId: domain.chainId, message: toJson(message), signature };
}

/** The EIP-712 hash of a message (what is signed), e.g. to reference a challenge from its response. */
export function hashMessage<T extends MessageType>(domain: Domain, type: T, message: MessageOf<T>): Hex {
  return hashTypedData(typedData(domain, type, message) as never);
}

const hex32 = z.string().refine((s) => isHex(s) && s.length === 66, 'expected 32 bytes hex');
const addr = z.string().refine((s) => isAddress(s, { strict: false }), 'expected an address');
const uint = z
  .union([z.string().regex(/^\d{1,78}$/), z.number().int().nonnegative()])
  .transform((v) => BigInt(v));
const small = z.number().int().nonnegative().max(0xffffffff);

const schemas = {
  Challenge: z.object({ validator: addr, node: addr, epoch: uint, slot: small, nonce: hex32, expiry: uint }),
  ChallengeResponse: z.object({ challenge: hex32, node: addr, answeredAt: uint }),
  Evidence: z.object({
    epoch: uint,
    validator: addr,
    subject: addr,
    kind: small.max(255),
    slot: small,
    outcome: small.max(255),
    reason: small.max(255),
    measurement: uint,
  }),
  PutOrder: z.object({
    client: addr,
    node: addr,
    pieceId: hex32,
    pieceRoot: hex32,
    size: uint,
    dealId: uint,
    expiry: uint,
    nonce: hex32,
  }),
  GetOrder: z.object({ client: addr, node: addr, pieceId: hex32, size: uint, expiry: uint, nonce: hex32 }),
  DeleteOrder: z.object({ client: addr, node: addr, pieceId: hex32, expiry: uint, nonce: hex32 }),
  PieceReceipt: z.object({ node: addr, pieceId: hex32, pieceRoot: hex32, size: uint, storedAt: uint }),
  Audit: z.object({
    validator: addr,
    node: addr,
    pieceId: hex32,
    chunk: small,
    epoch: uint,
    nonce: hex32,
    expiry: uint,
  }),
  AuditResponse: z.object({
    audit: hex32,
    node: addr,
    pieceId: hex32,
    chunk: small,
    leaf: hex32,
    pieceRoot: hex32,
    answeredAt: uint,
  }),
  RepairReport: z.object({ repairer: addr, dealId: uint, pieceId: hex32, pieceRoot: hex32, node: addr }),
} as const satisfies Record<MessageType, z.ZodType>;

const messageTypeNames = Object.keys(messageTypes) as [MessageType, ...MessageType[]];

const envelopeSchema = z.object({
  type: z.enum(messageTypeNames),
  chainId: z.number().int().positive(),
  message: z.record(z.string(), z.unknown()),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'expected a 65-byte signature'),
});

export type VerifyOptions<T extends MessageType> = {
  type: T;
  domain: Domain;
  /** Which message field names the signer (e.g. `validator`). */
  signerField: keyof MessageOf<T> & string;
  /** The key the signer field must map to (registration), when it differs from the field. */
  resolveKey?: (signer: Hex) => Promise<Hex | undefined>;
  /** Expiry check against this unix time (seconds), when the message has `expiry`. */
  now?: number;
  nonces?: NonceStore;
};

/**
 * Checks an envelope in a fixed order and returns the typed message and its signer.
 * Errors (all 4xx): MISSING_SIGNATURE / BAD_MESSAGE, WRONG_CHAIN, BAD_SIGNATURE, EXPIRED, REPLAYED, NOT_REGISTERED.
 */
export async function verifyEnvelope<T extends MessageType>(
  input: unknown,
  options: VerifyOptions<T>,
): Promise<{ message: MessageOf<T>; signer: Hex; hash: Hex }> {
  if (input && typeof input === 'object' && !('signature' in input)) {
    throw new DepinError(
      'MISSING_SIGNATURE',
      'The request is not signed: send {type, chainId, message, signature}.',
      { status: 401 },
    );
  }
  const env = envelopeSchema.safeParse(input);
  if (!env.success) {
    throw new DepinError(
      'BAD_MESSAGE',
      `The signed message is malformed: ${env.error.issues[0]?.path.join('.')} ${env.error.issues[0]?.message}.`,
    );
  }
  if (env.data.type !== options.type) {
    throw new DepinError('BAD_MESSAGE', `Expected a ${options.type} message, got ${env.data.type}.`);
  }
  if (env.data.chainId !== options.domain.chainId) {
    throw new DepinError(
      'WRONG_CHAIN',
      `The message is for chain ${env.data.chainId}; this network is chain ${options.domain.chainId}.`,
      { status: 403 },
    );
  }
  const parsed = schemas[options.type].safeParse(env.data.message);
  if (!parsed.success) {
    throw new DepinError(
      'BAD_MESSAGE',
      `The message is malformed: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}.`,
    );
  }
  const message = parsed.data as unknown as MessageOf<T>;
  let recovered: Hex;
  try {
    recovered = await recoverTypedDataAddress({
      ...(typedData(options.domain, options.type, message) as object),
      signature: env.data.signature as Hex,
    } as never);
  } catch (e) {
    throw new DepinError('BAD_SIGNATURE', 'The signature does not recover.', { cause: e, status: 401 });
  }
  const claimed = (message as Record<string, unknown>)[options.signerField] as Hex;
  const expectedKey = options.resolveKey ? await options.resolveKey(claimed) : claimed;
  if (!expectedKey || recovered.toLowerCase() !== expectedKey.toLowerCase()) {
    if (options.resolveKey && !expectedKey) {
      throw new DepinError('NOT_REGISTERED', `${claimed} is not registered for this role on chain.`, {
        status: 403,
      });
    }
    throw new DepinError('BAD_SIGNATURE', `The message was not signed by ${claimed}'s key.`, { status: 401 });
  }
  const expiry = (message as { expiry?: bigint }).expiry;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (expiry !== undefined && expiry < BigInt(now)) {
    throw new DepinError('EXPIRED', `The message expired at ${expiry} (now ${now}): sign a fresh one.`, {
      status: 401,
    });
  }
  const hash = hashMessage(options.domain, options.type, message);
  const nonce = (message as { nonce?: Hex }).nonce;
  if (options.nonces && nonce !== undefined && expiry !== undefined) {
    if (!options.nonces.use(`${recovered}:${nonce}`, Number(expiry))) {
      throw new DepinError('REPLAYED', 'This message was already used: sign a new one with a fresh nonce.', {
        status: 409,
      });
    }
  }
  return { message, signer: claimed, hash };
}

function toJson(message: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(message).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]),
  );
}

function typedData(domain: Domain, type: MessageType, message: object) {
  return { domain, types: { [type]: messageTypes[type] }, primaryType: type, message };
}
