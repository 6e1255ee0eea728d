import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import fc from 'fast-check';
import { isDepinError } from './errors.ts';
import { buildRewardTree, loadRewardTree, type RewardEntry, verifyRewardProof } from './merkle.ts';

const ZERO_ROOT = `0x${'0'.repeat(64)}`;

const address = fc
  .uint8Array({ minLength: 20, maxLength: 20 })
  .map((b) => `0x${Buffer.from(b).toString('hex')}` as `0x${string}`);
const amount = fc.oneof(
  fc.bigInt({ min: 0n, max: 1n << 64n }),
  fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  fc.constantFrom(0n, (1n << 256n) - 1n),
);
const entries = (maxLength: number) =>
  fc.uniqueArray(fc.record({ account: address, amount }), { maxLength, selector: (e) => e.account });

function openZeppelin(list: RewardEntry[]) {
  return StandardMerkleTree.of(
    list.map((e) => [e.account, e.amount]),
    ['address', 'uint256'],
  );
}

function randomEntries(n: number, seed: number): RewardEntry[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return Array.from({ length: n }, () => {
    const bytes = Buffer.alloc(20);
    for (let i = 0; i < 20; i += 4) bytes.writeUInt32BE(next(), i);
    return {
      account: `0x${bytes.toString('hex')}` as `0x${string}`,
      amount: (BigInt(next()) << 64n) | (BigInt(next()) << 32n) | BigInt(next()),
    };
  });
}

test('gives the same root and proofs as @openzeppelin/merkle-tree for random sets', () => {
  fc.assert(
    fc.property(
      entries(80).filter((l) => l.length > 0),
      (list) => {
        const ours = buildRewardTree(list);
        const oz = openZeppelin(list);
        assert.equal(ours.root, oz.root);
        assert.equal(ours.leafCount, list.length);
        list.forEach((e, i) => {
          assert.deepEqual(ours.proof(e.account), oz.getProof(i));
        });
      },
    ),
    { numRuns: 150 },
  );
});

test('matches @openzeppelin/merkle-tree at sizes 1, 2, 3, powers of two and ~2000', () => {
  for (const n of [1, 2, 3, 4, 5, 15, 16, 17, 255, 256, 1023, 1024, 1025, 1999, 2048]) {
    const list = randomEntries(n, n);
    const ours = buildRewardTree(list);
    const oz = openZeppelin(list);
    assert.equal(ours.root, oz.root, `root for ${n} leaves`);
    for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 50))) {
      assert.deepEqual(ours.proof(list[i]!.account), oz.getProof(i), `proof ${i} of ${n}`);
    }
  }
});

test('gives a single leaf tree its leaf as root and an empty proof', () => {
  const [only] = randomEntries(1, 7);
  const tree = buildRewardTree([only!]);
  assert.deepEqual(tree.proof(only!.account), []);
  assert.equal(verifyRewardProof(tree.root, only!.account, only!.amount, []), true);
});

test('gives an empty set the zero root, under which nothing verifies', () => {
  const tree = buildRewardTree([]);
  assert.equal(tree.root, ZERO_ROOT);
  assert.equal(tree.leafCount, 0);
  assert.equal(tree.amountOf('0x1111111111111111111111111111111111111111'), undefined);
  assert.throws(
    () => tree.proof('0x1111111111111111111111111111111111111111'),
    (e) => isDepinError(e, 'MERKLE_UNKNOWN_ACCOUNT'),
  );
  assert.equal(verifyRewardProof(tree.root, '0x1111111111111111111111111111111111111111', 0n, []), false);
  assert.equal(loadRewardTree(tree.dump()).root, ZERO_ROOT);
});

test('verifies its own proofs and rejects a wrong amount, account or sibling', () => {
  const list = randomEntries(300, 3);
  const tree = buildRewardTree(list);
  for (const e of list.slice(0, 40)) {
    const proof = tree.proof(e.account);
    assert.equal(verifyRewardProof(tree.root, e.account, e.amount, proof), true);
    assert.equal(verifyRewardProof(tree.root, e.account, e.amount + 1n, proof), false);
    assert.equal(verifyRewardProof(tree.root, list[299]!.account, e.amount, proof), false);
    const bent = [...proof];
    bent[0] = `0x${'ab'.repeat(32)}`;
    assert.equal(verifyRewardProof(tree.root, e.account, e.amount, bent), false);
  }
  assert.equal(verifyRewardProof(tree.root, 'nonsense' as `0x${string}`, 1n, []), false);
  assert.equal(verifyRewardProof(tree.root, list[0]!.account, -1n, []), false);
});

test('finds accounts case-insensitively and reports their amounts', () => {
  const list = randomEntries(50, 11);
  const tree = buildRewardTree(list);
  const e = list[17]!;
  const upper = `0x${e.account.slice(2).toUpperCase()}` as `0x${string}`;
  assert.equal(tree.amountOf(upper), e.amount);
  assert.deepEqual(tree.proof(upper), tree.proof(e.account));
  assert.equal(tree.amountOf('0x000000000000000000000000000000000000dead'), undefined);
});

