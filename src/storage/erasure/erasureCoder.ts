/**
 * The erasure coder: systematic Reed–Solomon over GF(2^8) with its hot loops in WebAssembly SIMD.
 * Shards may be any Uint8Arrays; those allocated with {@link ErasureCoder.allocateShards} live in
 * the coder's memory and are coded in place, without a copy.
 */
import { assertEnoughShards, type CodingPlan, createCodingPlan, planDecode } from './codingPlan.ts';
import { erasureError } from './errors.ts';
import {
  jobWorkBytes,
  type KernelJob,
  POINTER_BYTES,
  runKernelJob,
  type ThreadScratch,
} from './kernelJob.ts';
import { type ErasureAlgorithm, type ErasureShape, resolveAlgorithm } from './shape.ts';
import { runStaged, withShardsInMemory } from './stagedColumns.ts';
import { validateShards } from './validateShards.ts';
import { type ErasureRuntime, getErasureRuntime } from './wasmRuntime.ts';
import type { ErasureWorkerPool } from './workerPool.ts';

/** Options of {@link createErasureCoder}: the shape, and the algorithm when not the default. */
export type ErasureCoderOptions = ErasureShape & {
  /** Defaults to {@link chooseErasureAlgorithm}(shape); a decoder must use the encoder's choice. */
  algorithm?: ErasureAlgorithm;
  /** Worker threads for {@link ErasureCoder.encodeParallel} and {@link ErasureCoder.reconstructParallel}. */
  pool?: ErasureWorkerPool;
};

/** k + m shards of one size in the coder's memory: code them with no copy. */
export type ShardSet = {
  shardSize: number;
  /** All k + m shards, data first. */
  shards: Uint8Array[];
  /** The k data shards as one contiguous buffer (read a file straight into it). */
  data: Uint8Array;
  /** The m parity shards as one contiguous buffer. */
  parity: Uint8Array;
  /** Gives the memory back; the views must not be used afterwards. */
  release(): void;
};

