import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isDepinError } from '../../core/errors.ts';
import { cauchyEncodeReference } from './cauchyReference.ts';
import { createErasureCoder } from './erasureCoder.ts';
import { leopardEncodeReference } from './leopardReference.ts';
import { type ErasureAlgorithm, leopardSupports } from './shape.ts';
import { assertSameShards } from './testShards.ts';

const referenceEncode = (algorithm: ErasureAlgorithm, data: Uint8Array[], m: number) =>
  algorithm === 'cauchy' ? cauchyEncodeReference(data, m) : leopardEncodeReference(data, m);

/** Most parity shards an algorithm takes beside k data shards (Leopard rounds m up to 2^j). */
function maxParity(algorithm: ErasureAlgorithm, k: number, limit: number): number {
  let m = 256 - k;
  if (algorithm === 'leopard') while (!leopardSupports({ dataShards: k, parityShards: m })) m--;
  return Math.min(m, limit);
}

/** A shape of up to 256 shards, shards of `len` random bytes, and up to m lost shard indices. */
const caseOf = (algorithm: ErasureAlgorithm, len: fc.Arbitrary<number>, maxK = 255, maxM = 255) =>
  fc.record({ k: fc.integer({ min: 1, max: maxK }), len, seed: fc.integer() }).chain(({ k, len, seed }) =>
    fc.integer({ min: 1, max: maxParity(algorithm, k, maxM) }).chain((m) =>
      fc.record({
        k: fc.constant(k),
        m: fc.constant(m),
        len: fc.constant(len),
        seed: fc.constant(seed),
        lost: fc.shuffledSubarray([...Array(k + m).keys()], { maxLength: m }),
      }),
    ),
  );

function randomShards(count: number, len: number, seed: number): Uint8Array[] {
  let x = seed | 1;
  return Array.from({ length: count }, () =>
    Uint8Array.from({ length: len }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x & 0xff;
    }),
  );
}

