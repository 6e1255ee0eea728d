/**
 * Deal binding (docs/storage.md, "Piece lifecycle"): pieces arrive before their deal exists, so a
 * node keeps them only for a pending TTL until someone shows it the deal on chain. The request needs
 * no signature because the node checks it itself: the listed piece ids must rebuild the deal's root.
 */
import type { Hex } from 'viem';
import { z } from 'zod';
import { storageDealsAbi } from '../../chain/abi/index.ts';
import type { ChainClients } from '../../chain/clients.ts';
import type { Deployment } from '../../chain/deployment.ts';
import { decodeChainError } from '../../chain/errors.ts';
import { DepinError } from '../../core/errors.ts';

/** A deal as a node needs it: its root over piece ids, and when its pieces may go (`null`: never). */
export type DealTerms = { root: Hex; endsAt: number | null };

/** The deal on chain, or `undefined` if there is none with this id. */
export type DealReader = (dealId: bigint) => Promise<DealTerms | undefined>;

export type DealBinding = { dealId: bigint; pieceIds: Hex[] };

/**
 * Most piece ids one binding may list (the whole deal: the root must be rebuilt): 262,144, a 1 TiB
 * file in 64 MiB segments at 8-of-16. Bounds the JSON a stranger can make the node parse (~18 MiB).
 */
export const MAX_DEAL_PIECES = 1 << 18;
/** Body limit of `POST /v1/storage/deals`: room for {@link MAX_DEAL_PIECES} quoted ids. */
export const DEAL_BINDING_MAX_BODY = MAX_DEAL_PIECES * 70 + 4096;

const schema = z.object({
  dealId: z.string().regex(/^[1-9]\d{0,77}$/, 'a deal id is a positive decimal string'),
  pieceIds: z.array(z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'piece ids are 0x + 64 hex digits')).min(1),
});

/**
 * Checks the body of `POST /v1/storage/deals`.
 * Errors: BAD_DEAL_BINDING 400, TOO_MANY_PIECES 413.
 *
 * @example const { dealId, pieceIds } = parseDealBinding({ dealId: '7', pieceIds: ['0x…'] });
 */
export function parseDealBinding(input: unknown): DealBinding {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DepinError(
      'BAD_DEAL_BINDING',
      `Send {dealId: "<decimal>", pieceIds: ["0x…", …]}: ${issue?.path.join('.') || 'body'} ${issue?.message}.`,
    );
  }
  if (parsed.data.pieceIds.length > MAX_DEAL_PIECES) {
    throw new DepinError('TOO_MANY_PIECES', `A deal binding lists at most ${MAX_DEAL_PIECES} piece ids.`, {
      status: 413,
    });
  }
  return {
    dealId: BigInt(parsed.data.dealId),
    pieceIds: parsed.data.pieceIds.map((id) => id.toLowerCase() as Hex),
  };
}

/**
 * Unix time at which a deal's last epoch ends: `epochGenesis + endEpoch × epochLength`; `null` for a
 * permanent deal.
 *
 * @example dealEndsAt({ endEpoch: 10n, permanent: false }, { epochGenesis: 1000, epochLength: 6 }); // 1060
 */
export function dealEndsAt(
  deal: { endEpoch: bigint; permanent: boolean },
  settings: { epochGenesis: number; epochLength: number },
): number | null {
  if (deal.permanent) return null;
  return settings.epochGenesis + Number(deal.endEpoch) * settings.epochLength;
}

/**
 * Reads deals from StorageDeals. A chain that cannot be reached is `CHAIN_UNAVAILABLE` 503 (retry),
 * never mistaken for an unknown deal.
 *
 * @example const read = createDealReader({ clients, deployment }); const deal = await read(7n);
 */
export function createDealReader(c: { clients: ChainClients; deployment: Deployment }): DealReader {
  return async (dealId) => {
    try {
      const d = await c.clients.public.readContract({
        address: c.deployment.contracts.StorageDeals,
        abi: storageDealsAbi,
        functionName: 'deal',
        args: [dealId],
      });
      return { root: d.root.toLowerCase() as Hex, endsAt: dealEndsAt(d, c.deployment.settings) };
    } catch (e) {
      const err = decodeChainError(e);
      if (err.code === 'UNKNOWN_DEAL') return undefined;
      throw new DepinError('CHAIN_UNAVAILABLE', 'The node could not read the deal on chain: retry later.', {
        status: 503,
        cause: e,
      });
    }
  };
}
