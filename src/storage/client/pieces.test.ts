import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { bytesToHex, concat, encodePacked, type Hex, keccak256, numberToBytes } from 'viem';
import { isDepinError } from '../../core/errors.ts';
import { chunkLeaf, chunkLeaves } from './chunkLeaves.ts';
import { createFileId } from './fileId.ts';
import { CHUNK_SIZE, chunkCount, chunkProof, pieceId, pieceRoot, verifyChunk } from './pieces.ts';

const hasCode = (code: string) => (error: unknown) => isDepinError(error, code);

/**
 * The reference, written from docs/storage.md §5 alone: leaves sha256(uint32be(i) ‖ chunk) by
 * createHash, the last chunk zero-padded; node p of the 2m − 1 heap is leaf p − (m − 1) or
 * keccak256 (viem) of its sorted children; a proof is the siblings from leaf i's node upwards.
 */
function referenceTree(piece: Uint8Array): { root: Hex; getProof(index: number): Hex[] } {
  const m = chunkCount(piece.length);
  const leaves = Array.from({ length: m }, (_, i) => {
    const chunk = new Uint8Array(CHUNK_SIZE);
    chunk.set(piece.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE));
    return bytesToHex(
      createHash('sha256')
        .update(numberToBytes(i, { size: 4 }))
        .update(chunk)
        .digest(),
    );
  });
  const nodes: Hex[] = new Array(2 * m - 1);
  for (let p = 2 * m - 2; p >= 0; p--) {
    if (p >= m - 1) nodes[p] = leaves[p - (m - 1)]!;
    else {
      const [a, b] = [nodes[2 * p + 1]!, nodes[2 * p + 2]!].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
      nodes[p] = keccak256(concat([a!, b!]));
    }
  }
  return {
    root: nodes[0]!,
    getProof(index) {
      const proof: Hex[] = [];
      for (let p = m - 1 + index; p > 0; p = (p - 1) >> 1) proof.push(nodes[p % 2 === 1 ? p + 1 : p - 1]!);
      return proof;
    },
  };
}

const pieces = fc.uint8Array({ minLength: 1, maxLength: 12 * CHUNK_SIZE });

test('the leaves are sha256(uint32be(i) ‖ chunk), all four index bytes included', () => {
  for (const index of [0, 1, 0xff, 0x100, 0x01020304, 0xfffffffe]) {
    const chunk = randomBytes(CHUNK_SIZE);
    const out = new Uint8Array(64);
    chunkLeaves(chunk, 0, index, 1, out, 32);
    const expected = createHash('sha256')
      .update(numberToBytes(index, { size: 4 }))
      .update(chunk)
      .digest();
    assert.deepEqual(Buffer.from(out.subarray(32)), expected, `index ${index}`);
    assert.deepEqual(Buffer.from(chunkLeaf(index, chunk)), expected, `index ${index}, on its own`);
    assert.deepEqual(out.subarray(0, 32), new Uint8Array(32), 'writes only its leaf');
  }
});

test('the piece root is the sorted-pair tree root over the index-bound chunk leaves in index order, last chunk zero-padded', () => {
  fc.assert(
    fc.property(pieces, (piece) => {
      assert.equal(pieceRoot(piece), referenceTree(piece).root);
    }),
    { numRuns: 60 },
  );
  for (const size of [1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 64 * CHUNK_SIZE + 64]) {
    const piece = randomBytes(size);
    assert.equal(pieceRoot(piece), referenceTree(piece).root, `size ${size}`);
  }
});

test('zero bytes appended inside the last chunk keep the root (orders and the manifest bind the size)', () => {
  const piece = randomBytes(1500);
  const padded = new Uint8Array(2048);
  padded.set(piece);
  assert.equal(pieceRoot(piece), pieceRoot(padded));
  assert.notEqual(pieceRoot(piece), pieceRoot(new Uint8Array([...padded, 0])));
});

test('every chunk proof is the reference proof and verifies', () => {
  fc.assert(
    fc.property(pieces, fc.nat(), (piece, pick) => {
      const index = pick % chunkCount(piece.length);
      const { chunk, proof } = chunkProof(piece, index);
      const reference = referenceTree(piece);
      assert.equal(chunk.length, CHUNK_SIZE);
      assert.deepEqual(
        chunk.subarray(0, piece.length - index * CHUNK_SIZE),
        piece.subarray(index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE),
      );
      assert.deepEqual(proof, reference.getProof(index));
      assert.ok(verifyChunk(reference.root as Hex, index, chunk, proof));
    }),
    { numRuns: 60 },
  );
});

