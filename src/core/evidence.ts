/**
 * Evidence: what a validator observed, signed. Valid and invalid results are both kept; an invalid
 * one carries a reason code. The epoch's evidence root commits to every record used for rewards.
 */
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import { type Hex, zeroHash } from 'viem';

export const EVIDENCE_KIND = { liveness: 1, storageAudit: 2 } as const;
export const OUTCOME = { valid: 1, invalid: 0 } as const;

/** Reason codes of evidence records (stable numbers: they are signed and published). */
export const REASON = {
  OK: 0,
  TIMEOUT: 1,
  UNREACHABLE: 2,
  BAD_SIGNATURE: 3,
  WRONG_RESPONSE: 4,
  HTTP_ERROR: 5,
  NOT_ACTIVE: 6,
  PIECE_MISSING: 7,
  BAD_PROOF: 8,
  PIECE_CORRUPT: 9,
} as const;
export type ReasonName = keyof typeof REASON;

export function reasonName(code: number): ReasonName | 'UNKNOWN' {
  return (Object.entries(REASON).find(([, v]) => v === code)?.[0] as ReasonName | undefined) ?? 'UNKNOWN';
}

/** Merkle root (sorted-pair keccak, OpenZeppelin SimpleMerkleTree) over the EIP-712 hashes of the records. */
export function evidenceRoot(recordHashes: readonly Hex[]): Hex {
  if (recordHashes.length === 0) return zeroHash;
  return SimpleMerkleTree.of([...recordHashes].sort()).root as Hex;
}
