import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repeatEvery } from './loop.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('runs one pass at a time, retries after a failure, and stop waits for the pass under way', async () => {
  let running = 0;
  let most = 0;
  let passes = 0;
  const errors: string[] = [];
  const loop = repeatEvery(
    5,
    async () => {
      running++;
      most = Math.max(most, running);
      passes++;
      await sleep(20); // longer than the period: a second pass must not start meanwhile
      running--;
      if (passes === 1) throw new Error('first pass fails');
    },
    (e) => errors.push(e.message),
  );
  loop.start();
  await sleep(120);
  await loop.stop();
  assert.equal(running, 0, 'stop returned only once the pass under way was done');
  const after = passes;
  await sleep(60);
  assert.equal(most, 1, 'never two passes at once');
  assert.ok(after >= 3, `kept going after the failure (${after} passes)`);
  assert.deepEqual(errors, ['first pass fails']);
  assert.equal(passes, after, 'nothing runs after stop');
});
