/**
 * The token emission schedule, mirrored exactly by `Rewards.emissionForEpoch` and
 * `Rewards.cumulativeEmission` (contracts/Rewards.sol): epoch e emits
 * `initialEmission >> (e / halvingEpochs)`, which is 0 once the shift reaches 256 (uint256).
 * The one difference: where a sum would overflow uint256 the contract reverts, and this returns it.
 */
import { DepinError } from '../core/errors.ts';

/** Emission parameters, in token base units and epochs (the Rewards contract's immutables). */
export type EmissionSchedule = { initialEmission: bigint; halvingEpochs: bigint };

/** Error codes of the emission schedule. */
export type EmissionErrorCode = 'EMISSION_BAD_INPUT';

/**
 * Tokens emitted in `epoch`: `initialEmission >> (epoch / halvingEpochs)`, 0 after 256 halvings.
 *
 * @example
 * emissionForEpoch(5n, { initialEmission: 1000n, halvingEpochs: 4n }); // 500n
 */
export function emissionForEpoch(epoch: bigint, schedule: EmissionSchedule): bigint {
  check(epoch, schedule);
  const halvings = epoch / schedule.halvingEpochs;
  return halvings >= 256n ? 0n : schedule.initialEmission >> halvings;
}

/**
 * Tokens emitted in epochs 0..`throughEpoch` inclusive, in O(halvings) steps like the contract:
 * whole spans of `halvingEpochs` epochs at one rate, the rate halving after each span.
 *
 * @example
 * cumulativeEmission(5n, { initialEmission: 1000n, halvingEpochs: 4n }); // 4·1000 + 2·500 = 5000n
 */
export function cumulativeEmission(throughEpoch: bigint, schedule: EmissionSchedule): bigint {
  check(throughEpoch, schedule);
  let remaining = throughEpoch + 1n;
  let rate = schedule.initialEmission;
  let sum = 0n;
  while (remaining > 0n && rate > 0n) {
    const span = remaining < schedule.halvingEpochs ? remaining : schedule.halvingEpochs;
    sum += span * rate;
    remaining -= span;
    rate >>= 1n;
  }
  return sum;
}

function check(epoch: bigint, schedule: EmissionSchedule): void {
  const { initialEmission, halvingEpochs } = schedule;
  if (typeof epoch !== 'bigint' || epoch < 0n) {
    throw new DepinError<EmissionErrorCode>(
      'EMISSION_BAD_INPUT',
      'Pass the epoch as a non-negative bigint.',
      {
        details: { epoch: String(epoch) },
      },
    );
  }
  if (typeof initialEmission !== 'bigint' || initialEmission < 0n) {
    throw new DepinError<EmissionErrorCode>(
      'EMISSION_BAD_INPUT',
      'The initial emission must be a non-negative bigint in base units.',
      { details: { initialEmission: String(initialEmission) } },
    );
  }
  if (typeof halvingEpochs !== 'bigint' || halvingEpochs <= 0n) {
    throw new DepinError<EmissionErrorCode>(
      'EMISSION_BAD_INPUT',
      'The halving period must be a positive bigint number of epochs (the contract divides by it).',
      { details: { halvingEpochs: String(halvingEpochs) } },
    );
  }
}
