/**
 * Spreads kernel jobs over worker threads. Every worker runs the same WebAssembly module on the
 * same shared memory, so a job is split by byte columns (the code is column-independent) and no
 * shard is copied between threads.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ErasureWorkerData, ErasureWorkerReply } from './erasureWorker.ts';
import { erasureError } from './errors.ts';
import { type KernelJob, MAX_SCRATCH_BYTES, POINTER_BYTES } from './kernelJob.ts';
import { getErasureRuntime } from './wasmRuntime.ts';

/** Options of {@link createErasureWorkerPool}. */
export type ErasureWorkerPoolInit = {
  /** Worker threads (default: the available parallelism). */
  threads?: number;
  /** Columns below which a job is not split further (default 64 KiB per thread). */
  minColumnsPerThread?: number;
};

/** A pool of erasure workers. */
export type ErasureWorkerPool = {
  readonly threads: number;
  /** Runs a job over all its columns, split across the workers. */
  run(job: KernelJob): Promise<void>;
  /** Stops the workers and frees their scratch memory. */
  close(): Promise<void>;
};

/**
 * Starts the worker threads.
 *
 * @example
 * const pool = createErasureWorkerPool({ threads: 2 });
 * const coder = createErasureCoder({ dataShards: 29, parityShards: 51, pool });
 * await coder.encodeParallel(set.shards.slice(0, 29), set.shards.slice(29));
 * await pool.close();
 */
export function createErasureWorkerPool(init: ErasureWorkerPoolInit = {}): ErasureWorkerPool {
  const threads = Math.max(1, Math.floor(init.threads ?? availableParallelism()));
  const minColumns = Math.max(64, init.minColumnsPerThread ?? 65536);
  const rt = getErasureRuntime();
  const pending = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  const busy = new Map<Worker, { count: number }>();
  let closed = false;
  let nextId = 0;
  const workers = Array.from({ length: threads }, () => {
    const pointers = rt.heap.alloc(MAX_SCRATCH_BYTES);
    const data: ErasureWorkerData = {
      module: rt.module,
      memory: rt.memory,
      scratch: { pointers, work: pointers + POINTER_BYTES, workBytes: MAX_SCRATCH_BYTES - POINTER_BYTES },
    };
    const worker = new Worker(new URL('./erasureWorker.ts', import.meta.url), { workerData: data });
    worker.on('message', ({ id, error }: ErasureWorkerReply) => {
      // A worker holds the process open only while it has work.
      if (--busy.get(worker)!.count === 0) worker.unref();
      const p = pending.get(id);
      pending.delete(id);
      if (!p) return;
      if (error)
        p.reject(
          erasureError('ERASURE_WORKER_FAILED', 'An erasure worker failed; retry on one thread.', { error }),
        );
      else p.resolve();
    });
    worker.on('error', (cause) => {
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(
          erasureError('ERASURE_WORKER_FAILED', 'An erasure worker crashed; retry on one thread.', {}, cause),
        );
      }
    });
    worker.unref();
    busy.set(worker, { count: 0 });
    return { worker, pointers };
  });

  const send = (w: Worker, job: KernelJob, c0: number, c1: number) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      if (busy.get(w)!.count++ === 0) w.ref();
      w.postMessage({ id, job, c0, c1 });
    });

  return {
    threads,
    async run(job) {
      if (closed) throw erasureError('ERASURE_BAD_ARGUMENT', 'This worker pool is closed; create a new one.');
      const parts = Math.max(1, Math.min(threads, Math.floor(job.len / minColumns)));
      const step = Math.ceil(job.len / parts / 64) * 64;
      const runs: Promise<void>[] = [];
      for (let i = 0, c0 = 0; c0 < job.len; i++, c0 += step) {
        runs.push(send(workers[i % threads]!.worker, job, c0, Math.min(job.len, c0 + step)));
      }
      await Promise.all(runs);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
      for (const { pointers } of workers) rt.heap.free(pointers);
    },
  };
}
