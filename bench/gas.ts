/**
 * Gas of the calls that operators, validators and users make most, each measured as the
 * `gasUsed` of a real transaction on the embedded devnet (Prague rules). Prints one JSON line per case.
 *
 * Quorum cases: N validators of equal stake, all N signing (the usual case), on a warm contract
 * (not the first root ever posted). Claim cases: the proof length sets the cost, so the depth-20
 * proof is a random sibling path whose root is computed bottom-up (a 2^20-leaf tree would take
 * minutes to build and give the same gas); depth 10 uses a real 1,024-leaf OpenZeppelin tree.
 * "first" is an account's first claim, paid to an address that holds no Token yet, with the pool
 * already minted; "repeat" is the same account claiming the next epoch's delta.
 *
 * Usage: npm run bench -- gas
 */
import { randomBytes } from 'node:crypto';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import {
  concatHex,
  encodeAbiParameters,
  type Hex,
  keccak256,
  maxUint256,
  type TransactionReceipt,
  toHex,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { creditsAbi, registryAbi, rewardsAbi, tokenAbi, validatorsAbi } from '../src/chain/abi/index.ts';
import { devAccounts } from '../src/chain/devAccounts.ts';
import {
  createFixture,
  E18,
  type Fixture,
  packSignatures,
  signEpochRoot,
} from '../test/contracts/fixture.ts';
import { report } from './report.ts';

const VALIDATOR_STAKE = 1000n * E18;
const EXTRA = 50; // dev accounts 20..69: the validators of the quorum cases

type Case = { name: string; gas: bigint };

export async function main(_args: string[] = []): Promise<Case[]> {
  const extra = devAccounts(20 + EXTRA).slice(20);
  const f = await createFixture({
    accounts: EXTRA,
    allocations: extra.map((a) => ({ address: a.address, amount: 10_000n * E18 })),
  });
  const cases: Case[] = [];
  // Each measured transaction gets a block time of its own, as on a live chain: ERC20Votes then
  // pushes a new supply checkpoint instead of updating one written in the same second.
  const measure = async (name: string, send: () => Promise<TransactionReceipt>) => {
    await f.increaseTime(1);
    const receipt = await send();
    cases.push({ name, gas: receipt.gasUsed });
    report({ bench: 'gas', case: name, value: Number(receipt.gasUsed), unit: 'gas' });
  };
  try {
    await measureToken(f, measure);
    await measureRegistry(f, measure);
    await measureCredits(f, measure);
    await measureRewards(f, measure);
  } finally {
    await f.close();
  }
  return cases;
}

type Measure = (name: string, send: () => Promise<TransactionReceipt>) => Promise<void>;

async function measureToken(f: Fixture, measure: Measure) {
  const fresh = privateKeyToAccount(generatePrivateKey()).address;
  const transfer = (to: Hex) =>
    f.as(1).write({ address: f.contracts.Token, abi: tokenAbi, functionName: 'transfer', args: [to, E18] });
  await measure('transfer.newHolder', () => transfer(fresh));
  await measure('transfer.holder', () => transfer(f.accounts[2]!.address));
}

async function measureRegistry(f: Fixture, measure: Measure) {
  const operator = f.as(3);
  await operator.write({
    address: f.contracts.Token,
    abi: tokenAbi,
    functionName: 'approve',
    args: [f.contracts.Registry, maxUint256],
  });
  const node = {
    signer: f.accounts[3]!.address,
    services: 1,
    capacity: 1n << 40n,
    h3: 0x8a2a1072b59ffffn,
    region: toHex('eu-west', { size: 8 }),
    prices: [10n, 5n, 1n] as const,
    endpoint: 'https://node-3.example.net:7001',
  };
  await measure('register', () =>
    operator.write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'register',
      args: [node, 200n * E18],
    }),
  );
  await measure('stake', () =>
    operator.write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'stake',
      args: [100n * E18],
    }),
  );
}

async function measureCredits(f: Fixture, measure: Measure) {
  for (const i of [4, 5]) {
    await f.as(i).write({
      address: f.contracts.Token,
      abi: tokenAbi,
      functionName: 'approve',
      args: [f.contracts.Credits, maxUint256],
    });
  }
  const mint = (i: number) =>
    f.as(i).write({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'mint',
      args: [f.accounts[i]!.address, 10n * E18, 0n],
    });
  await mint(5); // someone minted before: credits' total supply is not zero
  await measure('credits.mint', () => mint(4));
  await measure('credits.redeem', () =>
    f.as(4).write({
      address: f.contracts.Credits,
      abi: creditsAbi,
      functionName: 'redeem',
      args: [100_000n, f.accounts[4]!.address, 0n],
    }),
  );
}

