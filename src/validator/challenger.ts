/**
 * Liveness challenges: a signed Challenge to the node's endpoint; the node must answer with a
 * ChallengeResponse signed by its registered key before the deadline. Either way the validator
 * signs an evidence record (invalid ones with a reason code) and stores it.
 */

import { randomBytes } from 'node:crypto';
import { type Hex, keccak256, type LocalAccount, toHex } from 'viem';
import type { NodeRecord } from '../chain/reads.ts';
import { EVIDENCE_KIND, OUTCOME, REASON } from '../core/evidence.ts';
import { type Domain, hashMessage, signMessage, verifyEnvelope } from '../core/messages.ts';
import type { ValidatorStore } from './store.ts';

export type ChallengeOutcome = { outcome: number; reason: number; latencyMs: number };

/**
 * Challenges one node for one slot and records the signed evidence.
 *
 * @example await challengeNode({ account, domain, store, epoch: 4n, slot: 1, node, timeoutMs: 2000 })
 */
export async function challengeNode(input: {
  account: LocalAccount;
  domain: Domain;
  store: ValidatorStore;
  epoch: bigint;
  slot: number;
  node: NodeRecord;
  timeoutMs: number;
}): Promise<ChallengeOutcome> {
  const { account, domain, node } = input;
  const t0 = performance.now();
  const result = await probe(input).catch(() => ({ outcome: OUTCOME.invalid, reason: REASON.UNREACHABLE }));
  const latencyMs = Math.round(performance.now() - t0);
  const env = await signMessage(account, domain, 'Evidence', {
    epoch: input.epoch,
    validator: account.address,
    subject: node.id,
    kind: EVIDENCE_KIND.liveness,
    slot: input.slot,
    outcome: result.outcome,
    reason: result.reason,
    measurement: BigInt(latencyMs),
  });
  input.store.addEvidence(input.epoch, node.id, input.slot, result.outcome, result.reason, env);
  return { ...result, latencyMs };
}

async function probe(input: {
  account: LocalAccount;
  domain: Domain;
  epoch: bigint;
  slot: number;
  node: NodeRecord;
  timeoutMs: number;
}): Promise<{ outcome: number; reason: number }> {
  const { account, domain, node } = input;
  const challenge = {
    validator: account.address,
    node: node.id,
    epoch: input.epoch,
    slot: input.slot,
    nonce: keccak256(toHex(randomBytes(32))),
    expiry: BigInt(Math.floor(Date.now() / 1000) + 30),
  };
  const env = await signMessage(account, domain, 'Challenge', challenge);
  let res: Response;
  try {
    res = await fetch(`${node.endpoint.replace(/\/$/, '')}/v1/challenge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(env),
      signal: AbortSignal.timeout(input.timeoutMs),
    });
  } catch (e) {
    const timeout = (e as Error).name === 'TimeoutError';
    return { outcome: OUTCOME.invalid, reason: timeout ? REASON.TIMEOUT : REASON.UNREACHABLE };
  }
  if (!res.ok) return { outcome: OUTCOME.invalid, reason: REASON.HTTP_ERROR };
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { outcome: OUTCOME.invalid, reason: REASON.WRONG_RESPONSE };
  }
  try {
    const { message } = await verifyEnvelope(body, {
      type: 'ChallengeResponse',
      domain,
      signerField: 'node',
      resolveKey: async () => node.signer,
    });
    const expected = hashMessage(domain, 'Challenge', challenge);
    if (
      message.challenge.toLowerCase() !== expected.toLowerCase() ||
      message.node.toLowerCase() !== node.id
    ) {
      return { outcome: OUTCOME.invalid, reason: REASON.WRONG_RESPONSE };
    }
  } catch {
    return { outcome: OUTCOME.invalid, reason: REASON.BAD_SIGNATURE };
  }
  return { outcome: OUTCOME.valid, reason: REASON.OK };
}

export type { Hex };
