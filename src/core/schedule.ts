/**
 * The challenge schedule of an epoch, derived by every validator from the epoch's on-chain
 * randomness alone: for each (validator, node, slot) a time offset inside the first 70% of the
 * epoch, so that every party can tell which challenges were due and when.
 */
import { encodePacked, type Hex, hexToBigInt, keccak256 } from 'viem';

export type ScheduledChallenge = { validator: Hex; node: Hex; slot: number; offset: number };

/**
 * @example challengeSchedule({ randomness, validator, nodes, perEpoch: 3, epochLength: 10 })
 */
export function challengeSchedule(input: {
  randomness: Hex;
  validator: Hex;
  nodes: readonly Hex[];
  perEpoch: number;
  /** Seconds. */
  epochLength: number;
}): ScheduledChallenge[] {
  const windowMs = Math.max(1, Math.floor(input.epochLength * 700));
  const out: ScheduledChallenge[] = [];
  for (const node of input.nodes) {
    for (let slot = 0; slot < input.perEpoch; slot++) {
      const h = keccak256(
        encodePacked(
          ['bytes32', 'address', 'address', 'uint32'],
          [input.randomness, input.validator, node, slot],
        ),
      );
      // Slots are spread over the window: slot k falls in the k-th sub-window, at a random point in it.
      const sub = windowMs / input.perEpoch;
      const offset =
        Math.floor(slot * sub + Number(hexToBigInt(h) % BigInt(Math.max(1, Math.floor(sub))))) / 1000;
      out.push({
        validator: input.validator.toLowerCase() as Hex,
        node: node.toLowerCase() as Hex,
        slot,
        offset,
      });
    }
  }
  return out.sort((a, b) => a.offset - b.offset);
}
