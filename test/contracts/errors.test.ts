import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeErrorResult, encodeFunctionData, type Hex, keccak256, toBytes, toHex } from 'viem';
import { registryAbi, rewardsAbi, tokenAbi, validatorsAbi } from '../../src/chain/abi/index.ts';
import { decodeChainError, errorCode } from '../../src/chain/errors.ts';
import { DepinError } from '../../src/core/errors.ts';
import { approveToken, createFixture, E18, type Fixture, rejectsWithCode } from './fixture.ts';

const node = (signer: Hex) => ({
  signer,
  services: 1,
  capacity: 1n,
  h3: 0n,
  region: toHex('eu', { size: 8 }),
  prices: [1n, 1n, 1n] as const,
  endpoint: 'http://127.0.0.1:7001',
});

describe('contract error decoding', () => {
  let f: Fixture;

  before(async () => {
    f = await createFixture();
    await approveToken(f, 1, f.contracts.Registry);
  });
  after(() => f.close());

  test('turns a custom-error revert into a DepinError with its code and named, decoded arguments', async () => {
    const call = f.as(1).write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'register',
      args: [node(f.accounts[1]!.address), 5n],
    });
    const error = await call.catch((e: unknown) => e);
    assert.ok(error instanceof DepinError);
    assert.equal(error.code, 'STAKE_TOO_LOW');
    assert.deepEqual(error.details, { staked: '5', required: (200n * E18).toString() });
    assert.match(error.shortMessage, /^register: .*StakeTooLow/);
    assert.ok(error.cause, 'keeps the viem error as cause');
  });

  test('decodes an error without arguments to empty details', async () => {
    const e = await rejectsWithCode(
      f.as(1).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'register',
        args: [{ ...node(f.accounts[1]!.address), endpoint: '' }, 200n * E18],
      }),
      'EMPTY_ENDPOINT',
    );
    assert.deepEqual(e.details, {});
  });

  test("decodes OpenZeppelin's errors, addresses included", async () => {
    const poor = f.accounts[0]!.address; // the deployer holds no Token
    const e = await rejectsWithCode(
      f.as(0).write({
        address: f.contracts.Token,
        abi: tokenAbi,
        functionName: 'transfer',
        args: [f.accounts[1]!.address, 7n],
      }),
      'ERC20_INSUFFICIENT_BALANCE',
    );
    assert.deepEqual(e.details, { sender: poor, balance: '0', needed: '7' });
  });

  test('decodes an error raised by a contract called by the one the transaction targets', async () => {
    await approveToken(f, 2, f.contracts.Validators);
    await f.as(2).write({
      address: f.contracts.Validators,
      abi: validatorsAbi,
      functionName: 'join',
      args: [1000n * E18, 'http://127.0.0.1:9000'],
    });
    await f.increaseTime(20);
    // Rewards.postRoot → Validators.verifyEpochRoot: the inner error comes back, not a generic one.
    const e = await rejectsWithCode(
      f.as(3).write({
        address: f.contracts.Rewards,
        abi: rewardsAbi,
        functionName: 'postRoot',
        args: [0n, keccak256(toBytes('r')), keccak256(toBytes('e')), 1n, `0x${'11'.repeat(65)}`],
      }),
      'INVALID_SIGNATURE',
    );
    assert.deepEqual(e.details, { index: '0' });
  });

  test('decodes raw revert data, and leaves unknown selectors as CHAIN_ERROR', () => {
    const data = encodeErrorResult({ abi: rewardsAbi, errorName: 'CircuitBreaker', args: [3n, 2n] });
    const e = decodeChainError(Object.assign(new Error('reverted'), { data }), 'postRoot');
    assert.equal(e.code, 'CIRCUIT_BREAKER');
    assert.deepEqual(e.details, { total: '3', limit: '2' });
    const unknown = decodeChainError(Object.assign(new Error('reverted'), { data: '0xdeadbeef' }));
    assert.equal(unknown.code, 'CHAIN_ERROR');
  });

  test('names codes in upper snake case, acronyms kept together', () => {
    assert.equal(errorCode('StakeTooLow'), 'STAKE_TOO_LOW');
    assert.equal(errorCode('ERC20InsufficientBalance'), 'ERC20_INSUFFICIENT_BALANCE');
    assert.equal(errorCode('AccessControlUnauthorizedAccount'), 'ACCESS_CONTROL_UNAUTHORIZED_ACCOUNT');
  });

  test('decodes the revert of a transaction that was mined and failed', async () => {
    // An explicit gas limit skips estimation: the transaction is mined and reverts.
    await rejectsWithCode(
      f.as(4).send({
        to: f.contracts.Registry,
        data: encodeFunctionData({
          abi: registryAbi,
          functionName: 'register',
          args: [node(f.accounts[4]!.address), 1n],
        }),
        gas: 500_000n,
        label: 'register',
      }),
      'STAKE_TOO_LOW',
    );
  });
});