/** A coder for one shape. */
export type ErasureCoder = {
  readonly dataShards: number;
  readonly parityShards: number;
  readonly totalShards: number;
  readonly algorithm: ErasureAlgorithm;
  /** Computes the m parity shards of k data shards (into `parity` when given). */
  encode(data: readonly Uint8Array[], parity?: readonly Uint8Array[]): Uint8Array[];
  /** Encodes k data shards laid end to end in one buffer (its length a multiple of k). */
  encodeBuffer(buffer: Uint8Array, parity?: readonly Uint8Array[]): Uint8Array[];
  /** Returns all k + m shards, rebuilding the `undefined` ones from any k survivors. */
  reconstruct(shards: readonly (Uint8Array | undefined)[]): Uint8Array[];
  /**
   * Rebuilds the shards listed in `missing` in place, reading the others; with `dataOnly`,
   * missing parity shards are left as they are.
   */
  reconstructInto(
    shards: readonly Uint8Array[],
    missing: readonly number[],
    options?: { dataOnly?: boolean },
  ): void;
  /** {@link ErasureCoder.encode} split by columns over the pool's worker threads. */
  encodeParallel(data: readonly Uint8Array[], parity?: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /** {@link ErasureCoder.reconstructInto} split by columns over the pool's worker threads. */
  reconstructParallel(
    shards: readonly Uint8Array[],
    missing: readonly number[],
    options?: { dataOnly?: boolean },
  ): Promise<void>;
  /** True when the parity matches the data. */
  verify(shards: readonly Uint8Array[]): boolean;
  /** Allocates k + m shards of `shardSize` bytes in the coder's memory. */
  allocateShards(shardSize: number): ShardSet;
  /** Frees the coder's tables and scratch memory. */
  dispose(): void;
};

/**
 * Creates a coder; throws ERASURE_BAD_SHAPE, ERASURE_BAD_ALGORITHM, or ERASURE_NOT_BUILT when
 * build/erasure.wasm is missing.
 *
 * @example
 * const coder = createErasureCoder({ dataShards: 29, parityShards: 51 });
 * const parity = coder.encode(dataShards);
 * const all = coder.reconstruct([undefined, ...rest]);
 */
export function createErasureCoder(options: ErasureCoderOptions): ErasureCoder {
  const algorithm = resolveAlgorithm(options, options.algorithm);
  const rt = getErasureRuntime();
  const k = options.dataShards;
  const m = options.parityShards;
  const n = k + m;
  const plan = createCodingPlan(rt.heap, k, m, algorithm);
  const scratch = allocateScratch(rt, plan);

  const run = (job: KernelJob) => runKernelJob(rt.kernels, rt.memory, scratch, job, 0, job.len);

  const pool = () => {
    if (options.pool) return options.pool;
    throw erasureError(
      'ERASURE_BAD_ARGUMENT',
      'Pass a worker pool (createErasureWorkerPool) to code in parallel.',
    );
  };

  const encodeOutputs = (data: readonly Uint8Array[], parity?: readonly Uint8Array[]) => {
    const len = validateShards(data, k, 'data shards');
    const out = parity ? [...parity] : Array.from({ length: m }, () => new Uint8Array(len));
    if (parity && validateShards(out, m, 'parity shards') !== len) {
      throw erasureError('ERASURE_SHARD_SIZE_MISMATCH', 'Parity shards must be as long as the data shards.', {
        data: len,
        parity: out[0]!.length,
      });
    }
    return { len, out };
  };

  const encode = (data: readonly Uint8Array[], parity?: readonly Uint8Array[]) => {
    const { len, out } = encodeOutputs(data, parity);
    if (len > 0)
      runStaged(rt.heap, data, out, len, (ins, outs, cols) => run(plan.encodeJob(ins, outs, cols)));
    return out;
  };

  const reconstructInto = (
    shards: readonly Uint8Array[],
    missing: readonly number[],
    options: { dataOnly?: boolean } = {},
  ) => {
    const len = validateShards(shards, n, 'shards');
    const decode = planDecode(rt.heap, plan, missing, options.dataOnly ? k : n);
    try {
      if (len === 0 || decode.targets.length === 0) return;
      const { ins, outs } = rebuildLists(shards, decode);
      runStaged(rt.heap, ins, outs, len, (inAddr, outAddr, cols) =>
        run(
          decode.job(
            inAddr.map((a, i) => a || outAddr[i]!),
            cols,
          ),
        ),
      );
    } finally {
      decode.release();
    }
  };

  const rebuildLists = (shards: readonly Uint8Array[], decode: { sources: number[]; targets: number[] }) => ({
    ins: shards.map((s, i) => (decode.sources.includes(i) ? s : undefined)),
    outs: shards.map((s, i) => (decode.targets.includes(i) ? s : undefined)),
  });

  return {
    dataShards: k,
    parityShards: m,
    totalShards: n,
    algorithm,
    encode,
    encodeBuffer(buffer, parity) {
      if (!(buffer instanceof Uint8Array) || buffer.length % k !== 0) {
        throw erasureError(
          'ERASURE_SHARD_SIZE_MISMATCH',
          `Pad the buffer to a multiple of ${k} bytes (one equal slice per data shard).`,
          { length: buffer?.length, dataShards: k },
        );
      }
      const size = buffer.length / k;
      return encode(
        Array.from({ length: k }, (_, j) => buffer.subarray(j * size, (j + 1) * size)),
        parity,
      );
    },
    reconstruct(shards) {
      const len = validateShards(shards, n, 'shards (undefined where missing)', true);
      const missing = shards.flatMap((s, i) => (s ? [] : [i]));
      assertEnoughShards(k, n, missing.length);
      const all = shards.map((s) => s ?? new Uint8Array(Math.max(len, 0)));
      reconstructInto(all, missing);
      return all;
    },
    reconstructInto,
    async encodeParallel(data, parity) {
      const workers = pool();
      const { len, out } = encodeOutputs(data, parity);
      if (len > 0)
        await withShardsInMemory(rt.heap, data, out, len, (ins, outs) =>
          workers.run(plan.encodeJob(ins, outs, len)),
        );
      return out;
    },
    async reconstructParallel(shards, missing, options = {}) {
      const workers = pool();
      const len = validateShards(shards, n, 'shards');
      const decode = planDecode(rt.heap, plan, missing, options.dataOnly ? k : n);
      try {
        if (len === 0 || decode.targets.length === 0) return;
        const { ins, outs } = rebuildLists(shards, decode);
        await withShardsInMemory(rt.heap, ins, outs, len, (inAddr, outAddr) =>
          workers.run(
            decode.job(
              inAddr.map((a, i) => a || outAddr[i]!),
              len,
            ),
          ),
        );
      } finally {
        decode.release();
      }
    },
    verify(shards) {
      validateShards(shards, n, 'shards');
      const parity = encode(shards.slice(0, k));
      return parity.every((p, i) => Buffer.compare(p, shards[k + i]!) === 0);
    },
    allocateShards(shardSize) {
      if (!Number.isInteger(shardSize) || shardSize < 0) {
        throw erasureError('ERASURE_BAD_ARGUMENT', 'Give the shard size as a whole number of bytes.', {
          shardSize,
        });
      }
      const at = rt.heap.alloc(Math.max(1, n * shardSize));
      const all = rt.heap.view(at, n * shardSize);
      return {
        shardSize,
        shards: Array.from({ length: n }, (_, i) => all.subarray(i * shardSize, (i + 1) * shardSize)),
        data: all.subarray(0, k * shardSize),
        parity: all.subarray(k * shardSize),
        release: () => rt.heap.free(at),
      };
    },
    dispose() {
      plan.release();
      rt.heap.free(scratch.pointers);
    },
  };
}

/**
 * Scratch for one thread: pointer lists, then the FFT work area sized for both directions.
 *
 * @example const scratch = allocateScratch(getErasureRuntime(), plan);
 */
export function allocateScratch(rt: ErasureRuntime, plan: CodingPlan): ThreadScratch {
  const workBytes = Math.max(
    jobWorkBytes({ op: 'leoEncode', inputs: [], outputs: [], m: plan.mPow, len: 0 }),
    jobWorkBytes({
      op: 'leoDecode',
      shards: [],
      outputs: [],
      k: plan.k,
      m: plan.mPow,
      size: plan.decodeSize,
      loc: 0,
      len: 0,
    }),
  );
  const pointers = rt.heap.alloc(POINTER_BYTES + workBytes);
  return { pointers, work: pointers + POINTER_BYTES, workBytes };
}
