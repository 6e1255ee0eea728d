/**
 * The helper thread of keccakTasks.ts: for each job it instantiates the kernel over the job's shared
 * memory and takes tasks until none is left. It receives the compiled module, so it never generates
 * or compiles WebAssembly itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { instantiateKeccak } from './keccak.ts';
import { runTaskLoop } from './keccakTasks.ts';

const module = (workerData as { module: WebAssembly.Module }).module;

parentPort?.on('message', (job: { memory: WebAssembly.Memory; control: Int32Array; table: Int32Array }) => {
  runTaskLoop(instantiateKeccak(module, job.memory), job.control, job.table);
});
