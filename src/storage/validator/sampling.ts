/**
 * Which pieces a validator audits in an epoch: a size-weighted sample without replacement
 * (Efraimidis–Spirakis: key = u^(1/w), the largest keys win), with u drawn from the epoch's
 * randomness, the validator and the piece, so anyone can recompute every validator's choices.
 * Large pieces are audited more often, as Storj weights audits by segment size.
 */
import { encodePacked, type Hex, hexToBigInt, keccak256 } from 'viem';

export type AuditCandidate = { pieceId: Hex; size: number; node: Hex };
export type AuditPick = AuditCandidate & { chunk: number };

export const CHUNK_SIZE = 1024;

/**
 * @example sampleAudits({ randomness, validator, pieces, count: 4 })
 */
export function sampleAudits(input: {
  randomness: Hex;
  validator: Hex;
  pieces: readonly AuditCandidate[];
  count: number;
}): AuditPick[] {
  const keyed = input.pieces
    .filter((p) => p.size > 0)
    .map((p) => {
      const h = hexToBigInt(
        keccak256(
          encodePacked(['bytes32', 'address', 'bytes32'], [input.randomness, input.validator, p.pieceId]),
        ),
      );
      // u in (0, 1]; log-key ln(u)/w preserves the order of u^(1/w) without huge powers.
      const u = (Number(h >> 203n) + 1) / 2 ** 53;
      return { p, key: Math.log(u) / p.size, h };
    })
    .sort((a, b) => b.key - a.key || (a.p.pieceId < b.p.pieceId ? -1 : 1));
  return keyed.slice(0, input.count).map(({ p, h }) => {
    const chunks = Math.max(1, Math.ceil(p.size / CHUNK_SIZE));
    return { ...p, chunk: Number(h % BigInt(chunks)) };
  });
}
