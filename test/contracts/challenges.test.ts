import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import {
  bytesToHex,
  encodePacked,
  type Hex,
  hashTypedData,
  keccak256,
  parseEventLogs,
  toBytes,
  toHex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { challengesAbi, registryAbi, storageDealsAbi, tokenAbi } from '../../src/chain/abi/index.ts';
import { chunkProof, pieceRoot as pieceRootOf } from '../../src/storage/client/pieces.ts';
import {
  approveToken,
  buyCredits,
  createFixture,
  E18,
  type Fixture,
  rejectsWithCode,
  tokenBalance,
} from './fixture.ts';

// devnetSettings: CHALLENGE_DEPOSIT 1 DPN, CHALLENGE_WINDOW 30 s, SLASH_LOST_PIECE 20 DPN,
// CHALLENGE_REWARD_BPS 2500; a storage node stakes base 100 + storage 100 DPN.
const DEPOSIT = E18;
const WINDOW = 30;
const SLASH = 20n * E18;
const REWARD = (SLASH * 2500n) / 10_000n;
const STAKE = 200n * E18;
const OPERATOR = 4; // the node's account (stake, payouts)
const SIGNER = 14; // the node's registered signing key (receipts)
const CLIENT = 10;
const CHALLENGER = 5;

const PIECE_RECEIPT_TYPES = {
  PieceReceipt: [
    { name: 'node', type: 'address' },
    { name: 'pieceId', type: 'bytes32' },
    { name: 'pieceRoot', type: 'bytes32' },
    { name: 'size', type: 'uint64' },
    { name: 'storedAt', type: 'uint64' },
  ],
} as const;

type Receipt = { node: Hex; pieceId: Hex; pieceRoot: Hex; size: bigint; storedAt: bigint };

/** A piece committed the way nodes commit it (src/storage/client/pieces.ts, docs/storage.md §5). */
function makePiece(bytes: Uint8Array, fileId: Hex, index: number) {
  const pieceRoot = pieceRootOf(bytes);
  const pieceId = keccak256(
    encodePacked(['bytes32', 'uint32', 'uint16', 'bytes32'], [fileId, 0, index, pieceRoot]),
  );
  return {
    pieceId,
    pieceRoot,
    size: BigInt(bytes.length),
    chunk: (i: number) => bytesToHex(chunkProof(bytes, i).chunk),
    proof: (i: number) => chunkProof(bytes, i).proof,
  };
}

describe('Challenges', () => {
  let f: Fixture;
  let snap: Hex;
  const fileId = toHex(randomBytes(32));
  const pieces = [0, 1, 2, 3].map((i) => makePiece(randomBytes(2500 + 700 * i), fileId, i));
  const piece = pieces[1]!; // 3,200 bytes: chunks 0..3
  // The deal root: an OpenZeppelin StandardMerkleTree over [pieceId] with bytes32 leaves.
  const dealTree = StandardMerkleTree.of(
    pieces.map((p) => [p.pieceId]),
    ['bytes32'],
  );
  const outsider = makePiece(randomBytes(2048), fileId, 9);
  let dealId: bigint;
  let receipt: Receipt;

  const address = (i: number) => f.accounts[i]!.address;
  const signReceipt = (who: number, r: Receipt) =>
    privateKeyToAccount(f.accounts[who]!.privateKey).signTypedData({
      domain: {
        name: 'depin',
        version: '1',
        chainId: f.devnet.chainId,
        verifyingContract: f.contracts.Registry,
      },
      types: PIECE_RECEIPT_TYPES,
      primaryType: 'PieceReceipt',
      message: r,
    });
  const dealProof = (pieceId: Hex) => dealTree.getProof([pieceId]) as Hex[];

  before(async () => {
    f = await createFixture();
    await approveToken(f, OPERATOR, f.contracts.Registry);
    await f.as(OPERATOR).write({
      address: f.contracts.Registry,
      abi: registryAbi,
      functionName: 'register',
      args: [
        {
          signer: address(SIGNER),
          services: 1,
          capacity: 1n << 40n,
          h3: 0n,
          region: toHex('eu-west', { size: 8 }),
          prices: [1n, 1n, 1n],
          endpoint: 'http://127.0.0.1:7004',
        },
        STAKE,
      ],
    });
    await buyCredits(f, CLIENT, 10n * E18);
    const created = await f.as(CLIENT).write({
      address: f.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'createDeal',
      args: [dealTree.root as Hex, 16_000n, pieces.length, 100, 10n, false],
    });
    dealId = parseEventLogs({ abi: storageDealsAbi, logs: created.logs, eventName: 'DealCreated' })[0]!.args
      .dealId;
    receipt = {
      node: address(OPERATOR),
      pieceId: piece.pieceId,
      pieceRoot: piece.pieceRoot,
      size: piece.size,
      storedAt: await f.now(),
    };
    await approveToken(f, CHALLENGER, f.contracts.Challenges);
  });
  after(() => f.close());
  beforeEach(async () => {
    snap = await f.snapshot();
  });
  afterEach(async () => {
    await f.revert(snap);
  });

  const challenge = async (
    over: {
      receipt?: Receipt;
      signature?: Hex;
      proof?: Hex[];
      chunkIndex?: number;
      deal?: bigint;
      who?: number;
    } = {},
  ) => {
    const r = over.receipt ?? receipt;
    return f.as(over.who ?? CHALLENGER).write({
      address: f.contracts.Challenges,
      abi: challengesAbi,
      functionName: 'challenge',
      args: [
        over.deal ?? dealId,
        r,
        over.proof ?? dealProof(r.pieceId),
        over.chunkIndex ?? 2,
        over.signature ?? (await signReceipt(SIGNER, r)),
      ],
    });
  };
  /** Opens the default challenge (chunk 2 of `piece`) and returns its id. */
  const open = async (chunkIndex = 2) => {
    const tx = await challenge({ chunkIndex });
    return parseEventLogs({ abi: challengesAbi, logs: tx.logs, eventName: 'ChallengeOpened' })[0]!.args;
  };
  const respond = (id: bigint, chunk: Hex, proof: Hex[], who = OPERATOR) =>
    f.as(who).write({
      address: f.contracts.Challenges,
      abi: challengesAbi,
      functionName: 'respond',
      args: [id, chunk, proof],
    });
  const expire = (id: bigint, who = 6) =>
    f
      .as(who)
      .write({ address: f.contracts.Challenges, abi: challengesAbi, functionName: 'expire', args: [id] });
  const getChallenge = (id: bigint) =>
    f.public.readContract({
      address: f.contracts.Challenges,
      abi: challengesAbi,
      functionName: 'getChallenge',
      args: [id],
    });
  const stakeOf = async (i: number) =>
    (
      await f.public.readContract({
        address: f.contracts.Registry,
        abi: registryAbi,
        functionName: 'getNode',
        args: [address(i)],
      })
    ).stake;
  const supply = () =>
    f.public.readContract({ address: f.contracts.Token, abi: tokenAbi, functionName: 'totalSupply' });

  test('signs receipts under the HTTP messages domain: the digest is what viem hashes', async () => {
    const digest = await f.public.readContract({
      address: f.contracts.Challenges,
      abi: challengesAbi,
      functionName: 'receiptDigest',
      args: [receipt],
    });
    const expected = hashTypedData({
      domain: {
        name: 'depin',
        version: '1',
        chainId: f.devnet.chainId,
        verifyingContract: f.contracts.Registry,
      },
      types: PIECE_RECEIPT_TYPES,
      primaryType: 'PieceReceipt',
      message: receipt,
    });
    assert.equal(digest, expected);
  });

  test('a challenge answered with the right chunk in time pays the deposit to the node and slashes nothing', async () => {
    const before = {
      challenger: await tokenBalance(f, address(CHALLENGER)),
      node: await tokenBalance(f, address(OPERATOR)),
    };
    const opened = await open(2);
    assert.equal(opened.node, address(OPERATOR));
    assert.equal(opened.pieceId, piece.pieceId);
    assert.equal(opened.deposit, DEPOSIT);
    assert.equal(await tokenBalance(f, address(CHALLENGER)), before.challenger - DEPOSIT);
    assert.equal(await tokenBalance(f, f.contracts.Challenges), DEPOSIT);

    const tx = await respond(opened.id, piece.chunk(2), piece.proof(2));
    const [answered] = parseEventLogs({ abi: challengesAbi, logs: tx.logs, eventName: 'ChallengeAnswered' });
    assert.deepEqual({ ...answered!.args }, { id: opened.id, node: address(OPERATOR), deposit: DEPOSIT });
    assert.equal(await tokenBalance(f, address(OPERATOR)), before.node + DEPOSIT);
    assert.equal(await stakeOf(OPERATOR), STAKE);
    assert.equal((await getChallenge(opened.id)).status, 2);
    await rejectsWithCode(respond(opened.id, piece.chunk(2), piece.proof(2)), 'CHALLENGE_NOT_OPEN');
    await f.increaseTime(WINDOW + 1);
    const e = await rejectsWithCode(expire(opened.id), 'CHALLENGE_NOT_OPEN');
    assert.deepEqual(e.details, { id: opened.id.toString(), status: 2 });
    assert.equal(await stakeOf(OPERATOR), STAKE);
  });

  test('the last, zero-padded chunk answers too, and anyone may relay the answer', async () => {
    const last = Number((piece.size + 1023n) / 1024n) - 1;
    const { id } = await open(last);
    const nodeBefore = await tokenBalance(f, address(OPERATOR));
    await respond(id, piece.chunk(last), piece.proof(last), 8);
    assert.equal(await tokenBalance(f, address(OPERATOR)), nodeBefore + DEPOSIT);
  });

  test('an unanswered challenge slashes the node after the deadline and pays the challenger', async () => {
    const { id, deadline } = await open();
    const early = await rejectsWithCode(expire(id), 'DEADLINE_NOT_PASSED');
    assert.equal(early.details.deadline, deadline.toString());
    const [challengerBefore, supplyBefore] = [await tokenBalance(f, address(CHALLENGER)), await supply()];
    await f.increaseTime(WINDOW + 1);
    const late = await rejectsWithCode(respond(id, piece.chunk(2), piece.proof(2)), 'DEADLINE_PASSED');
    assert.equal(late.details.deadline, deadline.toString());

    const tx = await expire(id);
    const [expired] = parseEventLogs({ abi: challengesAbi, logs: tx.logs, eventName: 'ChallengeExpired' });
    assert.deepEqual(
      { ...expired!.args },
      { id, node: address(OPERATOR), challenger: address(CHALLENGER), slashed: SLASH, reward: REWARD },
    );
    const [slashed] = parseEventLogs({ abi: registryAbi, logs: tx.logs, eventName: 'Slashed' });
    assert.equal(slashed!.args.reason, keccak256(toBytes('LOST_PIECE')));
    assert.equal(await stakeOf(OPERATOR), STAKE - SLASH);
    // Deposit back plus a quarter of the slash; the rest of the slash is burned.
    assert.equal(await tokenBalance(f, address(CHALLENGER)), challengerBefore + DEPOSIT + REWARD);
    assert.equal(await supply(), supplyBefore - (SLASH - REWARD));
    assert.equal(await tokenBalance(f, f.contracts.Challenges), 0n);
    assert.equal((await getChallenge(id)).status, 3);
    await rejectsWithCode(expire(id), 'CHALLENGE_NOT_OPEN');
  });

  test('refuses a wrong chunk, another chunk, a wrong proof, or a chunk of the wrong length', async () => {
    const { id } = await open(2);
    const forged = toBytes(piece.chunk(2));
    forged[17]! ^= 1;
    const e = await rejectsWithCode(respond(id, bytesToHex(forged), piece.proof(2)), 'INVALID_CHUNK_PROOF');
    assert.equal(e.details.id, id.toString());
    // Chunk 1 with its own valid proof: the index is inside the leaf, so it does not answer for 2.
    await rejectsWithCode(respond(id, piece.chunk(1), piece.proof(1)), 'INVALID_CHUNK_PROOF');
    await rejectsWithCode(respond(id, piece.chunk(2), piece.proof(1)), 'INVALID_CHUNK_PROOF');
    await rejectsWithCode(respond(id, piece.chunk(2), []), 'INVALID_CHUNK_PROOF');
    // Another piece's chunk 2 with its proof against that piece's root.
    await rejectsWithCode(respond(id, pieces[2]!.chunk(2), pieces[2]!.proof(2)), 'INVALID_CHUNK_PROOF');
    const short = await rejectsWithCode(
      respond(id, piece.chunk(2).slice(0, -2) as Hex, piece.proof(2)),
      'BAD_CHUNK_LENGTH',
    );
    assert.equal(short.details.length, '1023');
    assert.equal((await getChallenge(id)).status, 1);
    await respond(id, piece.chunk(2), piece.proof(2));
  });

  test('refuses a challenge on a piece not in the deal, a chunk beyond the piece, or an inactive deal', async () => {
    const r = { ...receipt, pieceId: outsider.pieceId, pieceRoot: outsider.pieceRoot, size: outsider.size };
    const e = await rejectsWithCode(
      challenge({ receipt: r, proof: dealProof(piece.pieceId) }),
      'PIECE_NOT_IN_DEAL',
    );
    assert.deepEqual(e.details, { dealId: dealId.toString(), pieceId: outsider.pieceId });
    await rejectsWithCode(challenge({ proof: dealProof(pieces[0]!.pieceId) }), 'PIECE_NOT_IN_DEAL');
    const range = await rejectsWithCode(challenge({ chunkIndex: 4 }), 'CHUNK_OUT_OF_RANGE');
    assert.deepEqual(range.details, { chunkIndex: 4, chunks: '4' });
    await rejectsWithCode(challenge({ deal: 99n }), 'DEAL_NOT_ACTIVE');
    // Once the client terminates, its pieces can no longer be challenged.
    await f.as(CLIENT).write({
      address: f.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'terminate',
      args: [dealId],
    });
    await rejectsWithCode(challenge(), 'DEAL_NOT_ACTIVE');
  });

  test('refuses a forged receipt: another key, altered fields, or a node never registered', async () => {
    // Signed by the operator's account key, not the node's registered signer.
    const byOperator = await rejectsWithCode(
      challenge({ signature: await signReceipt(OPERATOR, receipt) }),
      'INVALID_RECEIPT',
    );
    assert.equal(byOperator.details.recovered, address(OPERATOR));
    // A genuine signature over a smaller size, replayed with the size the challenger wants.
    const genuine = await signReceipt(SIGNER, { ...receipt, size: 1024n });
    await rejectsWithCode(challenge({ signature: genuine }), 'INVALID_RECEIPT');
    await rejectsWithCode(challenge({ signature: `${genuine.slice(0, -2)}` as Hex }), 'INVALID_RECEIPT');
    const stranger = { ...receipt, node: address(16) };
    await rejectsWithCode(
      challenge({ receipt: stranger, signature: await signReceipt(16, stranger) }),
      'UNKNOWN_NODE',
    );
    assert.equal(
      await f.public.readContract({
        address: f.contracts.Challenges,
        abi: challengesAbi,
        functionName: 'challengeCount',
      }),
      0n,
    );
  });

  test('a challenger without an approved deposit cannot open a challenge', async () => {
    await rejectsWithCode(challenge({ who: 7 }), 'ERC20_INSUFFICIENT_ALLOWANCE');
  });
});