for (const algorithm of ['cauchy', 'leopard'] as const) {
  test(`${algorithm}: WebAssembly parity equals the reference, and any m lost shards come back exactly`, () => {
    fc.assert(
      fc.property(caseOf(algorithm, fc.integer({ min: 0, max: 700 })), ({ k, m, len, seed, lost }) => {
        const coder = createErasureCoder({ dataShards: k, parityShards: m, algorithm });
        try {
          const data = randomShards(k, len, seed);
          const parity = coder.encode(data);
          assertSameShards(parity, referenceEncode(algorithm, data, m), 'parity');
          const all = [...data, ...parity];
          const rebuilt = coder.reconstruct(all.map((s, i) => (lost.includes(i) ? undefined : s)));
          assertSameShards(rebuilt, all);
        } finally {
          coder.dispose();
        }
      }),
      { numRuns: 200 },
    );
  });

  test(`${algorithm}: whole column chunks read and write shards in place and agree with the reference`, () => {
    // Shards longer than the kernels' column chunk take the in-place path (no row copies).
    fc.assert(
      fc.property(
        caseOf(algorithm, fc.integer({ min: 16384, max: 36000 }), 40, 40),
        ({ k, m, len, seed, lost }) => {
          const coder = createErasureCoder({ dataShards: k, parityShards: m, algorithm });
          const set = coder.allocateShards(len);
          try {
            const data = randomShards(k, len, seed);
            data.forEach((d, i) => {
              set.shards[i]!.set(d);
            });
            coder.encode(set.shards.slice(0, k), set.shards.slice(k));
            assertSameShards(set.shards.slice(k), referenceEncode(algorithm, data, m), 'parity');
            const original = set.shards.map((s) => Uint8Array.from(s));
            const missing = lost;
            for (const i of missing) set.shards[i]!.fill(0x5a);
            coder.reconstructInto(set.shards, missing);
            assertSameShards(set.shards, original);
          } finally {
            set.release();
            coder.dispose();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
}

for (const algorithm of ['cauchy', 'leopard'] as const) {
  test(`${algorithm}: rebuilding only the data shards gives the same data and leaves lost parity untouched`, () => {
    fc.assert(
      fc.property(
        caseOf(algorithm, fc.integer({ min: 1, max: 300 }), 100, 100),
        ({ k, m, len, seed, lost }) => {
          const coder = createErasureCoder({ dataShards: k, parityShards: m, algorithm });
          try {
            const data = randomShards(k, len, seed);
            const all = [...data, ...coder.encode(data)];
            const damaged = all.map((s, i) =>
              lost.includes(i) ? new Uint8Array(len).fill(0xee) : Uint8Array.from(s),
            );
            coder.reconstructInto(damaged, lost, { dataOnly: true });
            damaged.forEach((s, i) => {
              assert.deepEqual(s, i >= k && lost.includes(i) ? new Uint8Array(len).fill(0xee) : all[i]);
            });
          } finally {
            coder.dispose();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
}

test('leopard: 1 data + 4 parity shards longer than one column chunk encode like the reference', () => {
  // Regression: with m = 4 the in-place first and last levels are the only levels; fusing them
  // again in the middle applied them twice.
  const coder = createErasureCoder({ dataShards: 1, parityShards: 4, algorithm: 'leopard' });
  const data = randomShards(1, 16391, 860504581);
  assertSameShards(coder.encode(data), referenceEncode('leopard', data, 4), 'parity');
  coder.dispose();
});

test('encodes straight from one contiguous buffer of k data shards', () => {
  const coder = createErasureCoder({ dataShards: 4, parityShards: 2 });
  const buffer = Uint8Array.from({ length: 4 * 100 }, (_, i) => i * 7);
  const parity = coder.encodeBuffer(buffer);
  const shards = [0, 1, 2, 3].map((j) => buffer.subarray(j * 100, (j + 1) * 100));
  assertSameShards(parity, coder.encode(shards));
  coder.dispose();
});

test('codes shards allocated in its memory in place and reports parity that matches', () => {
  const coder = createErasureCoder({ dataShards: 29, parityShards: 51 });
  assert.equal(coder.algorithm, 'leopard');
  const set = coder.allocateShards(10000);
  set.data.set(randomShards(1, set.data.length, 42)[0]!);
  const returned = coder.encode(set.shards.slice(0, 29), set.shards.slice(29));
  assert.equal(returned[0]!.buffer, set.shards[29]!.buffer);
  assert.equal(coder.verify(set.shards), true);
  set.shards[40]![17]! ^= 1;
  assert.equal(coder.verify(set.shards), false);
  set.release();
  coder.dispose();
});

test('rebuilds only the data shards when asked to, leaving lost parity alone', () => {
  const coder = createErasureCoder({ dataShards: 6, parityShards: 3 });
  const data = randomShards(6, 64, 7);
  const all = [...data, ...coder.encode(data)];
  const damaged = all.map((s) => Uint8Array.from(s));
  damaged[1]!.fill(0);
  damaged[7]!.fill(0);
  coder.reconstructInto(damaged, [1, 7], { dataOnly: true });
  assert.deepEqual(damaged[1], all[1]);
  assert.deepEqual(damaged[7], new Uint8Array(64));
  coder.dispose();
});

test('refuses to reconstruct from fewer than k shards', () => {
  for (const algorithm of ['cauchy', 'leopard'] as const) {
    const coder = createErasureCoder({ dataShards: 3, parityShards: 2, algorithm });
    const data = randomShards(3, 8, 1);
    const all: (Uint8Array | undefined)[] = [...data, ...coder.encode(data)];
    all[0] = all[1] = all[4] = undefined;
    assert.throws(
      () => coder.reconstruct(all),
      (e) => isDepinError(e, 'ERASURE_TOO_FEW_SHARDS'),
    );
    coder.dispose();
  }
});

test('refuses shards of different sizes, wrong counts and non-byte arrays', () => {
  const coder = createErasureCoder({ dataShards: 3, parityShards: 2 });
  const ok = randomShards(3, 8, 1);
  const cases: [() => unknown, string][] = [
    [() => coder.encode([ok[0]!, ok[1]!, new Uint8Array(9)]), 'ERASURE_SHARD_SIZE_MISMATCH'],
    [() => coder.encode(ok, [new Uint8Array(8), new Uint8Array(7)]), 'ERASURE_SHARD_SIZE_MISMATCH'],
    [() => coder.encode(ok.slice(0, 2)), 'ERASURE_WRONG_SHARD_COUNT'],
    [() => coder.encode([...ok, ok[0]!]), 'ERASURE_WRONG_SHARD_COUNT'],
    [() => coder.encode([ok[0]!, ok[1]!, [1, 2] as never]), 'ERASURE_BAD_ARGUMENT'],
    [
      () => coder.reconstruct([ok[0], ok[1], undefined, new Uint8Array(9), undefined]),
      'ERASURE_SHARD_SIZE_MISMATCH',
    ],
    [() => coder.reconstruct(ok), 'ERASURE_WRONG_SHARD_COUNT'],
    [() => coder.encodeBuffer(new Uint8Array(10)), 'ERASURE_SHARD_SIZE_MISMATCH'],
    [() => coder.reconstructInto([...ok, ok[0]!, ok[1]!], [0, 0]), 'ERASURE_BAD_ARGUMENT'],
    [() => coder.reconstructInto([...ok, ok[0]!, ok[1]!], [9]), 'ERASURE_BAD_ARGUMENT'],
    [() => coder.allocateShards(-1), 'ERASURE_BAD_ARGUMENT'],
  ];
  for (const [call, code] of cases) assert.throws(call, (e) => isDepinError(e, code), code);
  coder.dispose();
});

test('refuses a shape of zero data shards or over 256 shards', () => {
  assert.throws(
    () => createErasureCoder({ dataShards: 0, parityShards: 2 }),
    (e) => isDepinError(e, 'ERASURE_BAD_SHAPE'),
  );
  assert.throws(
    () => createErasureCoder({ dataShards: 200, parityShards: 100 }),
    (e) => isDepinError(e, 'ERASURE_BAD_SHAPE'),
  );
});
