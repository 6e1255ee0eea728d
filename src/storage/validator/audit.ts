/**
 * A storage audit: a signed Audit for one chunk of one piece; the node must answer before the
 * deadline with the chunk, its Merkle proof against the committed piece root (index-bound leaf)
 * and a signed AuditResponse. The validator signs an evidence record either way.
 */
import { randomBytes } from 'node:crypto';
import { type Hex, type LocalAccount, toHex } from 'viem';
import type { NodeRecord } from '../../chain/reads.ts';
import { EVIDENCE_KIND, OUTCOME, REASON } from '../../core/evidence.ts';
import { type Domain, type Envelope, signMessage, verifyEnvelope } from '../../core/messages.ts';
import { verifyChunk } from '../client/pieces.ts';
import type { AuditPick } from './sampling.ts';

/** Evidence slots of storage audits start here, apart from liveness slots. */
export const AUDIT_SLOT_BASE = 1000;

export async function auditPiece(input: {
  account: LocalAccount;
  domain: Domain;
  epoch: bigint;
  pick: AuditPick & { pieceRoot: Hex };
  node: NodeRecord;
  timeoutMs: number;
}): Promise<{ outcome: number; reason: number; latencyMs: number }> {
  const t0 = performance.now();
  const audit = {
    validator: input.account.address,
    node: input.node.id,
    pieceId: input.pick.pieceId,
    chunk: input.pick.chunk,
    epoch: input.epoch,
    nonce: toHex(randomBytes(32)),
    expiry: BigInt(Math.floor(Date.now() / 1000) + 30),
  };
  const env = await signMessage(input.account, input.domain, 'Audit', audit);
  const done = (outcome: number, reason: number) => ({
    outcome,
    reason,
    latencyMs: Math.round(performance.now() - t0),
  });
  let res: Response;
  try {
    res = await fetch(`${input.node.endpoint.replace(/\/$/, '')}/v1/storage/audit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(env),
      signal: AbortSignal.timeout(input.timeoutMs),
    });
  } catch (e) {
    return done(OUTCOME.invalid, (e as Error).name === 'TimeoutError' ? REASON.TIMEOUT : REASON.UNREACHABLE);
  }
  if (res.status === 404) return done(OUTCOME.invalid, REASON.PIECE_MISSING);
  if (!res.ok) return done(OUTCOME.invalid, res.status >= 500 ? REASON.PIECE_CORRUPT : REASON.HTTP_ERROR);
  try {
    const body = (await res.json()) as { chunk: string; proof: Hex[]; pieceRoot: Hex; response: Envelope };
    const { message } = await verifyEnvelope(body.response, {
      type: 'AuditResponse',
      domain: input.domain,
      signerField: 'node',
      resolveKey: async () => input.node.signer,
    });
    if (
      message.pieceId.toLowerCase() !== input.pick.pieceId.toLowerCase() ||
      message.chunk !== input.pick.chunk
    )
      return done(OUTCOME.invalid, REASON.WRONG_RESPONSE);
    const chunk = new Uint8Array(Buffer.from(body.chunk, 'base64'));
    if (!verifyChunk(input.pick.pieceRoot, input.pick.chunk, chunk, body.proof))
      return done(OUTCOME.invalid, REASON.BAD_PROOF);
  } catch {
    return done(OUTCOME.invalid, REASON.WRONG_RESPONSE);
  }
  return done(OUTCOME.valid, REASON.OK);
}

export { EVIDENCE_KIND };
