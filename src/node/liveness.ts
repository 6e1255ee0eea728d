/**
 * Liveness: answers validators' signed challenges with a signed response. Checks run in the fixed
 * order key → network → signature → expiry → replay → registration (an active validator), and the
 * challenge must be addressed to this node.
 */
import { DepinError } from '../core/errors.ts';
import { signMessage, verifyEnvelope } from '../core/messages.ts';
import type { NodeServiceFactory } from './service.ts';

export type LivenessInit = { now?: () => number };

export function liveness(init: LivenessInit = {}): NodeServiceFactory {
  return (c) => {
    const answered = c.metrics.counter(
      'depin_node_challenges_answered_total',
      'Liveness challenges answered',
    );
    const me = c.account.address.toLowerCase();
    return {
      name: 'liveness',
      serviceBit: 0,
      routes: [
        {
          method: 'POST',
          path: '/v1/challenge',
          handler: async ({ body }) => {
            const { message, hash } = await verifyEnvelope(body, {
              type: 'Challenge',
              domain: c.domain,
              signerField: 'validator',
              nonces: c.nonces,
              ...(init.now ? { now: init.now() } : {}),
              resolveKey: async (v) => ((await c.isActiveValidator(v)) ? v : undefined),
            });
            if (message.node.toLowerCase() !== me) {
              throw new DepinError(
                'WRONG_NODE',
                `This challenge is for ${message.node}, not this node (${me}).`,
              );
            }
            answered.inc();
            return {
              body: await signMessage(c.signer, c.domain, 'ChallengeResponse', {
                challenge: hash,
                node: c.account.address,
                answeredAt: BigInt(Math.floor(Date.now() / 1000)),
              }),
            };
          },
        },
      ],
    };
  };
}
