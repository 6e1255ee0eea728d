import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isDepinError } from '../core/errors.ts';
import { cumulativeEmission, type EmissionSchedule, emissionForEpoch } from './emissions.ts';

const schedule: EmissionSchedule = { initialEmission: 1000n, halvingEpochs: 4n };

test('halves the emission every halvingEpochs epochs', () => {
  assert.deepEqual(
    [0n, 3n, 4n, 7n, 8n, 12n].map((e) => emissionForEpoch(e, schedule)),
    [1000n, 1000n, 500n, 500n, 250n, 125n],
  );
});

test('emits nothing once the shift reaches 256, like uint256 in the contract', () => {
  const big: EmissionSchedule = { initialEmission: (1n << 256n) - 1n, halvingEpochs: 1n };
  assert.equal(emissionForEpoch(255n, big), 1n);
  assert.equal(emissionForEpoch(256n, big), 0n);
  assert.equal(emissionForEpoch(10n ** 30n, big), 0n);
});

test('sums whole halving spans and the partial last one', () => {
  assert.equal(cumulativeEmission(0n, schedule), 1000n);
  assert.equal(cumulativeEmission(5n, schedule), 4n * 1000n + 2n * 500n);
  // 1000 → 1 over 10 halvings, then 0 forever: the total stops growing.
  const total = 4n * (1000n + 500n + 250n + 125n + 62n + 31n + 15n + 7n + 3n + 1n);
  assert.equal(cumulativeEmission(10n ** 40n, schedule), total);
});

test('equals the epoch-by-epoch sum for any schedule', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 24n }),
      fc.bigInt({ min: 1n, max: 20n }),
      fc.bigInt({ min: 0n, max: 300n }),
      (initialEmission, halvingEpochs, through) => {
        const s = { initialEmission, halvingEpochs };
        let sum = 0n;
        for (let e = 0n; e <= through; e++) sum += emissionForEpoch(e, s);
        assert.equal(cumulativeEmission(through, s), sum);
      },
    ),
    { numRuns: 200 },
  );
});

test('rejects a negative epoch, a negative emission and a non-positive halving period', () => {
  for (const call of [
    () => emissionForEpoch(-1n, schedule),
    () => cumulativeEmission(-1n, schedule),
    () => emissionForEpoch(1n, { initialEmission: -1n, halvingEpochs: 4n }),
    () => emissionForEpoch(1n, { initialEmission: 1n, halvingEpochs: 0n }),
    () => cumulativeEmission(1n, { initialEmission: 1n, halvingEpochs: -4n }),
  ]) {
    assert.throws(call, (e) => isDepinError(e, 'EMISSION_BAD_INPUT'));
  }
});
