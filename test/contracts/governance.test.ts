import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { encodeFunctionData, type Hex, keccak256, toBytes } from 'viem';
import { depinGovernorAbi, paramsAbi, tokenAbi } from '../../src/chain/abi/index.ts';
import { paramKey } from '../../src/chain/deploy.ts';
import { createFixture, type Fixture, rejectsWithCode } from './fixture.ts';

// OpenZeppelin IGovernor.ProposalState
const PENDING = 0;
const ACTIVE = 1;
const DEFEATED = 3;
const SUCCEEDED = 4;
const QUEUED = 5;
const EXECUTED = 7;

const KEY = paramKey('REWARDS_BREAKER_MULTIPLIER');

describe('Governance', () => {
  let f: Fixture;
  let snap: Hex;

  before(async () => {
    f = await createFixture();
    // Holders delegate their voting power (to themselves): undelegated tokens do not vote.
    for (const i of [1, 2]) {
      await f.as(i).write({
        address: f.contracts.Token,
        abi: tokenAbi,
        functionName: 'delegate',
        args: [f.accounts[i]!.address],
      });
    }
    await f.increaseTime(1);
  });
  after(() => f.close());
  beforeEach(async () => {
    snap = await f.snapshot();
  });
  afterEach(async () => {
    await f.revert(snap);
  });

  const g = () => f.contracts.Governor;
  const settings = { votingDelay: 1, votingPeriod: 30, timelockDelay: 5 }; // devnetSettings().governance
  const readParam = () =>
    f.public.readContract({ address: f.contracts.Params, abi: paramsAbi, functionName: 'get', args: [KEY] });

  /** A proposal calling Params.set(KEY, value), with everything needed to queue and execute it. */
  const proposal = (value: bigint, description = `Set REWARDS_BREAKER_MULTIPLIER to ${value}`) => {
    const targets = [f.contracts.Params];
    const values = [0n];
    const calldatas = [encodeFunctionData({ abi: paramsAbi, functionName: 'set', args: [KEY, value] })];
    const descriptionHash = keccak256(toBytes(description));
    const governor = (who: number) => ({
      propose: () =>
        f.as(who).write({
          address: g(),
          abi: depinGovernorAbi,
          functionName: 'propose',
          args: [targets, values, calldatas, description],
        }),
      queue: () =>
        f.as(who).write({
          address: g(),
          abi: depinGovernorAbi,
          functionName: 'queue',
          args: [targets, values, calldatas, descriptionHash],
        }),
      execute: () =>
        f.as(who).write({
          address: g(),
          abi: depinGovernorAbi,
          functionName: 'execute',
          args: [targets, values, calldatas, descriptionHash],
        }),
    });
    const id = () =>
      f.public.readContract({
        address: g(),
        abi: depinGovernorAbi,
        functionName: 'hashProposal',
        args: [targets, values, calldatas, descriptionHash],
      });
    return { governor, id };
  };
  const state = async (id: bigint) =>
    f.public.readContract({ address: g(), abi: depinGovernorAbi, functionName: 'state', args: [id] });
  const vote = (who: number, id: bigint, support: 0 | 1 | 2) =>
    f.as(who).write({ address: g(), abi: depinGovernorAbi, functionName: 'castVote', args: [id, support] });

  test('changes a parameter through proposal, vote, Timelock queue and execution', async () => {
    assert.equal(await readParam(), 2n);
    const p = proposal(3n);
    await p.governor(1).propose();
    const id = await p.id();
    assert.equal(await state(id), PENDING);
    await rejectsWithCode(vote(1, id, 1), 'GOVERNOR_UNEXPECTED_PROPOSAL_STATE');

    await f.increaseTime(settings.votingDelay + 1);
    assert.equal(await state(id), ACTIVE);
    await vote(1, id, 1);
    await vote(2, id, 1);
    const [against, forVotes] = await f.public.readContract({
      address: g(),
      abi: depinGovernorAbi,
      functionName: 'proposalVotes',
      args: [id],
    });
    assert.equal(against, 0n);
    assert.equal(forVotes, 2_000_000n * 10n ** 18n);
    await rejectsWithCode(vote(1, id, 1), 'GOVERNOR_ALREADY_CAST_VOTE');
    await rejectsWithCode(p.governor(1).queue(), 'GOVERNOR_UNEXPECTED_PROPOSAL_STATE');

    await f.increaseTime(settings.votingPeriod + 1);
    assert.equal(await state(id), SUCCEEDED);
    await p.governor(3).queue(); // anyone may queue and execute a passed proposal
    assert.equal(await state(id), QUEUED);
    await rejectsWithCode(p.governor(3).execute(), 'TIMELOCK_UNEXPECTED_OPERATION_STATE');
    assert.equal(await readParam(), 2n);

    await f.increaseTime(settings.timelockDelay + 1);
    await p.governor(3).execute();
    assert.equal(await state(id), EXECUTED);
    assert.equal(await readParam(), 3n);
  });

  test('refuses a direct Params.set by anyone but the Timelock', async () => {
    for (const who of [0, 1]) {
      const e = await rejectsWithCode(
        f
          .as(who)
          .write({ address: f.contracts.Params, abi: paramsAbi, functionName: 'set', args: [KEY, 5n] }),
        'OWNABLE_UNAUTHORIZED_ACCOUNT',
      );
      assert.equal(e.details.account, f.accounts[who]!.address);
    }
    const owner = await f.public.readContract({
      address: f.contracts.Params,
      abi: paramsAbi,
      functionName: 'owner',
    });
    assert.equal(owner.toLowerCase(), f.contracts.Timelock.toLowerCase());
  });

  test('defeats a proposal that does not get more votes for than against', async () => {
    const p = proposal(4n);
    await p.governor(2).propose();
    const id = await p.id();
    await f.increaseTime(settings.votingDelay + 1);
    await vote(1, id, 1);
    await vote(2, id, 0);
    await f.increaseTime(settings.votingPeriod + 1);
    assert.equal(await state(id), DEFEATED);
    await rejectsWithCode(p.governor(1).queue(), 'GOVERNOR_UNEXPECTED_PROPOSAL_STATE');
    assert.equal(await readParam(), 2n);
  });

  test('passes the parameter bounds through to execution, which refuses out-of-range values', async () => {
    const p = proposal(101n); // REWARDS_BREAKER_MULTIPLIER is bounded to [1, 100]
    await p.governor(1).propose();
    const id = await p.id();
    await f.increaseTime(settings.votingDelay + 1);
    await vote(1, id, 1);
    await f.increaseTime(settings.votingPeriod + 1);
    await p.governor(1).queue();
    await f.increaseTime(settings.timelockDelay + 1);
    const e = await rejectsWithCode(p.governor(1).execute(), 'PARAM_OUT_OF_RANGE');
    assert.deepEqual(e.details, { key: KEY, value: '101', min: '1', max: '100' });
  });
});
