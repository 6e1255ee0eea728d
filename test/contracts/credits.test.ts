import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { encodeFunctionData, type Hex } from 'viem';
import { creditsAbi, devPriceFeedAbi, tokenAbi } from '../../src/chain/abi/index.ts';
import { approveToken, createFixture, E18, type Fixture, rejectsWithCode, tokenBalance } from './fixture.ts';

// devnet feed: $1.00 ± $0.01 (8 decimals); 1 credit = $0.00001.
const PRICE = 1_00000000n;
const CONFIDENCE = 1_000000n;
const SCALE = 10n ** 21n;
const DAILY_CAP = 1_000_000n * E18;

describe('Credits', () => {
  let f: Fixture;
  let snap: Hex;
  let marketRole: Hex;

  before(async () => {
    f = await createFixture();
    for (const i of [1, 2, 3]) await approveToken(f, i, f.contracts.Credits);
    marketRole = await f.public.readContract({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'MARKET_ROLE',
    });
    await f.govern([
      {
        target: f.contracts.Credits,
        abi: creditsAbi,
        functionName: 'grantRole',
        args: [marketRole, f.accounts[9]!.address],
      },
    ]);
    await setPrice(PRICE, CONFIDENCE); // fresh after the governance delays
  });
  after(() => f.close());
  beforeEach(async () => {
    snap = await f.snapshot();
  });
  afterEach(async () => {
    await f.revert(snap);
  });

  const address = (i: number) => f.accounts[i]!.address;
  const setPrice = (price: bigint, confidence: bigint) =>
    f.as(0).write({
      address: f.contracts.DevPriceFeed,
      abi: devPriceFeedAbi,
      functionName: 'set',
      args: [price, confidence],
    });
  const mint = (who: number, tokens: bigint, minCredits = 0n, to = address(who)) =>
    f.as(who).write({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'mint',
      args: [to, tokens, minCredits],
    });
  const redeem = (who: number, credits: bigint, minTokens = 0n) =>
    f.as(who).write({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'redeem',
      args: [credits, address(who), minTokens],
    });
  const credits = (account: Hex) =>
    f.public.readContract({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'balanceOf',
      args: [account],
    });
  const tokenSupply = () =>
    f.public.readContract({ address: f.contracts.Token, abi: tokenAbi, functionName: 'totalSupply' });

  test('mints credits by burning Token at price minus confidence', async () => {
    const [balance, supply] = [await tokenBalance(f, address(1)), await tokenSupply()];
    const quote = await f.public.readContract({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'quoteMint',
      args: [E18],
    });
    assert.equal(quote, 99_000n, '1 DPN at $0.99 buys 99,000 credits of $0.00001');
    await mint(1, E18, quote);
    assert.equal(await credits(address(1)), 99_000n);
    assert.equal(await tokenBalance(f, address(1)), balance - E18);
    assert.equal(await tokenSupply(), supply - E18, 'the Token is burned, not held');
    // A higher price buys more; rounding is down, in the network's favour.
    await setPrice(2_50000000n, 5_000000n);
    await mint(1, 12_345n * 10n ** 14n);
    const expected = (12_345n * 10n ** 14n * (2_50000000n - 5_000000n)) / SCALE;
    assert.equal(await credits(address(1)), 99_000n + expected);
  });

  test('mints to another account and refuses a zero or worthless amount', async () => {
    await mint(1, E18, 0n, address(4));
    assert.equal(await credits(address(4)), 99_000n);
    await rejectsWithCode(mint(1, 0n), 'ZERO_AMOUNT');
    await rejectsWithCode(mint(1, 1n), 'SLIPPAGE');
  });

  test('refuses a price older than CREDITS_MAX_PRICE_AGE, or from the future, with StalePrice', async () => {
    const now = await f.now();
    const setAt = (at: bigint) =>
      f.as(0).write({
        address: f.contracts.DevPriceFeed,
        abi: devPriceFeedAbi,
        functionName: 'setAt',
        args: [PRICE, CONFIDENCE, at],
      });
    await setAt(now - 700n);
    const e = await rejectsWithCode(mint(1, E18), 'STALE_PRICE');
    assert.deepEqual(e.details, { updatedAt: (now - 700n).toString(), maxAge: '600' });
    await rejectsWithCode(redeem(1, 1n), 'INSUFFICIENT_CREDITS');
    await setAt(now + 3600n);
    await rejectsWithCode(mint(1, E18), 'STALE_PRICE');
    await setAt(now);
    await mint(1, E18);
  });

  test('refuses a price whose confidence swallows it with PriceUnusable', async () => {
    await setPrice(1_000000n, 1_000000n);
    await rejectsWithCode(mint(1, E18), 'PRICE_UNUSABLE');
  });

  test('refuses fewer credits than the caller asked for with Slippage', async () => {
    const e = await rejectsWithCode(mint(1, E18, 99_001n), 'SLIPPAGE');
    assert.deepEqual(e.details, { got: '99000', minimum: '99001' });
  });

  test('redeems credits for newly minted Token at price plus confidence', async () => {
    await mint(1, E18);
    const [balance, supply] = [await tokenBalance(f, address(1)), await tokenSupply()];
    const expected = (99_000n * SCALE) / (PRICE + CONFIDENCE);
    const e = await rejectsWithCode(redeem(1, 99_000n, expected + 1n), 'SLIPPAGE');
    assert.equal(e.details.got, expected.toString());
    await redeem(1, 99_000n, expected);
    assert.equal(await credits(address(1)), 0n);
    assert.equal(await tokenBalance(f, address(1)), balance + expected);
    assert.equal(await tokenSupply(), supply + expected);
    assert.ok(expected < E18, 'a round trip loses the confidence spread');
    const short = await rejectsWithCode(redeem(1, 1n), 'INSUFFICIENT_CREDITS');
    assert.deepEqual(short.details, { account: address(1), balance: '0', needed: '1' });
  });

  test('caps the Token minted by redemption per day with RedeemCircuitBreaker', async () => {
    // Start just after midnight UTC, so that the whole test runs within one day.
    await f.increaseTime(86_400n - ((await f.now()) % 86_400n) + 10n);
    await setPrice(PRICE, CONFIDENCE);
    // Two holders buy credits for account 3 worth more than the daily cap.
    await mint(1, 900_000n * E18, 0n, address(3));
    await mint(2, 900_000n * E18, 0n, address(3));
    const held = await credits(address(3));
    const all = (held * SCALE) / (PRICE + CONFIDENCE);
    assert.ok(all > DAILY_CAP);
    const e = await rejectsWithCode(redeem(3, held), 'REDEEM_CIRCUIT_BREAKER');
    assert.deepEqual(e.details, { requested: all.toString(), remainingToday: DAILY_CAP.toString() });
    const half = held / 2n;
    await redeem(3, half);
    const used = (half * SCALE) / (PRICE + CONFIDENCE);
    const again = await rejectsWithCode(redeem(3, held - half), 'REDEEM_CIRCUIT_BREAKER');
    assert.equal(again.details.remainingToday, (DAILY_CAP - used).toString());
    // A new day opens a new budget.
    await f.increaseTime(86_400);
    await setPrice(PRICE, CONFIDENCE);
    await redeem(3, held - half);
    assert.equal(await credits(address(3)), 0n);
  });

  test('cannot be transferred by holders', async () => {
    await mint(1, E18);
    await rejectsWithCode(
      f.as(1).send({
        to: f.contracts.Credits,
        data: encodeFunctionData({ abi: creditsAbi, functionName: 'transfer', args: [address(2), 1n] }),
        label: 'transfer',
      }),
      'NON_TRANSFERABLE',
    );
    assert.equal(await credits(address(1)), 99_000n);
  });

  test('moves credits only for MARKET_ROLE holders', async () => {
    await mint(1, E18);
    const move = (who: number, amount: bigint) =>
      f.as(who).write({
        address: f.contracts.Credits,
        abi: creditsAbi,
        functionName: 'move',
        args: [address(1), address(2), amount],
      });
    for (const who of [0, 1, 2]) {
      const e = await rejectsWithCode(move(who, 1_000n), 'ACCESS_CONTROL_UNAUTHORIZED_ACCOUNT');
      assert.equal(e.details.neededRole, marketRole);
    }
    await move(9, 1_000n);
    assert.equal(await credits(address(1)), 98_000n);
    assert.equal(await credits(address(2)), 1_000n);
    await rejectsWithCode(move(9, 98_001n), 'INSUFFICIENT_CREDITS');
  });
});
