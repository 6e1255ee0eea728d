/**
 * One call of a WebAssembly kernel, as plain data: addresses of shards in the shared memory and
 * the shape. The coder runs jobs on the calling thread; the worker pool runs the same job on
 * disjoint column ranges, which is valid because the code treats every byte column on its own.
 */
import type { ErasureKernels } from './wasmRuntime.ts';

/** A kernel call over `len` columns of the listed shards. */
export type KernelJob =
  | { op: 'cauchy'; inputs: number[]; outputs: number[]; tables: number; len: number }
  | { op: 'leoEncode'; inputs: number[]; outputs: number[]; m: number; len: number }
  | {
      op: 'leoDecode';
      /** k + m addresses, data first, 0 for a missing shard. */
      shards: number[];
      /** k + m addresses to rebuild into, 0 where nothing is wanted. */
      outputs: number[];
      k: number;
      m: number;
      size: number;
      loc: number;
      len: number;
    };

/** Per-thread scratch in the shared memory: pointer lists and the FFT work area. */
export type ThreadScratch = { pointers: number; work: number; workBytes: number };

/** Bytes of pointer list a job needs (two lists of up to 256 u32). */
export const POINTER_BYTES = 2 * 256 * 4;

/** Leopard's work area holds about this many bytes: it stays in L2, and long column runs keep the shard streams prefetched. */
const LEO_WORK_TARGET = 512 * 1024;

/**
 * Column chunk of the Leopard kernels for `rows` work rows: a multiple of 64 between 64 and 16 KiB.
 *
 * @example leoChunk(64) // 1024
 */
export function leoChunk(rows: number): number {
  return Math.min(16384, Math.max(64, Math.floor(LEO_WORK_TARGET / rows / 64) * 64));
}

/**
 * Cauchy column chunk: the k input chunks stay in L1 while each batch of rows reads them.
 *
 * @example cauchyChunk(24) // 1024
 */
export function cauchyChunk(k: number): number {
  return Math.min(8192, Math.max(256, Math.floor(24576 / k / 64) * 64));
}

/**
 * Work-area bytes a job needs.
 *
 * @example jobWorkBytes({ op: 'leoEncode', inputs, outputs, m: 64, len })
 */
export function jobWorkBytes(job: KernelJob): number {
  if (job.op === 'leoEncode') return 2 * job.m * leoChunk(job.m);
  if (job.op === 'leoDecode') return job.size * leoChunk(job.size);
  return 0;
}

/**
 * Runs columns [c0, c1) of a job with this thread's kernels and scratch.
 *
 * @example runKernelJob(kernels, memory, scratch, job, 0, job.len);
 */
export function runKernelJob(
  kernels: ErasureKernels,
  memory: WebAssembly.Memory,
  scratch: ThreadScratch,
  job: KernelJob,
  c0: number,
  c1: number,
): void {
  const len = c1 - c0;
  if (len <= 0) return;
  const words = new Uint32Array(memory.buffer, scratch.pointers, POINTER_BYTES / 4);
  const shift = (address: number) => (address === 0 ? 0 : address + c0);
  if (job.op === 'leoDecode') {
    const n = job.shards.length;
    for (let i = 0; i < n; i++) {
      words[i] = shift(job.shards[i]!);
      words[256 + i] = shift(job.outputs[i]!);
    }
    const chunk = leoChunk(job.size);
    kernels.leoDecode(
      scratch.pointers,
      job.k,
      n - job.k,
      job.m,
      job.size,
      job.loc,
      scratch.pointers + 1024,
      len,
      scratch.work,
      chunk,
    );
    return;
  }
  job.inputs.forEach((a, i) => {
    words[i] = a + c0;
  });
  job.outputs.forEach((a, i) => {
    words[256 + i] = a + c0;
  });
  const k = job.inputs.length;
  const rows = job.outputs.length;
  if (job.op === 'cauchy') {
    kernels.cauchyApply(scratch.pointers, k, scratch.pointers + 1024, rows, job.tables, len, cauchyChunk(k));
  } else {
    const chunk = leoChunk(job.m);
    kernels.leoEncode(scratch.pointers, k, scratch.pointers + 1024, rows, job.m, len, scratch.work, chunk);
  }
}

/** Scratch bytes that fit any job of any shape (pointer lists + the largest work area). */
export const MAX_SCRATCH_BYTES = POINTER_BYTES + 2 * LEO_WORK_TARGET + 64 * 1024;
