/**
 * Runs batches of keccak work on this thread and one helper worker thread at once (the reference
 * machine has 2 cores), synchronously: callers such as `buildRewardTree` stay plain functions.
 *
 * Both threads take tasks from a shared counter until none is left; the caller then blocks until
 * the helper has finished the task it holds. A helper that is slow to start (first call) or busy
 * simply takes fewer tasks: the caller never waits for it to begin, only for it to finish. Tasks are
 * idempotent, so if the helper failed one, the caller redoes them all.
 *
 * Protocol (Int32 control block): the helper increments INFLIGHT *before* taking a task number and
 * decrements it after writing the task's output; the caller waits for INFLIGHT = 0 once the counter is
 * exhausted, so no task can still be in progress when it returns.
 */
import { Worker } from 'node:worker_threads';
import { type KeccakKernel, keccakModule } from './keccak.ts';

/** `out[i] = keccak256(keccak256(record i))` for `count` 64-byte records from `src`. */
export const TASK_LEAVES = 0;
/**
 * Every inner node of the heap subtree rooted at `root`, deepest level first, for a tree at `tree`
 * whose inner nodes are the indices below `inner` (= leaves − 1).
 */
export const TASK_SUBTREE = 1;

/** A task: [kind, a, b, c] — (TASK_LEAVES, src, count, out) or (TASK_SUBTREE, tree, root, inner). */
export type KeccakTask = [kind: number, a: number, b: number, c: number];

const NEXT = 0;
const INFLIGHT = 1;
const FAILED = 2;
const COUNT = 3;

/**
 * Runs `tasks` over `kernel`'s memory, with the helper thread when `threads` > 1 and there is more
 * than one task. Returns when every task is done.
 *
 * @example
 * runKeccakTasks(kernel, [[TASK_LEAVES, src, n / 2, out], [TASK_LEAVES, src + 32 * n, n / 2, out + 16 * n]]);
 */
export function runKeccakTasks(kernel: KeccakKernel, tasks: readonly KeccakTask[], threads = 2): void {
  const table = new Int32Array(new SharedArrayBuffer(4 * 4 * Math.max(1, tasks.length)));
  tasks.forEach((t, i) => {
    table.set(t, 4 * i);
  });
  const control = new Int32Array(new SharedArrayBuffer(16));
  control[COUNT] = tasks.length;
  if (threads > 1 && tasks.length > 1) helper()?.postMessage({ memory: kernel.memory, control, table });
  runTaskLoop(kernel, control, table);
  for (let v = Atomics.load(control, INFLIGHT); v !== 0; v = Atomics.load(control, INFLIGHT)) {
    Atomics.wait(control, INFLIGHT, v, 100);
  }
  if (Atomics.load(control, FAILED)) {
    control[NEXT] = 0;
    control[FAILED] = 0;
    runTaskLoop(kernel, control, table);
  }
}

/**
 * Takes tasks from `control` until none is left (the loop both threads run).
 *
 * @example runTaskLoop(kernel, control, table);
 */
export function runTaskLoop(kernel: KeccakKernel, control: Int32Array, table: Int32Array): void {
  const count = control[COUNT]!;
  for (;;) {
    Atomics.add(control, INFLIGHT, 1);
    const t = Atomics.add(control, NEXT, 1);
    try {
      if (t >= count) return;
      runTask(kernel, table[4 * t]!, table[4 * t + 1]!, table[4 * t + 2]!, table[4 * t + 3]!);
    } catch {
      Atomics.store(control, FAILED, 1);
    } finally {
      if (Atomics.sub(control, INFLIGHT, 1) === 1) Atomics.notify(control, INFLIGHT);
    }
  }
}

function runTask(kernel: KeccakKernel, kind: number, a: number, b: number, c: number): void {
  // Offsets above 2^31 arrive as negative int32s: undo that.
  const u = (x: number) => x >>> 0;
  if (kind === TASK_LEAVES) {
    kernel.hashLeaves(u(a), u(b), u(c));
    return;
  }
  const [tree, root, inner] = [u(a), u(b), u(c)];
  // Level d below the subtree root spans heap indices (root+1)·2^d − 1 … (root+1)·2^(d+1) − 2.
  let depth = 0;
  while ((root + 1) * 2 ** (depth + 1) - 1 < inner) depth++;
  for (; depth >= 0; depth--) {
    const first = (root + 1) * 2 ** depth - 1;
    const end = Math.min(first + 2 ** depth, inner);
    if (first < end) kernel.hashNodes(tree, first, end);
  }
}

let worker: Worker | null | undefined;

/** The helper thread, started on first use and never keeping the process alive. */
function helper(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./keccakWorker.ts', import.meta.url), {
      workerData: { module: keccakModule() },
    });
    worker.unref();
    // A helper that dies only costs speed: the caller does the tasks itself.
    worker.on('error', () => {
      worker = null;
    });
  } catch {
    worker = null;
  }
  return worker;
}
