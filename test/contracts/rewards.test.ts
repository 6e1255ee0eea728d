import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { concatHex, type Hex, hashTypedData, keccak256, toBytes } from 'viem';
import { rewardsAbi, tokenAbi, validatorsAbi } from '../../src/chain/abi/index.ts';
import {
  approveToken,
  createFixture,
  E18,
  EPOCH_ROOT_TYPES,
  type EpochRoot,
  type Fixture,
  packSignatures,
  rejectsWithCode,
  signEpochRoot,
  tokenBalance,
} from './fixture.ts';

const VALIDATOR_STAKE = 1000n * E18; // MIN_STAKE_VALIDATOR on the devnet
const EMISSION = 1000n * E18; // devnet emission per epoch before the first halving
const VALIDATORS = [1, 2, 3];
const EVIDENCE = keccak256(toBytes('evidence'));

type Entry = [Hex, bigint];

describe('Validators and Rewards', () => {
  let f: Fixture;
  let snap: Hex;

  before(async () => {
    f = await createFixture();
    for (const i of VALIDATORS) {
      await approveToken(f, i, f.contracts.Validators);
      await f.as(i).write({
        address: f.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'join',
        args: [VALIDATOR_STAKE, `http://127.0.0.1:90${i}0`],
      });
    }
    // Close the first ten epochs, whatever the time deployment took.
    await f.increaseTime(10 * f.deployment.settings.epochLength);
  });
  after(() => f.close());
  beforeEach(async () => {
    snap = await f.snapshot();
  });
  afterEach(async () => {
    await f.revert(snap);
  });

  const key = (i: number) => f.accounts[i]!.privateKey;
  const address = (i: number) => f.accounts[i]!.address;
  const sign = (who: number[], root: EpochRoot) =>
    Promise.all(who.map((i) => signEpochRoot(key(i), f.devnet.chainId, f.contracts.Validators, root)));
  const postRoot = (root: EpochRoot, signatures: Hex, who = 5) =>
    f.as(who).write({
      address: f.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'postRoot',
      args: [root.epoch, root.rewardsRoot, root.evidenceRoot, root.total, signatures],
    });
  /** Posts the tree of `entries` for `epoch`, signed by validators 1 and 2 (two thirds). */
  const postTree = async (epoch: bigint, entries: Entry[]) => {
    const tree = StandardMerkleTree.of(entries, ['address', 'uint256']);
    const total = entries.reduce((s, [, a]) => s + a, 0n) - (await allocatedSoFar());
    const root = { epoch, rewardsRoot: tree.root as Hex, evidenceRoot: EVIDENCE, total };
    await postRoot(root, packSignatures(await sign([1, 2], root)));
    return tree;
  };
  const allocatedSoFar = () =>
    f.public.readContract({ address: f.contracts.Rewards, abi: rewardsAbi, functionName: 'totalAllocated' });
  const claim = (tree: StandardMerkleTree<Entry>, account: Hex, who = 6) => {
    for (const [i, [a, amount]] of tree.entries()) {
      if (a === account) {
        return f.as(who).write({
          address: f.contracts.Rewards,
          abi: rewardsAbi,
          functionName: 'claim',
          args: [a, amount, tree.getProof(i) as Hex[]],
        });
      }
    }
    throw new Error(`${account} is not in the tree`);
  };
  const readRewards = <N extends 'root' | 'nextEpoch' | 'totalAllocated' | 'totalMinted' | 'currentEpoch'>(
    functionName: N,
  ) => f.public.readContract({ address: f.contracts.Rewards, abi: rewardsAbi, functionName });
  const claimed = (account: Hex) =>
    f.public.readContract({
      address: f.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'claimed',
      args: [account],
    });
  const root0 = (over: Partial<EpochRoot> = {}): EpochRoot => ({
    epoch: 0n,
    rewardsRoot: keccak256(toBytes('rewards 0')),
    evidenceRoot: EVIDENCE,
    total: 100n * E18,
    ...over,
  });

  describe('validator set', () => {
    test('joins with at least the minimum stake, once, with an endpoint', async () => {
      await approveToken(f, 4, f.contracts.Validators);
      const join = (amount: bigint, endpoint = 'http://127.0.0.1:9040') =>
        f.as(4).write({
          address: f.contracts.Validators,
          abi: validatorsAbi,
          functionName: 'join',
          args: [amount, endpoint],
        });
      const e = await rejectsWithCode(join(VALIDATOR_STAKE - 1n), 'STAKE_TOO_LOW');
      assert.equal(e.details.required, VALIDATOR_STAKE.toString());
      await rejectsWithCode(join(VALIDATOR_STAKE, ''), 'EMPTY_ENDPOINT');
      await join(VALIDATOR_STAKE);
      await rejectsWithCode(join(VALIDATOR_STAKE), 'ALREADY_VALIDATOR');
      const v = await f.public.readContract({
        address: f.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'getValidator',
        args: [address(4)],
      });
      assert.equal(v.status, 1);
      assert.equal(v.stake, VALIDATOR_STAKE);
      assert.equal(
        await f.public.readContract({
          address: f.contracts.Validators,
          abi: validatorsAbi,
          functionName: 'totalStake',
        }),
        4n * VALIDATOR_STAKE,
      );
    });

    test('lets an active validator move its endpoint, and nobody else', async () => {
      const move = (who: number, endpoint: string) =>
        f.as(who).write({
          address: f.contracts.Validators,
          abi: validatorsAbi,
          functionName: 'setEndpoint',
          args: [endpoint],
        });
      await approveToken(f, 4, f.contracts.Validators);
      await f.as(4).write({
        address: f.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'join',
        args: [VALIDATOR_STAKE, 'http://127.0.0.1:9040'],
      });
      await move(4, 'http://127.0.0.1:9041');
      const v = await f.public.readContract({
        address: f.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'getValidator',
        args: [address(4)],
      });
      assert.equal(v.endpoint, 'http://127.0.0.1:9041');
      await rejectsWithCode(move(4, ''), 'EMPTY_ENDPOINT');
      await rejectsWithCode(move(9, 'http://127.0.0.1:9042'), 'NOT_VALIDATOR');
    });

    test('computes the same EIP-712 digest that viem signs', async () => {
      const root = root0();
      const digest = await f.public.readContract({
        address: f.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'epochRootDigest',
        args: [root.epoch, root.rewardsRoot, root.evidenceRoot, root.total],
      });
      const expected = hashTypedData({
        domain: {
          name: 'depin',
          version: '1',
          chainId: f.devnet.chainId,
          verifyingContract: f.contracts.Validators,
        },
        types: EPOCH_ROOT_TYPES,
        primaryType: 'EpochRoot',
        message: root,
      });
      assert.equal(digest, expected);
    });
  });

  describe('postRoot', () => {
    test('accepts a closed epoch signed by validators holding two thirds of the stake', async () => {
      const root = root0();
      await postRoot(root, packSignatures(await sign([1, 3], root)));
      assert.equal(await readRewards('root'), root.rewardsRoot);
      assert.equal(await readRewards('nextEpoch'), 1n);
      assert.equal(await readRewards('totalAllocated'), root.total);
    });

    test('refuses one signature of three validators with NoQuorum', async () => {
      const root = root0();
      const e = await rejectsWithCode(postRoot(root, packSignatures(await sign([2], root))), 'NO_QUORUM');
      assert.deepEqual(e.details, {
        signedStake: VALIDATOR_STAKE.toString(),
        totalStake: (3n * VALIDATOR_STAKE).toString(),
      });
    });

    test('refuses a repeated or unsorted signer with SignersNotSorted', async () => {
      const root = root0();
      const [a] = await sign([1], root);
      const e = await rejectsWithCode(
        postRoot(root, concatHex([a!.signature, a!.signature, a!.signature])),
        'SIGNERS_NOT_SORTED',
      );
      assert.equal(e.details.index, '1');
      const sorted = await sign([1, 2], root);
      const descending = [...sorted].sort((x, y) => (BigInt(x.signer) > BigInt(y.signer) ? -1 : 1));
      await rejectsWithCode(
        postRoot(root, concatHex(descending.map((s) => s.signature))),
        'SIGNERS_NOT_SORTED',
      );
    });

    test('refuses signatures from non-validators, for another root, or of the wrong length', async () => {
      const root = root0();
      const e = await rejectsWithCode(
        postRoot(root, packSignatures(await sign([1, 2, 7], root))),
        'NOT_ACTIVE_VALIDATOR',
      );
      assert.equal(String(e.details.signer).toLowerCase(), address(7).toLowerCase());
      // Signed for a different total: recovers other addresses, which are no validators.
      const other = await sign([1, 2], { ...root, total: root.total + 1n });
      await rejectsWithCode(postRoot(root, packSignatures(other)), 'NOT_ACTIVE_VALIDATOR');
      await rejectsWithCode(postRoot(root, '0x'), 'BAD_SIGNATURE_LENGTH');
      const [a] = await sign([1], root);
      await rejectsWithCode(postRoot(root, `${a!.signature}00`), 'BAD_SIGNATURE_LENGTH');
    });

    test('refuses an epoch that has not closed with EpochNotClosed', async () => {
      const current = await readRewards('currentEpoch');
      const root = root0({ epoch: current });
      const e = await rejectsWithCode(
        postRoot(root, packSignatures(await sign([1, 2, 3], root))),
        'EPOCH_NOT_CLOSED',
      );
      assert.equal(e.details.epoch, current.toString());
    });

    test('refuses an epoch already rewarded (or skipped) with EpochAlreadyRewarded', async () => {
      const root1 = root0({ epoch: 1n });
      await postRoot(root1, packSignatures(await sign([1, 2], root1)));
      for (const epoch of [0n, 1n]) {
        const root = root0({ epoch, rewardsRoot: keccak256(toBytes(`again ${epoch}`)) });
        const e = await rejectsWithCode(
          postRoot(root, packSignatures(await sign([1, 2], root))),
          'EPOCH_ALREADY_REWARDED',
        );
        assert.equal(e.details.nextEpoch, '2');
      }
    });

    test('refuses a total above the per-epoch circuit breaker with CircuitBreaker', async () => {
      // REWARDS_BREAKER_MULTIPLIER is 2: at most twice the epoch's own emission.
      const root = root0({ epoch: 2n, total: 2n * EMISSION + 1n });
      const e = await rejectsWithCode(
        postRoot(root, packSignatures(await sign([1, 2, 3], root))),
        'CIRCUIT_BREAKER',
      );
      assert.deepEqual(e.details, { total: root.total.toString(), limit: (2n * EMISSION).toString() });
      const ok = root0({ epoch: 2n, total: 2n * EMISSION });
      await postRoot(ok, packSignatures(await sign([1, 2, 3], ok)));
    });

    test('refuses a total beyond the emission so far with EmissionExceeded', async () => {
      // Epoch 0 may carry up to twice its emission by the breaker, but only its emission has been made.
      const root = root0({ total: EMISSION + 1n });
      const e = await rejectsWithCode(
        postRoot(root, packSignatures(await sign([1, 2], root))),
        'EMISSION_EXCEEDED',
      );
      assert.deepEqual(e.details, { allocated: root.total.toString(), emitted: EMISSION.toString() });
      const first = root0({ total: EMISSION });
      await postRoot(first, packSignatures(await sign([1, 2], first)));
      const second = root0({ epoch: 1n, total: EMISSION + 1n });
      await rejectsWithCode(
        postRoot(second, packSignatures(await sign([1, 2], second))),
        'EMISSION_EXCEEDED',
      );
    });
  });

  describe('claim', () => {
    test('pays the cumulative amount, then only the new delta, to the account whoever calls', async () => {
      const [a, b] = [address(10), address(11)];
      const tree0 = await postTree(0n, [
        [a, 100n * E18],
        [b, 50n * E18],
      ]);
      await claim(tree0, a);
      assert.equal(await tokenBalance(f, a), 1_000_000n * E18 + 100n * E18);
      assert.equal(await claimed(a), 100n * E18);
      const again = await rejectsWithCode(claim(tree0, a), 'NOTHING_TO_CLAIM');
      assert.deepEqual(again.details, {
        account: a,
        cumulative: (100n * E18).toString(),
        claimed: (100n * E18).toString(),
      });

      const tree1 = await postTree(1n, [
        [a, 130n * E18],
        [b, 90n * E18],
      ]);
      await claim(tree1, a);
      assert.equal(await tokenBalance(f, a), 1_000_000n * E18 + 130n * E18);
      await claim(tree1, b); // b skipped epoch 0's claim: gets both epochs at once
      assert.equal(await tokenBalance(f, b), 1_000_000n * E18 + 90n * E18);
      await rejectsWithCode(claim(tree1, b), 'NOTHING_TO_CLAIM');
    });

    test('refuses a wrong amount or a proof against a replaced root with InvalidProof', async () => {
      const a = address(10);
      const tree0 = await postTree(0n, [
        [a, 100n * E18],
        [address(11), 50n * E18],
      ]);
      const proof = tree0.getProof([a, 100n * E18]) as Hex[];
      const claimWith = (amount: bigint, p: Hex[]) =>
        f.as(6).write({
          address: f.contracts.Rewards,
          abi: rewardsAbi,
          functionName: 'claim',
          args: [a, amount, p],
        });
      const e = await rejectsWithCode(claimWith(101n * E18, proof), 'INVALID_PROOF');
      assert.deepEqual(e.details, { account: a, cumulative: (101n * E18).toString() });
      await rejectsWithCode(claimWith(100n * E18, []), 'INVALID_PROOF');
      await postTree(1n, [
        [a, 120n * E18],
        [address(11), 60n * E18],
      ]);
      await rejectsWithCode(claimWith(100n * E18, proof), 'INVALID_PROOF');
    });

    test('never pays out more than was emitted, over many epochs and claims', async () => {
      const accounts = [10, 11, 12, 13, 14].map(address);
      const cumulative = new Map(accounts.map((a) => [a, 0n]));
      let seed = 7n;
      const random = (n: bigint) => {
        seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
        return seed % n;
      };
      const start = new Map<Hex, bigint>();
      for (const a of accounts) start.set(a, await tokenBalance(f, a));
      let paid = 0n;
      for (let epoch = 0n; epoch < 4n; epoch++) {
        // Spend up to the epoch's emission, in random shares.
        let budget = EMISSION - random(EMISSION / 2n);
        for (const a of accounts) {
          const share = random(budget + 1n);
          budget -= share;
          cumulative.set(a, cumulative.get(a)! + share);
        }
        const tree = await postTree(epoch, [...cumulative.entries()]);
        for (const a of accounts) {
          if (random(2n) === 0n) continue;
          if ((await claimed(a)) >= cumulative.get(a)!) continue;
          await claim(tree, a);
        }
        paid = 0n;
        for (const a of accounts) paid += (await tokenBalance(f, a)) - start.get(a)!;
        const allocated = await readRewards('totalAllocated');
        const minted = await readRewards('totalMinted');
        const emitted = await f.public.readContract({
          address: f.contracts.Rewards,
          abi: rewardsAbi,
          functionName: 'cumulativeEmission',
          args: [epoch],
        });
        assert.ok(paid <= allocated, `paid ${paid} > allocated ${allocated}`);
        assert.ok(allocated <= emitted, `allocated ${allocated} > emitted ${emitted}`);
        assert.equal((await tokenBalance(f, f.contracts.Rewards)) + paid, minted, 'minted = held + paid');
      }
      assert.ok(paid > 0n);
    });

    test('mints pending allocations into the pool at most once', async () => {
      await postTree(0n, [[address(10), 10n * E18]]);
      await f
        .as(6)
        .write({ address: f.contracts.Rewards, abi: rewardsAbi, functionName: 'mintPending', args: [] });
      assert.equal(await tokenBalance(f, f.contracts.Rewards), 10n * E18);
      await f
        .as(6)
        .write({ address: f.contracts.Rewards, abi: rewardsAbi, functionName: 'mintPending', args: [] });
      assert.equal(await readRewards('totalMinted'), 10n * E18);
    });
  });

  describe('equivocation', () => {
    const supply = () =>
      f.public.readContract({ address: f.contracts.Token, abi: tokenAbi, functionName: 'totalSupply' });
    const prove = (a: EpochRoot, b: EpochRoot, sigA: Hex, sigB: Hex, who = 8) =>
      f.as(who).write({
        address: f.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'proveEquivocation',
        args: [
          a.epoch,
          [a.rewardsRoot, b.rewardsRoot],
          [a.evidenceRoot, b.evidenceRoot],
          [a.total, b.total],
          sigA,
          sigB,
        ],
      });

    test('slashes a validator that signed two roots for one epoch and pays the reporter', async () => {
      const a = root0({ epoch: 3n });
      const b = root0({ epoch: 3n, rewardsRoot: keccak256(toBytes('forked')) });
      const [sa] = await sign([3], a);
      const [sb] = await sign([3], b);
      const reporter = address(8);
      const [before, supplyBefore] = [await tokenBalance(f, reporter), await supply()];
      await prove(a, b, sa!.signature, sb!.signature);
      // SLASH_EQUIVOCATION_BPS 50 %, REPORTER_REWARD_BPS 10 % of the slash; the rest is burned.
      const slashed = VALIDATOR_STAKE / 2n;
      assert.equal(await tokenBalance(f, reporter), before + slashed / 10n);
      assert.equal(await supply(), supplyBefore - (slashed - slashed / 10n));
      const v = await f.public.readContract({
        address: f.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'getValidator',
        args: [address(3)],
      });
      assert.equal(v.status, 3);
      assert.equal(v.stake, 0n);
      assert.equal(v.unbonding, VALIDATOR_STAKE - slashed);
      assert.equal(
        await f.public.readContract({
          address: f.contracts.Validators,
          abi: validatorsAbi,
          functionName: 'totalStake',
        }),
        2n * VALIDATOR_STAKE,
      );
      // A removed validator can be proven against no more, and no longer counts towards quorum.
      await rejectsWithCode(prove(a, b, sa!.signature, sb!.signature), 'NOT_VALIDATOR');
      const root = root0();
      await rejectsWithCode(postRoot(root, packSignatures(await sign([1, 3], root))), 'NOT_ACTIVE_VALIDATOR');
      await postRoot(root, packSignatures(await sign([1, 2], root)));
    });

    test('refuses the same root twice, or two roots from different signers, as NotEquivocation', async () => {
      const a = root0({ epoch: 3n });
      const b = root0({ epoch: 3n, total: 1n });
      const [sa] = await sign([3], a);
      const [sa2] = await sign([3], a);
      await rejectsWithCode(prove(a, a, sa!.signature, sa2!.signature), 'NOT_EQUIVOCATION');
      const [sb] = await sign([2], b);
      await rejectsWithCode(prove(a, b, sa!.signature, sb!.signature), 'NOT_EQUIVOCATION');
      // Signatures for another epoch do not match the claimed one.
      const [c] = await sign([3], { ...b, epoch: 4n });
      await rejectsWithCode(prove(a, b, sa!.signature, c!.signature), 'NOT_EQUIVOCATION');
    });
  });
});
