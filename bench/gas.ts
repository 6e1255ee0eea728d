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
 * Storage cases run first, with the same 3 validators: a term deal on a warm contract (not the first
 * deal), a payments root at quorum 3 (not the first root), a first Credits claim at depth 10 (real
 * 1,024-account tree), a challenge on a piece of a 16-piece deal (not the first challenge), and the
 * answer for an 8 MiB piece (a 64 MiB segment at k = 8: 8,192 chunks, a depth-13 proof, synthetic
 * like the depth-20 claim).
 *
 * Usage: npm run bench -- gas
 */

import { randomBytes } from 'node:crypto';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import {
  concatHex,
  encodeAbiParameters,
  encodePacked,
  type Hex,
  keccak256,
  maxUint256,
  sha256,
  type TransactionReceipt,
  toHex,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  challengesAbi,
  creditsAbi,
  paramsAbi,
  registryAbi,
  rewardsAbi,
  storageDealsAbi,
  tokenAbi,
  validatorsAbi,
} from '../src/chain/abi/index.ts';
import { paramKey } from '../src/chain/deploy.ts';
import { devAccounts } from '../src/chain/devAccounts.ts';
import { actionsHash, signSettlement } from '../src/storage/validator/settlementSignature.ts';
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
    await joinValidators(f, 0, 3);
    await measureStorage(f, measure);
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

/** Dev accounts 20+from .. 20+to join the validator set. */
async function joinValidators(f: Fixture, from: number, to: number) {
  for (const [i, a] of f.accounts.slice(20 + from, 20 + to).entries()) {
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
}

/** Needs: account 3 registered as a storage node signing with its own key, account 5 holding credits. */
async function measureStorage(f: Fixture, measure: Measure) {
  const validators = f.accounts.slice(20, 23);
  const client = f.as(5);
  const pieceIds = Array.from({ length: 16 }, () => toHex(randomBytes(32)));
  const dealTree = StandardMerkleTree.of(
    pieceIds.map((id) => [id]),
    ['bytes32'],
  );
  const createDeal = () =>
    client.write({
      address: f.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'createDeal',
      args: [dealTree.root as Hex, 128n << 20n, 16, 1000, 100n, false],
    });
  await createDeal(); // the first deal ever sets the totals from zero: not the steady state
  await measure('storage.createDeal', createDeal);

  let epoch = BigInt(await readStorage(f, 'currentEpoch'));
  await f.increaseTime(10 * f.deployment.settings.epochLength);
  const post = async (root: Hex, total: bigint) => {
    const prevStateHash = await readStorage(f, 'stateHash');
    const fields = {
      epoch: epoch++,
      root,
      total,
      prevStateHash,
      stateHash: root,
      actionsHash: actionsHash([]),
    };
    const signed = await Promise.all(
      validators.map(async (a) => {
        const account = privateKeyToAccount(a.privateKey);
        const quorum = { chainId: f.devnet.chainId, validators: f.contracts.Validators };
        return { signer: account.address, signature: await signSettlement(account, quorum, fields) };
      }),
    );
    return f.as(6).write({
      address: f.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'settle',
      args: [fields.epoch, fields.root, fields.total, fields.stateHash, [], packSignatures(signed)],
    });
  };
  await post(toHex(randomBytes(32)), 10n); // the first root ever: not the steady state
  const claimant = privateKeyToAccount(generatePrivateKey()).address;
  const entries: [Hex, bigint][] = [[claimant, 50n]];
  while (entries.length < 1024) entries.push([privateKeyToAccount(generatePrivateKey()).address, 1n]);
  const tree = StandardMerkleTree.of(entries, ['address', 'uint256']);
  await measure('storage.settle.quorum3', () => post(tree.root as Hex, 50n + 1023n));
  const proof = tree.getProof([claimant, 50n]) as Hex[];
  await measure('storage.claimCredits', () =>
    f.as(6).write({
      address: f.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'claimCredits',
      args: [claimant, 50n, proof],
    }),
  );

  // Challenges: account 3 is a storage node whose signer is its own key; account 6 challenges.
  await f.as(6).write({
    address: f.contracts.Token,
    abi: tokenAbi,
    functionName: 'approve',
    args: [f.contracts.Challenges, maxUint256],
  });
  const node = privateKeyToAccount(f.accounts[3]!.privateKey);
  const chunks = 8192;
  const chunkIndex = 4321;
  const chunk = toHex(randomBytes(1024));
  const path = syntheticChunkPath(chunkIndex, chunk, 13);
  const receipt = {
    node: node.address,
    pieceId: pieceIds[7]!,
    pieceRoot: path.root,
    size: BigInt(chunks * 1024),
    storedAt: await f.now(),
  };
  const signature = await node.signTypedData({
    domain: {
      name: 'depin',
      version: '1',
      chainId: f.devnet.chainId,
      verifyingContract: f.contracts.Registry,
    },
    types: {
      PieceReceipt: [
        { name: 'node', type: 'address' },
        { name: 'pieceId', type: 'bytes32' },
        { name: 'pieceRoot', type: 'bytes32' },
        { name: 'size', type: 'uint64' },
        { name: 'storedAt', type: 'uint64' },
      ],
    },
    primaryType: 'PieceReceipt',
    message: receipt,
  });
  const dealId = await readStorage(f, 'dealCount');
  const open = () =>
    f.as(6).write({
      address: f.contracts.Challenges,
      abi: challengesAbi,
      functionName: 'challenge',
      args: [dealId, receipt, dealTree.getProof([receipt.pieceId]) as Hex[], chunkIndex, signature],
    });
  await open(); // the first challenge ever sets the counter from zero
  await measure('challenge.open', open);
  const id = await f.public.readContract({
    address: f.contracts.Challenges,
    abi: challengesAbi,
    functionName: 'challengeCount',
  });
  await measure('challenge.respond', () =>
    f.as(3).write({
      address: f.contracts.Challenges,
      abi: challengesAbi,
      functionName: 'respond',
      args: [id, chunk, path.proof],
    }),
  );
  await open();
  await f.increaseTime(
    await f.public.readContract({
      address: f.contracts.Params,
      abi: paramsAbi,
      functionName: 'get',
      args: [paramKey('CHALLENGE_WINDOW')],
    }),
  );
  await measure('challenge.expire', () =>
    f.as(6).write({
      address: f.contracts.Challenges,
      abi: challengesAbi,
      functionName: 'expire',
      args: [id + 1n],
    }),
  );
  await measure('storage.terminate', () =>
    client.write({
      address: f.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'terminate',
      args: [dealId],
    }),
  );
}

function readStorage<N extends 'currentEpoch' | 'dealCount' | 'stateHash'>(f: Fixture, functionName: N) {
  return f.public.readContract({ address: f.contracts.StorageDeals, abi: storageDealsAbi, functionName });
}

/** A proof of `depth` random siblings for chunk `index` and the piece root it implies (sorted pairs). */
function syntheticChunkPath(index: number, chunk: Hex, depth: number): { root: Hex; proof: Hex[] } {
  let node = sha256(encodePacked(['uint32', 'bytes'], [index, chunk])); // the leaf (docs/storage.md §5)
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

async function measureRewards(f: Fixture, measure: Measure) {
  const extra = f.accounts.slice(20, 20 + EXTRA);
  const join = (from: number, to: number) => joinValidators(f, from, to);
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

  members = 3; // joined before the storage cases
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
