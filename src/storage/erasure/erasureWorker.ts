/**
 * A worker thread of the erasure pool: instantiates the coder's module on the shared memory and
 * runs the column ranges of kernel jobs it is sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type KernelJob, runKernelJob, type ThreadScratch } from './kernelJob.ts';
import { instantiateKernels } from './wasmRuntime.ts';

/** What the pool passes to each worker at start. */
export type ErasureWorkerData = {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  scratch: ThreadScratch;
};
/** One request: run columns [c0, c1) of `job`. */
export type ErasureWorkerRequest = { id: number; job: KernelJob; c0: number; c1: number };
/** The answer, with the error message when the kernel failed. */
export type ErasureWorkerReply = { id: number; error?: string };

const { module, memory, scratch } = workerData as ErasureWorkerData;
const kernels = instantiateKernels(module, memory);

parentPort!.on('message', ({ id, job, c0, c1 }: ErasureWorkerRequest) => {
  try {
    runKernelJob(kernels, memory, scratch, job, c0, c1);
    parentPort!.postMessage({ id } satisfies ErasureWorkerReply);
  } catch (error) {
    parentPort!.postMessage({ id, error: String(error) } satisfies ErasureWorkerReply);
  }
});
