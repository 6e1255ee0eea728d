import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { epochsAbi } from '../../src/chain/abi/index.ts';
import { createFixture, decoded, type Fixture, rejectsWithCode } from './fixture.ts';

describe('Epochs', () => {
  let f: Fixture;
  let length: bigint;
  let genesis: bigint;

  before(async () => {
    f = await createFixture();
    length = BigInt(f.deployment.settings.epochLength);
    genesis = BigInt(f.deployment.settings.epochGenesis);
  });
  after(() => f.close());

  const read = <N extends 'current' | 'isOpen' | 'randomness' | 'startOf'>(
    functionName: N,
    args: bigint[] = [],
  ) =>
    f.public.readContract({ address: f.contracts.Epochs, abi: epochsAbi, functionName, args: args as never });
  const open = (epoch: bigint, who = 1) =>
    f.as(who).write({ address: f.contracts.Epochs, abi: epochsAbi, functionName: 'open', args: [epoch] });

  test('derives the current epoch from block time and the epoch length', async () => {
    for (const step of [0, 3, 10, 25]) {
      if (step) await f.increaseTime(step);
      const now = await f.now();
      assert.equal(await read('current'), (now - genesis) / length);
    }
    assert.equal(await read('startOf', [7n]), genesis + 7n * length);
  });

  test('opens the current epoch once, fixing its randomness', async () => {
    const epoch = (await read('current')) as bigint;
    assert.equal(await read('isOpen', [epoch]), false);
    await rejectsWithCode(decoded(read('randomness', [epoch])), 'RANDOMNESS_NOT_SET');
    await open(epoch);
    assert.equal(await read('isOpen', [epoch]), true);
    const seed = await read('randomness', [epoch]);
    assert.match(seed as string, /^0x[0-9a-f]{64}$/);
    assert.notEqual(seed, `0x${'00'.repeat(32)}`);
    const e = await rejectsWithCode(open(epoch, 2), 'RANDOMNESS_ALREADY_SET');
    assert.equal(e.details.epoch, epoch.toString());
    assert.equal(await read('randomness', [epoch]), seed, 'a second opener cannot change the seed');
  });

  test('refuses to open an epoch that has not started with EpochNotStarted', async () => {
    const current = (await read('current')) as bigint;
    const e = await rejectsWithCode(open(current + 1n), 'EPOCH_NOT_STARTED');
    assert.deepEqual(e.details, { epoch: (current + 1n).toString(), current: current.toString() });
  });

  test('chains each seed to the previous epoch, so consecutive epochs differ', async () => {
    const first = (await read('current')) as bigint;
    if (!(await read('isOpen', [first]))) await open(first);
    await f.increaseTime(length);
    await open(first + 1n);
    assert.notEqual(await read('randomness', [first]), await read('randomness', [first + 1n]));
  });
});