test('a chunk proof does not verify for another index, changed bytes, a changed proof or another root', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 2 * CHUNK_SIZE + 1, maxLength: 9 * CHUNK_SIZE }),
      fc.nat(),
      fc.nat(),
      (piece, pick, where) => {
        const chunks = chunkCount(piece.length);
        const index = pick % chunks;
        const root = pieceRoot(piece);
        const { chunk, proof } = chunkProof(piece, index);
        assert.ok(!verifyChunk(root, (index + 1 + (where % (chunks - 1))) % chunks, chunk, proof));
        const altered = chunk.slice();
        altered[where % CHUNK_SIZE]! ^= 1;
        assert.ok(!verifyChunk(root, index, altered, proof));
        const bad = proof.slice();
        const j = where % bad.length;
        bad[j] = `0x${(BigInt(bad[j]!) ^ 1n).toString(16).padStart(64, '0')}`;
        assert.ok(!verifyChunk(root, index, chunk, bad));
        assert.ok(!verifyChunk(root, index, chunk, proof.slice(1)));
        assert.ok(!verifyChunk(pieceRoot(randomBytes(piece.length)), index, chunk, proof));
      },
    ),
    { numRuns: 40 },
  );
});

test('verifyChunk answers false, never throws, for malformed input', () => {
  const piece = randomBytes(3000);
  const root = pieceRoot(piece);
  const { chunk, proof } = chunkProof(piece, 1);
  assert.ok(verifyChunk(root, 1, chunk, proof));
  assert.ok(!verifyChunk(root, 1, chunk.subarray(0, 100), proof));
  assert.ok(!verifyChunk(root, -1, chunk, proof));
  assert.ok(!verifyChunk(root, 1.5, chunk, proof));
  assert.ok(!verifyChunk('0x12', 1, chunk, proof));
  assert.ok(!verifyChunk(root, 1, chunk, ['0xzz' as Hex]));
  assert.ok(!verifyChunk(root, 1, chunk, 'nope' as unknown as Hex[]));
});

test('a single-chunk piece has its leaf as root and an empty proof', () => {
  const piece = randomBytes(64);
  const { chunk, proof } = chunkProof(piece, 0);
  assert.deepEqual(proof, []);
  assert.equal(
    pieceRoot(piece),
    bytesToHex(
      createHash('sha256')
        .update(numberToBytes(0, { size: 4 }))
        .update(chunk)
        .digest(),
    ),
  );
});

test('refuses an empty piece and a chunk index outside the piece', () => {
  assert.throws(() => pieceRoot(new Uint8Array(0)), hasCode('STORAGE_BAD_INPUT'));
  assert.throws(() => chunkProof(randomBytes(2048), 2), hasCode('STORAGE_BAD_INPUT'));
  assert.throws(() => chunkProof(randomBytes(2048), -1), hasCode('STORAGE_BAD_INPUT'));
});

test('the piece id is keccak256(fileId ‖ uint32 segment ‖ uint16 index ‖ pieceRoot)', () => {
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffff }), (segment, index) => {
      const fileId = createFileId();
      const root = pieceRoot(randomBytes(100));
      const expected = keccak256(
        encodePacked(['bytes32', 'uint32', 'uint16', 'bytes32'], [fileId, segment, index, root]),
      );
      assert.equal(pieceId(fileId, segment, index, root), expected);
    }),
    { numRuns: 50 },
  );
  const root = pieceRoot(randomBytes(100));
  assert.throws(() => pieceId(createFileId(), 0, 65536, root), hasCode('STORAGE_BAD_INPUT'));
  assert.throws(() => pieceId(createFileId(), -1, 0, root), hasCode('STORAGE_BAD_INPUT'));
  assert.throws(() => pieceId(createFileId(), 0, 0, '0x00'), hasCode('STORAGE_BAD_INPUT'));
});

test('commits an 8 MiB piece (8193 chunks) like the reference', () => {
  const piece = randomBytes(8 * 1024 * 1024 + 64);
  const reference = referenceTree(piece);
  const root = pieceRoot(piece);
  assert.equal(root, reference.root);
  for (const index of [0, 1, 4096, 8192]) {
    const { chunk, proof } = chunkProof(piece, index);
    assert.deepEqual(proof, reference.getProof(index));
    assert.ok(verifyChunk(root, index, chunk, proof));
  }
});
