import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  INITIAL_REPUTATION,
  DEFAULT_REPUTATION as P,
  type Reputation,
  SCALE,
  score,
  shouldSuspend,
  updateReputation,
} from './reputation.ts';

const run = (outcomes: boolean[], r: Reputation = INITIAL_REPUTATION) =>
  outcomes.reduce((acc, ok) => updateReputation(acc, ok, P), r);

test('a node that keeps failing audits is suspended within a few audits', () => {
  let r = INITIAL_REPUTATION;
  let audits = 0;
  while (!shouldSuspend(r, false, P)) {
    r = updateReputation(r, false, P);
    audits++;
  }
  assert.ok(audits <= 3, `suspended after ${audits} failures`);
});

test('a node that was briefly failing recovers by passing audits again', () => {
  assert.ok(!shouldSuspend(run([true, false, false]), false, P), 'two misses do not suspend');
  const afterIncident = run([true, true, true, false, false, false, false]);
  assert.ok(shouldSuspend(afterIncident, false, P));
  let r = afterIncident;
  let passes = 0;
  while (shouldSuspend(r, true, P)) {
    r = updateReputation(r, true, P);
    passes++;
  }
  assert.ok(passes > 0 && passes <= 20, `reinstated after ${passes} passes`);
});

test('the score stays between 0 and 1 and only moves the way the outcome says', () => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { maxLength: 200 }), fc.boolean(), (history, next) => {
      const r = run(history);
      const s = score(r);
      const s2 = score(updateReputation(r, next, P));
      return s >= 0n && s <= SCALE && (next ? s2 >= s : s2 <= s);
    }),
  );
});

test('hysteresis: a suspended node needs a better score to come back than to stay active', () => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { maxLength: 60 }), (history) => {
      const r = run(history);
      return !shouldSuspend(r, true, P) ? !shouldSuspend(r, false, P) : true;
    }),
  );
});
