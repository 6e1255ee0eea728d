import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { type Hex, keccak256, toBytes, toHex } from 'viem';
import { registryAbi, tokenAbi } from '../../src/chain/abi/index.ts';
import { approveToken, createFixture, E18, type Fixture, rejectsWithCode, tokenBalance } from './fixture.ts';

const STORAGE = 1;
const COMPUTE = 2;
// devnetSettings: base 100 + storage 100 (+ compute 100) DPN.
const STORAGE_MIN = 200n * E18;

function nodeParams(signer: Hex, services = STORAGE, endpoint = 'http://127.0.0.1:7001') {
  return {
    signer,
    services,
    capacity: 1n << 40n,
    h3: 0x8a2a1072b59ffffn,
    region: toHex('eu-west', { size: 8 }),
    prices: [10n, 5n, 1n] as const,
    endpoint,
  } as const;
}

describe('Registry', () => {
  let f: Fixture;
  let snap: Hex;
  const reason = keccak256(toBytes('MISSED_AUDITS'));

  before(async () => {
    f = await createFixture();
    for (const i of [1, 2, 3]) await approveToken(f, i, f.contracts.Registry);
    // Governance gives account 9 the module roles (the deployer holds no admin after deployment).
    const [slasher, suspender] = await Promise.all([
      f.public.readContract({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'SLASHER_ROLE',
      }),
      f.public.readContract({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'SUSPENDER_ROLE',
      }),
    ]);
    await f.govern(
      [slasher, suspender].map((role) => ({
        target: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'grantRole',
        args: [role, f.accounts[9]!.address],
      })),
    );
  });
  after(() => f.close());
  beforeEach(async () => {
    snap = await f.snapshot();
  });
  afterEach(async () => {
    await f.revert(snap);
  });

  const register = (who: number, amount: bigint, services = STORAGE) =>
    f.as(who).write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'register',
      args: [nodeParams(f.accounts[who]!.address, services), amount],
    });
  const getNode = (who: number) =>
    f.public.readContract({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'getNode',
      args: [f.accounts[who]!.address],
    });
  const registry = (who: number) => ({
    write: <N extends 'stake' | 'unstake' | 'exit' | 'withdraw'>(functionName: N, args: unknown[] = []) =>
      f.as(who).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName,
        args: args as never,
      }),
  });

  test('registers a node that stakes the minimum and takes the tokens into the Registry', async () => {
    const before = await tokenBalance(f, f.accounts[1]!.address);
    await register(1, STORAGE_MIN);
    const n = await getNode(1);
    assert.equal(n.status, 1);
    assert.equal(n.stake, STORAGE_MIN);
    assert.equal(n.services, STORAGE);
    assert.equal(n.endpoint, 'http://127.0.0.1:7001');
    assert.equal(await tokenBalance(f, f.accounts[1]!.address), before - STORAGE_MIN);
    assert.equal(await tokenBalance(f, f.contracts.Registry), STORAGE_MIN);
  });

  test('refuses a stake below the services minimum with StakeTooLow', async () => {
    const e = await rejectsWithCode(register(1, STORAGE_MIN - 1n), 'STAKE_TOO_LOW');
    assert.deepEqual(e.details, { staked: (STORAGE_MIN - 1n).toString(), required: STORAGE_MIN.toString() });
    // Storage + compute needs 300 DPN.
    await rejectsWithCode(register(1, STORAGE_MIN, STORAGE | COMPUTE), 'STAKE_TOO_LOW');
  });

  test('refuses a second registration of the same operator with AlreadyRegistered', async () => {
    await register(1, STORAGE_MIN);
    const e = await rejectsWithCode(register(1, STORAGE_MIN), 'ALREADY_REGISTERED');
    assert.equal(String(e.details.node).toLowerCase(), f.accounts[1]!.address.toLowerCase());
  });

  test('refuses registering without approving the stake first', async () => {
    await rejectsWithCode(register(4, STORAGE_MIN), 'ERC20_INSUFFICIENT_ALLOWANCE');
  });

  test('updates the description, but not to services the stake does not cover', async () => {
    await register(1, STORAGE_MIN);
    await f.as(1).write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'update',
      args: [nodeParams(f.accounts[5]!.address, STORAGE, 'https://node.example:443')],
    });
    const n = await getNode(1);
    assert.equal(n.endpoint, 'https://node.example:443');
    assert.equal(n.signer, f.accounts[5]!.address);
    await rejectsWithCode(
      f.as(1).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'update',
        args: [nodeParams(f.accounts[1]!.address, STORAGE | COMPUTE)],
      }),
      'STAKE_TOO_LOW',
    );
    await rejectsWithCode(
      f.as(2).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'update',
        args: [nodeParams(f.accounts[2]!.address)],
      }),
      'NOT_REGISTERED',
    );
  });

  test('stakes more, and then covers more services', async () => {
    await register(1, STORAGE_MIN);
    await registry(1).write('stake', [100n * E18]);
    assert.equal((await getNode(1)).stake, STORAGE_MIN + 100n * E18);
    await f.as(1).write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'update',
      args: [nodeParams(f.accounts[1]!.address, STORAGE | COMPUTE)],
    });
    assert.equal((await getNode(1)).services, STORAGE | COMPUTE);
    await rejectsWithCode(registry(1).write('stake', [0n]), 'ZERO_AMOUNT');
  });

  test('unstakes only down to the minimum, into unbonding', async () => {
    await register(1, STORAGE_MIN + 50n * E18);
    await rejectsWithCode(registry(1).write('unstake', [51n * E18]), 'STAKE_TOO_LOW');
    await registry(1).write('unstake', [50n * E18]);
    const n = await getNode(1);
    assert.equal(n.stake, STORAGE_MIN);
    assert.equal(n.unbonding, 50n * E18);
    assert.equal(n.status, 1);
  });

  test('exits into unbonding, refuses withdrawal until the period has passed, then pays back', async () => {
    await register(1, STORAGE_MIN);
    const balance = await tokenBalance(f, f.accounts[1]!.address);
    await registry(1).write('exit');
    const n = await getNode(1);
    assert.equal(n.status, 3);
    assert.equal(n.stake, 0n);
    assert.equal(n.unbonding, STORAGE_MIN);
    const e = await rejectsWithCode(registry(1).write('withdraw'), 'STILL_UNBONDING');
    assert.equal(e.details.until, n.unbondingUntil.toString());
    await rejectsWithCode(registry(1).write('exit'), 'NODE_EXITING');
    await rejectsWithCode(registry(1).write('stake', [1n]), 'NODE_EXITING');
    await f.increaseTime(61); // UNBONDING_PERIOD is 60 s on the devnet
    await registry(1).write('withdraw');
    assert.equal(await tokenBalance(f, f.accounts[1]!.address), balance + STORAGE_MIN);
    await rejectsWithCode(registry(1).write('withdraw'), 'NOTHING_TO_WITHDRAW');
  });

  test('lets only SLASHER_ROLE slash and only SUSPENDER_ROLE suspend', async () => {
    await register(1, STORAGE_MIN);
    const slashAs = (who: number, amount: bigint, why: Hex = reason) =>
      f.as(who).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'slash',
        args: [f.accounts[1]!.address, amount, why],
      });
    const suspendAs = (who: number, why: Hex = reason) =>
      f.as(who).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'suspend',
        args: [f.accounts[1]!.address, why],
      });
    for (const who of [0, 1, 2]) {
      const e = await rejectsWithCode(slashAs(who, E18), 'ACCESS_CONTROL_UNAUTHORIZED_ACCOUNT');
      assert.equal(String(e.details.account).toLowerCase(), f.accounts[who]!.address.toLowerCase());
      await rejectsWithCode(suspendAs(who), 'ACCESS_CONTROL_UNAUTHORIZED_ACCOUNT');
    }
    assert.equal((await getNode(1)).stake, STORAGE_MIN);

    const supply = await f.public.readContract({
      address: f.contracts.Token,
      abi: tokenAbi,
      functionName: 'totalSupply',
    });
    await slashAs(9, 30n * E18);
    assert.equal((await getNode(1)).stake, STORAGE_MIN - 30n * E18);
    assert.equal(await tokenBalance(f, f.contracts.Registry), STORAGE_MIN - 30n * E18);
    const supplyAfter = await f.public.readContract({
      address: f.contracts.Token,
      abi: tokenAbi,
      functionName: 'totalSupply',
    });
    assert.equal(supplyAfter, supply - 30n * E18, 'the slash is burned');

    await suspendAs(9);
    assert.equal((await getNode(1)).status, 2);
  });

  test('slashes unbonding stake too, never more than the node holds', async () => {
    await register(1, STORAGE_MIN);
    await registry(1).write('exit');
    await f.as(9).write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'slash',
      args: [f.accounts[1]!.address, 10_000n * E18, reason],
    });
    const n = await getNode(1);
    assert.equal(n.stake, 0n);
    assert.equal(n.unbonding, 0n);
    assert.equal(await tokenBalance(f, f.contracts.Registry), 0n);
  });

  test('refuses a slash or suspension without a reason code with MissingReason', async () => {
    await register(1, STORAGE_MIN);
    const zero = `0x${'00'.repeat(32)}` as Hex;
    await rejectsWithCode(
      f.as(9).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'slash',
        args: [f.accounts[1]!.address, E18, zero],
      }),
      'MISSING_REASON',
    );
    await rejectsWithCode(
      f.as(9).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'suspend',
        args: [f.accounts[1]!.address, zero],
      }),
      'MISSING_REASON',
    );
  });

  test('reinstates a suspended node, and only a suspended one', async () => {
    await register(1, STORAGE_MIN);
    const reinstate = () =>
      f.as(9).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'reinstate',
        args: [f.accounts[1]!.address],
      });
    await rejectsWithCode(reinstate(), 'NOT_SUSPENDED');
    await f.as(9).write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'suspend',
      args: [f.accounts[1]!.address, reason],
    });
    assert.equal(
      await f.public.readContract({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'isActive',
        args: [f.accounts[1]!.address],
      }),
      false,
    );
    await reinstate();
    assert.equal((await getNode(1)).status, 1);
  });

  test('lists registered nodes in registration order', async () => {
    await register(2, STORAGE_MIN);
    await register(1, STORAGE_MIN);
    const [ids, nodes] = await f.public.readContract({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'listNodes',
      args: [0n, 10n],
    });
    assert.deepEqual(ids, [f.accounts[2]!.address, f.accounts[1]!.address]);
    assert.equal(nodes.length, 2);
  });
});
