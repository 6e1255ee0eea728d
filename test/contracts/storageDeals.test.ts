import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { encodeAbiParameters, type Hex, keccak256, parseEventLogs, toBytes, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { creditsAbi, registryAbi, storageDealsAbi, validatorsAbi } from '../../src/chain/abi/index.ts';
import {
  ACTION,
  actionsHash,
  type NodeAction,
  signSettlement,
} from '../../src/storage/validator/settlementSignature.ts';
import {
  approveToken,
  buyCredits,
  createFixture,
  decoded,
  E18,
  type Fixture,
  packSignatures,
  rejectsWithCode,
  signEpochRoot,
} from './fixture.ts';

const VALIDATOR_STAKE = 1000n * E18; // MIN_STAKE_VALIDATOR on the devnet
const VALIDATORS = [1, 2, 3];
const CLIENTS = [10, 11, 12];
const NODES = [13, 14, 15];
const GIB = 1n << 30n;
const WAD = 10n ** 18n;
const YEAR = 365n * 86400n;
// devnetSettings: STORAGE_PRICE_GIB_EPOCH 1 credit, STORAGE_PERM_DECLINE_BPS 50 (0.5 % a year).
const PRICE_GIB_EPOCH = 1n;
const DECLINE_BPS = 50n;
const ZERO32 = `0x${'00'.repeat(32)}` as Hex;

type Payments = {
  epoch: bigint;
  root: Hex;
  total: bigint;
  prevStateHash?: Hex;
  stateHash?: Hex;
  actions?: NodeAction[];
};
type Entry = [Hex, bigint];
type Terms = {
  root?: Hex;
  size?: bigint;
  pieces?: number;
  duration?: number;
  price?: bigint;
  permanent?: boolean;
};

/** −ln(1 − bps/10⁴) in WAD exactly as StorageDeals.lnOneMinus computes it (series, rounding down). */
function lnOneMinus(bps: bigint): bigint {
  const x = (bps * WAD) / 10_000n;
  let power = x;
  let sum = 0n;
  for (let k = 1n; power !== 0n; k++) {
    sum += power / k;
    power = (power * x) / WAD;
  }
  return sum;
}

/** The documented endowment: ceil(size/GiB × price × (1 year / epochLength) / −ln(1 − decline)). */
function endowment(size: bigint, epochLength: bigint, price = PRICE_GIB_EPOCH, bps = DECLINE_BPS): bigint {
  const numerator = size * price * YEAR * WAD;
  const denominator = GIB * epochLength * lnOneMinus(bps);
  return (numerator + denominator - 1n) / denominator;
}

describe('StorageDeals', () => {
  let f: Fixture;
  let snap: Hex;
  let epochLength: bigint;
  let genesis: bigint;

  before(async () => {
    f = await createFixture();
    epochLength = BigInt(f.deployment.settings.epochLength);
    genesis = BigInt(f.deployment.settings.epochGenesis);
    for (const i of VALIDATORS) {
      await approveToken(f, i, f.contracts.Validators);
      await f.as(i).write({
        address: f.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'join',
        args: [VALIDATOR_STAKE, `http://127.0.0.1:90${i}0`],
      });
    }
    // Each client burns 1,000 DPN for credits (99,000 credits per DPN at $1 − $0.01).
    for (const i of CLIENTS) {
      await buyCredits(f, i, 1000n * E18);
    }
  });
  after(() => f.close());
  beforeEach(async () => {
    snap = await f.snapshot();
  });
  afterEach(async () => {
    await f.revert(snap);
  });

  const address = (i: number) => f.accounts[i]!.address;
  const credits = (account: Hex) =>
    f.public.readContract({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'balanceOf',
      args: [account],
    });
  const read = <
    N extends
      | 'totalEscrowed'
      | 'totalRefunded'
      | 'totalPosted'
      | 'totalClaimed'
      | 'nextEpoch'
      | 'stateHash'
      | 'paymentsRoot'
      | 'dealCount'
      | 'currentEpoch'
      | 'unallocated',
  >(
    functionName: N,
  ) => f.public.readContract({ address: f.contracts.StorageDeals, abi: storageDealsAbi, functionName });
  const getDeal = (id: bigint) =>
    decoded(
      f.public.readContract({
        address: f.contracts.StorageDeals,
        abi: storageDealsAbi,
        functionName: 'deal',
        args: [id],
      }),
    );
  const rootOf = (name: string) => keccak256(toBytes(name));
  const createDeal = (who: number, t: Terms = {}) =>
    f.as(who).write({
      address: f.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'createDeal',
      args: [
        t.root ?? rootOf('file'),
        t.size ?? 64n << 20n,
        t.pieces ?? 16,
        t.duration ?? 10,
        t.price ?? 100n,
        t.permanent ?? false,
      ],
    });
  /** Creates a deal and returns its id from the DealCreated event. */
  const newDeal = async (who: number, t: Terms = {}) => {
    const receipt = await createDeal(who, t);
    const [event] = parseEventLogs({ abi: storageDealsAbi, logs: receipt.logs, eventName: 'DealCreated' });
    return event!.args;
  };
  const terminate = (who: number, id: bigint) =>
    f.as(who).write({
      address: f.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'terminate',
      args: [id],
    });
  /** Moves the clock to the start of an epoch (±1 s), so a test's next calls land in one known epoch. */
  const atEpochStart = async (): Promise<bigint> => {
    for (;;) {
      const into = ((await f.now()) - genesis) % epochLength;
      if (into <= 1n) return ((await f.now()) - genesis) / epochLength;
      await f.increaseTime(epochLength - into);
    }
  };
  /** The signed fields; the previous state is the one on chain unless `p` names another. */
  const fieldsOf = async (p: Payments) => ({
    epoch: p.epoch,
    root: p.root,
    total: p.total,
    prevStateHash: p.prevStateHash ?? ((await read('stateHash')) as Hex),
    stateHash: p.stateHash ?? ZERO32,
    actionsHash: actionsHash(p.actions ?? []),
  });
  const signPayments = async (who: number[], p: Payments) => {
    const fields = await fieldsOf(p);
    return Promise.all(
      who.map(async (i) => {
        const account = privateKeyToAccount(f.accounts[i]!.privateKey);
        const signature = await signSettlement(
          account,
          { chainId: f.devnet.chainId, validators: f.contracts.Validators },
          fields,
        );
        return { signer: account.address, signature };
      }),
    );
  };
  const postPayments = async (p: Payments, signers = [1, 2], signatures?: Hex) =>
    f.as(5).write({
      address: f.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'settle',
      args: [
        p.epoch,
        p.root,
        p.total,
        p.stateHash ?? ZERO32,
        p.actions ?? [],
        signatures ?? packSignatures(await signPayments(signers, p)),
      ],
    });
  /** Posts the cumulative tree of `entries` for `epoch` (total = its increase), signed by 1 and 2. */
  const postTree = async (epoch: bigint, entries: Entry[]) => {
    const tree = StandardMerkleTree.of(entries, ['address', 'uint256']);
    const total = entries.reduce((s, [, a]) => s + a, 0n) - (await read('totalPosted'));
    await postPayments({ epoch, root: tree.root as Hex, total });
    return tree;
  };
  const claim = (tree: StandardMerkleTree<Entry>, account: Hex, who = 6) => {
    for (const [i, [a, amount]] of tree.entries()) {
      if (a === account) {
        return f.as(who).write({
          address: f.contracts.StorageDeals,
          abi: storageDealsAbi,
          functionName: 'claimCredits',
          args: [a, amount, tree.getProof(i) as Hex[]],
        });
      }
    }
    throw new Error(`${account} is not in the tree`);
  };

  describe('deals', () => {
    test('escrows durationEpochs × pricePerEpoch credits from the client and records every term', async () => {
      const client = address(10);
      const before = await credits(client);
      const epoch = await atEpochStart();
      const event = await newDeal(10, { duration: 12, price: 250n, size: 3n << 20n, pieces: 48 });
      assert.equal(event.dealId, 1n);
      assert.deepEqual(
        { ...event },
        {
          dealId: 1n,
          client,
          root: rootOf('file'),
          size: 3n << 20n,
          pieces: 48,
          durationEpochs: 12,
          pricePerEpoch: 250n,
          permanent: false,
          startEpoch: epoch,
          escrow: 3000n,
        },
      );
      assert.equal(await credits(client), before - 3000n);
      assert.equal(await credits(f.contracts.StorageDeals), 3000n);
      assert.equal(await read('totalEscrowed'), 3000n);
      const d = await getDeal(1n);
      assert.equal(d.client, client);
      assert.equal(d.endEpoch, epoch + 12n);
      assert.equal(d.escrow, 3000n);
      assert.equal(d.terminated, false);
      const second = await newDeal(11);
      assert.equal(second.dealId, 2n);
      assert.equal(await read('dealCount'), 2n);
    });

    test('refuses an empty root, zero size or pieces, inconsistent terms, and a client short of credits', async () => {
      await rejectsWithCode(createDeal(10, { root: `0x${'00'.repeat(32)}` }), 'EMPTY_ROOT');
      await rejectsWithCode(createDeal(10, { size: 0n }), 'ZERO_SIZE');
      await rejectsWithCode(createDeal(10, { pieces: 0 }), 'ZERO_PIECES');
      await rejectsWithCode(createDeal(10, { duration: 0 }), 'BAD_TERMS');
      await rejectsWithCode(createDeal(10, { price: 0n }), 'BAD_TERMS');
      // A permanent deal's price is the endowment: the client names neither duration nor price.
      const e = await rejectsWithCode(createDeal(10, { permanent: true, price: 0n }), 'BAD_TERMS');
      assert.deepEqual(e.details, { durationEpochs: 10, pricePerEpoch: '0', permanent: true });
      const broke = await rejectsWithCode(createDeal(7, { price: 1n }), 'INSUFFICIENT_CREDITS');
      assert.equal(broke.details.needed, '10');
      assert.equal(await read('dealCount'), 0n);
    });

    test('terminate refunds exactly the escrow of the epochs not begun, once', async () => {
      const client = address(10);
      const start = await atEpochStart();
      const { dealId } = await newDeal(10, { duration: 10, price: 100n });
      const afterCreate = await credits(client);
      await f.increaseTime(3n * epochLength);
      const receipt = await terminate(10, dealId);
      const [event] = parseEventLogs({
        abi: storageDealsAbi,
        logs: receipt.logs,
        eventName: 'DealTerminated',
      });
      // Epochs start..start+2 are spent (3 × 100); the current one and the six after it come back.
      assert.deepEqual({ ...event!.args }, { dealId, client, endEpoch: start + 3n, refund: 700n });
      assert.equal(await credits(client), afterCreate + 700n);
      assert.equal(await read('totalRefunded'), 700n);
      const d = await getDeal(dealId);
      assert.equal(d.terminated, true);
      assert.equal(d.endEpoch, start + 3n);
      assert.equal(d.escrow, 300n);
      const again = await rejectsWithCode(terminate(10, dealId), 'DEAL_ENDED');
      assert.equal(again.details.endEpoch, (start + 3n).toString());
      assert.equal(await credits(client), afterCreate + 700n);
    });

    test('terminating in the start epoch refunds everything; after the last epoch nothing is left', async () => {
      await atEpochStart();
      const a = await newDeal(10, { duration: 5, price: 40n });
      const before = await credits(address(10));
      await terminate(10, a.dealId);
      assert.equal(await credits(address(10)), before + 200n);
      const b = await newDeal(10, { duration: 2, price: 40n });
      await f.increaseTime(2n * epochLength);
      const e = await rejectsWithCode(terminate(10, b.dealId), 'DEAL_ENDED');
      assert.equal(e.details.endEpoch, (b.startEpoch + 2n).toString());
    });

    test('only the client terminates, and only a deal that exists', async () => {
      const { dealId } = await newDeal(10);
      const e = await rejectsWithCode(terminate(11, dealId), 'NOT_CLIENT');
      assert.deepEqual(e.details, { dealId: dealId.toString(), caller: address(11) });
      await rejectsWithCode(terminate(10, 99n), 'UNKNOWN_DEAL');
      await rejectsWithCode(getDeal(99n), 'UNKNOWN_DEAL');
    });

    test('a permanent deal escrows the documented endowment and cannot be terminated', async () => {
      const size = 64n << 20n; // 64 MiB stored across the pieces
      const expected = endowment(size, epochLength);
      const quoted = await f.public.readContract({
        address: f.contracts.StorageDeals,
        abi: storageDealsAbi,
        functionName: 'endowment',
        args: [size],
      });
      assert.equal(quoted, expected);
      // ≈ 199.5 years of the first year's cost at a 0.5 %/year decline (Arweave's assumption).
      const firstYear =
        (Number(size) / 2 ** 30) * Number(PRICE_GIB_EPOCH) * (Number(YEAR) / Number(epochLength));
      assert.ok(Math.abs((Number(expected) / firstYear) * -Math.log(0.995) - 1) < 1e-6);
      const before = await credits(address(10));
      const event = await newDeal(10, { size, duration: 0, price: 0n, permanent: true });
      assert.equal(event.escrow, expected);
      assert.equal(await credits(address(10)), before - expected);
      const d = await getDeal(event.dealId);
      assert.equal(d.permanent, true);
      assert.equal(d.escrow, expected);
      assert.equal(d.endEpoch, 2n ** 64n - 1n);
      await rejectsWithCode(terminate(10, event.dealId), 'PERMANENT_DEAL');
    });

    test('lnOneMinus tracks the natural logarithm over the governed range', async () => {
      for (const bps of [1n, 10n, 50n, 100n, 1000n, 2500n, 5000n]) {
        const onChain = await f.public.readContract({
          address: f.contracts.StorageDeals,
          abi: storageDealsAbi,
          functionName: 'lnOneMinus',
          args: [bps],
        });
        assert.equal(onChain, lnOneMinus(bps));
        const exact = -Math.log1p(-Number(bps) / 10_000);
        assert.ok(Math.abs(Number(onChain) / 1e18 / exact - 1) < 1e-12, `bps ${bps}`);
        assert.ok(Number(onChain) / 1e18 <= exact * (1 + 1e-15), 'rounds down, so the endowment errs high');
      }
    });
  });

  describe('payments', () => {
    /** A deal of 10 epochs × 100 credits by client 10, then two epochs closed. */
    const funded = async () => {
      await atEpochStart();
      const deal = await newDeal(10, { duration: 10, price: 100n });
      await f.increaseTime(2n * epochLength);
      return deal;
    };

    test('accepts a closed epoch signed by two thirds of the stake, and claims pay cumulative deltas', async () => {
      const { startEpoch } = await funded();
      const [a, b] = [address(13), address(14)];
      const tree0 = await postTree(startEpoch, [
        [a, 60n],
        [b, 40n],
      ]);
      assert.equal(await read('nextEpoch'), startEpoch + 1n);
      assert.equal(await read('totalPosted'), 100n);
      await claim(tree0, a);
      assert.equal(await credits(a), 60n);
      const again = await rejectsWithCode(claim(tree0, a), 'NOTHING_TO_CLAIM');
      assert.deepEqual(again.details, { account: a, cumulative: '60', claimed: '60' });

      const tree1 = await postTree(startEpoch + 1n, [
        [a, 110n],
        [b, 90n],
      ]);
      await claim(tree1, a);
      assert.equal(await credits(a), 110n);
      await claim(tree1, b); // b skipped the first claim: gets both epochs at once
      assert.equal(await credits(b), 90n);
      assert.equal(await read('totalClaimed'), 200n);
      assert.equal(await credits(f.contracts.StorageDeals), 1000n - 200n);
    });

    test('refuses a root without quorum, for an open epoch, or for an epoch already paid', async () => {
      const { startEpoch } = await funded();
      const p = { epoch: startEpoch, root: rootOf('payments'), total: 10n };
      const e = await rejectsWithCode(postPayments(p, [3]), 'NO_QUORUM');
      assert.deepEqual(e.details, {
        signedStake: VALIDATOR_STAKE.toString(),
        totalStake: (3n * VALIDATOR_STAKE).toString(),
      });
      await rejectsWithCode(postPayments(p, [1, 2, 7]), 'NOT_ACTIVE_VALIDATOR');
      await rejectsWithCode(postPayments(p, [], '0x'), 'BAD_SIGNATURE_LENGTH');
      const current = await read('currentEpoch');
      const open = await rejectsWithCode(postPayments({ ...p, epoch: current }), 'EPOCH_NOT_CLOSED');
      assert.equal(open.details.epoch, current.toString());
      await postPayments({ ...p, epoch: startEpoch + 1n }); // skipping an epoch is allowed
      for (const epoch of [startEpoch, startEpoch + 1n]) {
        const paid = await rejectsWithCode(postPayments({ ...p, epoch }), 'EPOCH_ALREADY_PAID');
        assert.equal(paid.details.nextEpoch, (startEpoch + 2n).toString());
      }
    });

    test('a settlement signed from an older state cannot be posted after a newer one: it names the state it starts from', async () => {
      const { startEpoch } = await funded();
      const before = (await read('stateHash')) as Hex;
      // Both computed from the same state; the first is posted late, after the second was signed.
      const late = { epoch: startEpoch, root: rootOf('late'), total: 10n, stateHash: rootOf('state late') };
      const stale = {
        epoch: startEpoch + 1n,
        root: rootOf('stale'),
        total: 10n,
        prevStateHash: before,
        stateHash: rootOf('state stale'),
      };
      const staleSignatures = packSignatures(await signPayments([1, 2], stale));
      await postPayments(late);
      assert.equal(await read('stateHash'), late.stateHash);
      const posted = await read('totalPosted');
      // Its signatures no longer recover to validators: the digest names the state on chain now.
      await rejectsWithCode(postPayments(stale, [], staleSignatures), 'NOT_ACTIVE_VALIDATOR');
      assert.equal(await read('totalPosted'), posted, 'nothing posted');
      // Signed again from the state on chain, the same epoch settles.
      const { prevStateHash: _, ...fresh } = stale;
      await postPayments(fresh);
      assert.equal(await read('stateHash'), stale.stateHash);
      assert.equal(await read('totalPosted'), posted + 10n);
    });

    test('a signature over an EpochRoot never passes as a StorageSettlement (typed quorum)', async () => {
      const { startEpoch } = await funded();
      const p = { epoch: startEpoch, root: rootOf('payments'), total: 10n };
      const asEpochRoot = await Promise.all(
        [1, 2].map((i) =>
          signEpochRoot(f.accounts[i]!.privateKey, f.devnet.chainId, f.contracts.Validators, {
            epoch: p.epoch,
            rewardsRoot: p.root,
            evidenceRoot: p.root,
            total: p.total,
          }),
        ),
      );
      await rejectsWithCode(postPayments(p, [], packSignatures(asEpochRoot)), 'NOT_ACTIVE_VALIDATOR');
      // Validators.verifyQuorum is the same rule over any struct hash: two of three pass, one fails.
      const structHash = keccak256(
        encodeAbiParameters(
          [
            { type: 'bytes32' },
            { type: 'uint256' },
            { type: 'bytes32' },
            { type: 'uint256' },
            { type: 'bytes32' },
            { type: 'bytes32' },
            { type: 'bytes32' },
          ],
          [
            keccak256(
              toBytes(
                'StorageSettlement(uint256 epoch,bytes32 root,uint256 total,bytes32 prevStateHash,bytes32 stateHash,bytes32 actionsHash)',
              ),
            ),
            p.epoch,
            p.root,
            p.total,
            (await read('stateHash')) as Hex,
            ZERO32,
            actionsHash([]),
          ],
        ),
      );
      const verify = (signers: number[]) =>
        signPayments(signers, p).then((s) =>
          decoded(
            f.public.readContract({
              address: f.contracts.Validators,
              abi: validatorsAbi,
              functionName: 'verifyQuorum',
              args: [structHash, packSignatures(s)],
            }),
          ),
        );
      assert.equal(await verify([1, 3]), 2n * VALIDATOR_STAKE);
      await rejectsWithCode(verify([2]), 'NO_QUORUM');
    });

    test('carries out the node actions the quorum signed: suspend, reinstate, slash; refused ones are reported', async () => {
      const { startEpoch } = await funded();
      const node = address(13);
      await approveToken(f, 13, f.contracts.Registry);
      await f.as(13).write({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'register',
        args: [
          {
            signer: node,
            services: 1,
            capacity: 1n << 40n,
            h3: 0n,
            region: toHex('eu-west', { size: 8 }),
            prices: [1n, 1n, 1n],
            endpoint: 'http://127.0.0.1:7004',
          },
          300n * E18,
        ],
      });
      const getNode = () =>
        f.public.readContract({
          address: f.contracts.Registry,
          abi: registryAbi,
          functionName: 'getNode',
          args: [node],
        });
      const suspend = [{ node, kind: ACTION.suspend, amount: 0n }];
      const p = { epoch: startEpoch, root: rootOf('payments'), total: 0n, actions: suspend };
      // The actions are signed: posting other actions under the same signatures fails the quorum.
      const signed = packSignatures(await signPayments([1, 2], p));
      const slashInstead = [{ node, kind: ACTION.slash, amount: 300n * E18 }];
      await rejectsWithCode(
        postPayments({ ...p, actions: slashInstead }, [], signed),
        'NOT_ACTIVE_VALIDATOR',
      );
      await postPayments(p, [], signed);
      assert.equal((await getNode()).status, 2, 'suspended');
      const stateHash = rootOf('state');
      const receipt = await postPayments({
        epoch: startEpoch + 1n,
        root: p.root,
        total: 0n,
        stateHash,
        actions: [
          { node, kind: ACTION.reinstate, amount: 0n },
          { node, kind: ACTION.slash, amount: 30n * E18 },
          { node: address(14), kind: ACTION.suspend, amount: 0n }, // not registered: refused, reported
        ],
      });
      const n = await getNode();
      assert.equal(n.status, 1, 'reinstated');
      assert.equal(n.stake, 270n * E18, 'slashed 30');
      assert.equal(await read('stateHash'), stateHash);
      const failed = parseEventLogs({ abi: storageDealsAbi, logs: receipt.logs, eventName: 'ActionFailed' });
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.args.node.toLowerCase(), address(14).toLowerCase());
      await f.increaseTime(epochLength);
      await rejectsWithCode(
        postPayments({
          epoch: startEpoch + 2n,
          root: p.root,
          total: 0n,
          actions: [{ node, kind: 9, amount: 0n }],
        }),
        'BAD_ACTION',
      );
    });

    test('refuses roots beyond what clients escrowed minus refunds with PaymentsExceedEscrow', async () => {
      const { startEpoch, dealId } = await funded();
      const p = { epoch: startEpoch, root: rootOf('payments'), total: 1001n };
      const e = await rejectsWithCode(postPayments(p), 'PAYMENTS_EXCEED_ESCROW');
      assert.deepEqual(e.details, { amount: '1001', available: '1000' });
      await postPayments({ ...p, total: 600n });
      await rejectsWithCode(
        postPayments({ epoch: startEpoch + 1n, root: p.root, total: 401n }),
        'PAYMENTS_EXCEED_ESCROW',
      );
      // The client's refund (8 × 100) would reach escrow a root already gave to nodes: refused too.
      const refund = await rejectsWithCode(terminate(10, dealId), 'PAYMENTS_EXCEED_ESCROW');
      assert.deepEqual(refund.details, { amount: '800', available: '400' });
    });

    test('a refund shrinks the budget of later roots', async () => {
      const { startEpoch, dealId } = await funded();
      await terminate(10, dealId); // two epochs spent: 200 stays in escrow
      assert.equal(await read('unallocated'), 200n);
      await rejectsWithCode(
        postPayments({ epoch: startEpoch, root: rootOf('p'), total: 201n }),
        'PAYMENTS_EXCEED_ESCROW',
      );
      await postPayments({ epoch: startEpoch, root: rootOf('p'), total: 200n });
    });

    test('refuses a wrong amount or a stale proof with InvalidProof, and claims beyond posted totals', async () => {
      const { startEpoch } = await funded();
      const [a, b] = [address(13), address(14)];
      const tree = await postTree(startEpoch, [
        [a, 60n],
        [b, 40n],
      ]);
      const proof = tree.getProof([a, 60n]) as Hex[];
      const claimWith = (amount: bigint, p: Hex[]) =>
        f.as(6).write({
          address: f.contracts.StorageDeals,
          abi: storageDealsAbi,
          functionName: 'claimCredits',
          args: [a, amount, p],
        });
      const e = await rejectsWithCode(claimWith(61n, proof), 'INVALID_PROOF');
      assert.deepEqual(e.details, { account: a, cumulative: '61' });
      await rejectsWithCode(claimWith(60n, []), 'INVALID_PROOF');
      // A quorum that signs a total smaller than its tree cannot pay out more than the totals.
      const greedy = StandardMerkleTree.of<Entry>(
        [
          [a, 60n],
          [b, 500n],
        ],
        ['address', 'uint256'],
      );
      await postPayments({ epoch: startEpoch + 1n, root: greedy.root as Hex, total: 1n });
      await rejectsWithCode(claimWith(60n, proof), 'INVALID_PROOF');
      await claim(greedy, a);
      const over = await rejectsWithCode(claim(greedy, b), 'CLAIMS_EXCEED_PAYMENTS');
      assert.deepEqual(over.details, { claimed: '560', posted: '101' });
    });

    test('never pays out more than clients escrowed minus refunds, over random deals, roots and claims', async () => {
      let seed = 11n;
      const random = (n: bigint) => {
        seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
        return seed % n;
      };
      const nodes = NODES.map(address);
      const clients = CLIENTS.map(address);
      const startTotal = (await Promise.all([...clients, ...nodes].map(credits))).reduce((s, x) => s + x, 0n);
      const cumulative = new Map(nodes.map((a) => [a, 0n]));
      const deals: { id: bigint; who: number }[] = [];
      let tree: StandardMerkleTree<Entry> | undefined;
      await atEpochStart();
      for (let step = 0; step < 24; step++) {
        const op = random(4n);
        if (op === 0n || deals.length === 0) {
          const who = CLIENTS[Number(random(3n))]!;
          const { dealId } = await newDeal(who, {
            duration: 1 + Number(random(8n)),
            price: 1n + random(500n),
          });
          deals.push({ id: dealId, who });
        } else if (op === 1n) {
          const d = deals[Number(random(BigInt(deals.length)))]!;
          await terminate(d.who, d.id).catch(() => undefined); // ended or already terminated: fine
        } else if (op === 2n) {
          await f.increaseTime(epochLength);
          const epoch = (await read('currentEpoch')) - 1n;
          if (epoch < (await read('nextEpoch'))) continue;
          // An honest root: spend a random part of what is unallocated.
          let budget = random((await read('unallocated')) + 1n);
          for (const a of nodes) {
            const share = random(budget + 1n);
            budget -= share;
            cumulative.set(a, cumulative.get(a)! + share);
          }
          tree = await postTree(epoch, [...cumulative.entries()]);
        } else if (tree) {
          for (const [, [a, amount]] of tree.entries()) {
            const already = await f.public.readContract({
              address: f.contracts.StorageDeals,
              abi: storageDealsAbi,
              functionName: 'claimed',
              args: [a],
            });
            if (amount > already && random(2n) === 0n) await claim(tree, a);
          }
        }
        const [escrowed, refunded, posted, claimed] = await Promise.all([
          read('totalEscrowed'),
          read('totalRefunded'),
          read('totalPosted'),
          read('totalClaimed'),
        ]);
        assert.ok(
          posted <= escrowed - refunded,
          `posted ${posted} > escrowed ${escrowed} − refunded ${refunded}`,
        );
        assert.ok(claimed <= posted, `claimed ${claimed} > posted ${posted}`);
        assert.equal(await credits(f.contracts.StorageDeals), escrowed - refunded - claimed);
        const held = (await Promise.all([...clients, ...nodes].map(credits))).reduce((s, x) => s + x, 0n);
        assert.equal(held + (await credits(f.contracts.StorageDeals)), startTotal, 'credits are conserved');
      }
      assert.ok((await read('totalClaimed')) > 0n);
    });
  });
});