async function measureRewards(f: Fixture, measure: Measure) {
  const extra = f.accounts.slice(20, 20 + EXTRA);
  const join = async (from: number, to: number) => {
    for (const [i, a] of extra.slice(from, to).entries()) {
      await f.as(a.privateKey).write({
        address: f.contracts.Token,
        abi: tokenAbi,
        functionName: 'approve',
        args: [f.contracts.Validators, maxUint256],
      });
      await f.as(a.privateKey).write({
        address: f.contracts.Validators,
        abi: validatorsAbi,
        functionName: 'join',
        args: [VALIDATOR_STAKE, `http://10.0.0.${from + i}:9000`],
      });
    }
  };
  let members = 0;
  let epoch = 0n;
  const post = async (rewardsRoot: Hex, total: bigint) => {
    const root = { epoch, rewardsRoot, evidenceRoot: keccak256(toHex(`evidence ${epoch}`)), total };
    epoch++;
    const signed = await Promise.all(
      extra
        .slice(0, members)
        .map((a) => signEpochRoot(a.privateKey, f.devnet.chainId, f.contracts.Validators, root)),
    );
    return f.as(6).write({
      address: f.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'postRoot',
      args: [root.epoch, root.rewardsRoot, root.evidenceRoot, root.total, packSignatures(signed)],
    });
  };
  const randomRoot = () => toHex(randomBytes(32));
  const mintPending = () =>
    f.as(6).write({ address: f.contracts.Rewards, abi: rewardsAbi, functionName: 'mintPending', args: [] });
  const claim = (account: Hex, cumulative: bigint, proof: Hex[]) =>
    f.as(6).write({
      address: f.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'claim',
      args: [account, cumulative, proof],
    });

  await join(0, 3);
  members = 3;
  await f.increaseTime(100 * f.deployment.settings.epochLength);
  await post(randomRoot(), E18); // the first root ever sets storage from zero: not the steady state
  await measure('postRoot.quorum3', () => post(randomRoot(), E18));
  await join(3, 10);
  members = 10;
  await measure('postRoot.quorum10', () => post(randomRoot(), E18));
  await join(10, 50);
  members = 50;
  await measure('postRoot.quorum50', () => post(randomRoot(), E18));
  members = 34; // two thirds of 50: enough for the roots the claims need

  // depth 10: a real OpenZeppelin tree of 1,024 accounts.
  const claimant10 = privateKeyToAccount(generatePrivateKey()).address;
  const entries: [Hex, bigint][] = [[claimant10, 5n * E18]];
  while (entries.length < 1024) entries.push([privateKeyToAccount(generatePrivateKey()).address, E18]);
  const tree = StandardMerkleTree.of(entries, ['address', 'uint256']);
  await post(tree.root as Hex, 100n * E18);
  await mintPending();
  const proof10 = tree.getProof([claimant10, 5n * E18]) as Hex[];
  if (proof10.length !== 10) throw new Error(`depth ${proof10.length}, expected 10`);
  await measure('claim.depth10.first', () => claim(claimant10, 5n * E18, proof10));

  // depth 20: a random path of 20 siblings.
  const claimant20 = privateKeyToAccount(generatePrivateKey()).address;
  const path1 = syntheticPath(claimant20, 7n * E18, 20);
  await post(path1.root, 100n * E18);
  await measure('mintPending', () => mintPending());
  await measure('claim.depth20.first', () => claim(claimant20, 7n * E18, path1.proof));
  const path2 = syntheticPath(claimant20, 9n * E18, 20);
  await post(path2.root, 100n * E18);
  await mintPending();
  await measure('claim.depth20.repeat', () => claim(claimant20, 9n * E18, path2.proof));

  // The claim that finds the pool short mints every pending allocation on the way.
  const claimant = privateKeyToAccount(generatePrivateKey()).address;
  const pool = await f.public.readContract({
    address: f.contracts.Token,
    abi: tokenAbi,
    functionName: 'balanceOf',
    args: [f.contracts.Rewards],
  });
  const big = pool + E18;
  const path3 = syntheticPath(claimant, big, 20);
  await post(path3.root, big);
  await measure('claim.depth20.firstWithMint', () => claim(claimant, big, path3.proof));
}

/** A proof of `depth` random siblings for (account, amount) and the root it implies (sorted pairs). */
export function syntheticPath(account: Hex, amount: bigint, depth: number): { root: Hex; proof: Hex[] } {
  let node = keccak256(
    keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [account, amount])),
  );
  const proof: Hex[] = [];
  for (let i = 0; i < depth; i++) {
    const sibling = toHex(randomBytes(32));
    proof.push(sibling);
    node = keccak256(
      BigInt(node) < BigInt(sibling) ? concatHex([node, sibling]) : concatHex([sibling, node]),
    );
  }
  return { root: node, proof };
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