test('builds the same tree whatever the order of the entries', () => {
  const list = randomEntries(500, 5);
  const sorted = [...list].sort((a, b) => (a.account < b.account ? -1 : 1));
  const a = buildRewardTree(list);
  const b = buildRewardTree(sorted);
  assert.equal(a.root, b.root);
  assert.deepEqual(a.dump(), b.dump());
});

test('rejects a duplicate account, even in another letter case', () => {
  const list = randomEntries(20, 9);
  const dup = { account: list[4]!.account.toUpperCase().replace('0X', '0x') as `0x${string}`, amount: 1n };
  assert.throws(
    () => buildRewardTree([...list, dup]),
    (e) => isDepinError(e, 'MERKLE_DUPLICATE_ACCOUNT'),
  );
  const sorted = [...list].sort((a, b) => (a.account < b.account ? -1 : 1));
  assert.throws(
    () => buildRewardTree([sorted[0]!, sorted[0]!, ...sorted.slice(1)]),
    (e) => isDepinError(e, 'MERKLE_DUPLICATE_ACCOUNT'),
  );
});

test('rejects malformed accounts and amounts outside uint256', () => {
  const good = '0x1111111111111111111111111111111111111111' as const;
  for (const bad of [
    { account: '0x11' as `0x${string}`, amount: 1n },
    { account: `0x${'g'.repeat(40)}` as `0x${string}`, amount: 1n },
    { account: `0x${'1'.repeat(39)}\u0131` as `0x${string}`, amount: 1n },
    { account: good, amount: -1n },
    { account: good, amount: 1n << 256n },
    { account: good, amount: 5 as unknown as bigint },
  ]) {
    assert.throws(
      () => buildRewardTree([bad]),
      (e) => isDepinError(e, 'MERKLE_BAD_ENTRY'),
    );
  }
});

test('dumps to bytes and loads back a tree that serves the same proofs', () => {
  const list = randomEntries(777, 13);
  const tree = buildRewardTree(list);
  const bytes = tree.dump();
  for (const loaded of [loadRewardTree(bytes), loadRewardTree(bytes, { verify: true })]) {
    assert.equal(loaded.root, tree.root);
    assert.equal(loaded.leafCount, 777);
    for (const e of list.slice(0, 100)) {
      assert.deepEqual(loaded.proof(e.account), tree.proof(e.account));
      assert.equal(loaded.amountOf(e.account), e.amount);
    }
    assert.deepEqual(loaded.dump(), bytes);
  }
  // A Buffer at an odd offset (as read from a file) loads too.
  const shifted = Buffer.alloc(bytes.length + 1);
  shifted.set(bytes, 1);
  assert.equal(loadRewardTree(shifted.subarray(1)).root, tree.root);
});

test('refuses a truncated, corrupted or foreign dump', () => {
  const bytes = buildRewardTree(randomEntries(64, 21)).dump();
  const refuse = (b: Uint8Array, verify = false) =>
    assert.throws(
      () => loadRewardTree(b, { verify }),
      (e) => isDepinError(e, 'MERKLE_BAD_DUMP'),
    );
  refuse(bytes.subarray(0, bytes.length - 1));
  refuse(new Uint8Array(10));
  const flipped = Uint8Array.from(bytes);
  flipped[bytes.length - 5]! ^= 1;
  refuse(flipped);
  const foreign = Uint8Array.from(bytes);
  foreign[0] = 0;
  refuse(foreign);
});

test('refuses, with verify, a dump whose nodes were rewritten with a matching checksum', async () => {
  const { crc32 } = await import('node:zlib');
  const bytes = Uint8Array.from(buildRewardTree(randomEntries(64, 23)).dump());
  bytes[bytes.length - 1]! ^= 1; // a leaf node
  new DataView(bytes.buffer).setUint32(12, crc32(bytes.subarray(48)), true);
  assert.doesNotThrow(() => loadRewardTree(bytes));
  assert.throws(
    () => loadRewardTree(bytes, { verify: true }),
    (e) => isDepinError(e, 'MERKLE_BAD_DUMP'),
  );
});

test('handles accounts ground to share a long prefix, in any order', () => {
  const list = randomEntries(200, 31).map((e, i) => ({
    account: `0x00000000000000${e.account.slice(16)}` as `0x${string}`,
    amount: BigInt(i),
  }));
  const tree = buildRewardTree(list.reverse());
  assert.equal(tree.root, openZeppelin(list).root);
  for (const e of list.slice(0, 20)) assert.equal(tree.amountOf(e.account), e.amount);
});

test('builds big trees on two threads with the same root and proofs as OpenZeppelin and as one thread', () => {
  const list = randomEntries(20_011, 41);
  const two = buildRewardTree(list);
  const one = buildRewardTree(list, { threads: 1 });
  const oz = openZeppelin(list);
  assert.equal(two.root, oz.root);
  assert.deepEqual(two.dump(), one.dump());
  for (let i = 0; i < list.length; i += 997) assert.deepEqual(two.proof(list[i]!.account), oz.getProof(i));
  for (let k = 0; k < 3; k++) assert.equal(buildRewardTree(list).root, oz.root);
});
