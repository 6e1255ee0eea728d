/**
 * Turns a shape and a loss pattern into kernel jobs: the tables a job reads are written into the
 * shared memory here, so the same job can run on this thread or be split across workers.
 */
import { cauchyParityMatrix, cauchyRecoveryMatrix } from './cauchyMatrix.ts';
import { writeCauchyTables } from './cauchyTables.ts';
import { erasureError } from './errors.ts';
import type { KernelJob } from './kernelJob.ts';
import { leoErrorLocator } from './leopardField.ts';
import { type ErasureAlgorithm, nextPow2 } from './shape.ts';
import type { WasmHeap } from './wasmHeap.ts';

/** A resolved shape with its encoding tables in memory. */
export type CodingPlan = {
  k: number;
  m: number;
  algorithm: ErasureAlgorithm;
  /** Parity rounded up to a power of two (Leopard). */
  mPow: number;
  /** FFT size of the Leopard decoder: next power of two ≥ mPow + k. */
  decodeSize: number;
  /** Builds the encoding job over `len` columns. */
  encodeJob(inputs: number[], outputs: number[], len: number): KernelJob;
  release(): void;
};

/** A decoding job waiting for addresses, with the tables it needs held in memory until released. */
export type DecodePlan = {
  /** Shards read, data first (`present` order), and shards written (`missing` order). */
  sources: number[];
  targets: number[];
  job(addresses: number[], len: number): KernelJob;
  release(): void;
};

/**
 * Prepares the encoder of a shape (Cauchy tables are written once here).
 *
 * @example const plan = createCodingPlan(heap, 29, 51, 'leopard');
 */
export function createCodingPlan(
  heap: WasmHeap,
  k: number,
  m: number,
  algorithm: ErasureAlgorithm,
): CodingPlan {
  const mPow = nextPow2(m);
  let tables = 0;
  if (algorithm === 'cauchy') {
    tables = heap.alloc(m * k * 32);
    writeCauchyTables(heap.view(0, tables + m * k * 32), tables, cauchyParityMatrix(k, m), m, k);
  }
  return {
    k,
    m,
    algorithm,
    mPow,
    decodeSize: nextPow2(mPow + k),
    encodeJob: (inputs, outputs, len) =>
      algorithm === 'cauchy'
        ? { op: 'cauchy', inputs, outputs, tables, len }
        : { op: 'leoEncode', inputs, outputs, m: mPow, len },
    release: () => {
      if (tables) heap.free(tables);
      tables = 0;
    },
  };
}

/**
 * Plans the rebuilding of the `missing` shard indices below `rebuildBelow` (k: data only); throws
 * ERASURE_TOO_FEW_SHARDS when fewer than k shards survive. `addresses` passed to `job` are indexed by shard (0 where absent).
 *
 * @example const d = planDecode(heap, plan, [0, 3]); run(d.job(addresses, len)); d.release();
 */
export function planDecode(
  heap: WasmHeap,
  plan: CodingPlan,
  missing: readonly number[],
  rebuildBelow = plan.k + plan.m,
): DecodePlan {
  const { k, m } = plan;
  const n = k + m;
  const lost = new Uint8Array(n);
  for (const i of missing) {
    if (!Number.isInteger(i) || i < 0 || i >= n || lost[i]) {
      throw erasureError('ERASURE_BAD_ARGUMENT', `Name each missing shard once, by an index below ${n}.`, {
        missing,
      });
    }
    lost[i] = 1;
  }
  assertEnoughShards(k, n, missing.length);
  const targets = missing.filter((i) => i < rebuildBelow).sort((a, b) => a - b);
  if (plan.algorithm === 'cauchy') {
    const sources: number[] = [];
    for (let i = 0; i < n && sources.length < k; i++) if (!lost[i]) sources.push(i);
    const bytes = targets.length * k * 32;
    const tables = heap.alloc(Math.max(bytes, 1));
    if (targets.length > 0) {
      const matrix = cauchyRecoveryMatrix(k, cauchyParityMatrix(k, m), sources, targets);
      writeCauchyTables(heap.view(0, tables + bytes), tables, matrix, targets.length, k);
    }
    return {
      sources,
      targets,
      job: (addresses, len) => ({
        op: 'cauchy',
        inputs: sources.map((i) => addresses[i]!),
        outputs: targets.map((i) => addresses[i]!),
        tables,
        len,
      }),
      release: () => heap.free(tables),
    };
  }
  const { mPow, decodeSize } = plan;
  const erased = new Uint8Array(256);
  for (let i = m; i < mPow; i++) erased[i] = 1;
  for (const i of missing) erased[i < k ? mPow + i : i - k] = 1;
  // The kernel reads the locator logs, then prefix counts of the rows that hold a shard (the
  // inverse transform skips groups without one) and of the rows to rebuild (the forward one
  // skips groups without one).
  const wanted = new Uint8Array(256);
  for (const i of targets) wanted[i < k ? mPow + i : i - k] = 1;
  const counts = new Uint16Array(2 * 257);
  for (let p = 0; p < 256; p++) {
    counts[p + 1] = counts[p]! + (p < mPow + k && !erased[p] ? 1 : 0);
    counts[257 + p + 1] = counts[257 + p]! + wanted[p]!;
  }
  const loc = heap.alloc(256 + counts.byteLength);
  heap.view(loc, 256).set(leoErrorLocator(erased));
  heap.view(loc + 256, counts.byteLength).set(new Uint8Array(counts.buffer));
  const sources = [...Array(n).keys()].filter((i) => !lost[i]);
  return {
    sources,
    targets,
    job: (addresses, len) => ({
      op: 'leoDecode',
      shards: addresses.map((a, i) => (lost[i] ? 0 : a)),
      outputs: addresses.map((a, i) => (lost[i] && i < rebuildBelow ? a : 0)),
      k,
      m: mPow,
      size: decodeSize,
      loc,
      len,
    }),
    release: () => heap.free(loc),
  };
}

/**
 * Throws ERASURE_TOO_FEW_SHARDS unless at least k of the n shards survive.
 *
 * @example assertEnoughShards(29, 80, 51); // fine: 29 survive
 */
export function assertEnoughShards(k: number, n: number, missing: number): void {
  if (n - missing >= k) return;
  throw erasureError(
    'ERASURE_TOO_FEW_SHARDS',
    `Need at least ${k} of the ${n} shards to reconstruct; only ${n - missing} survive. Fetch more shards.`,
    { needed: k, present: n - missing },
  );
}
