import type { WasmHeap } from './wasmHeap.ts';

/** Staging memory for shards that live outside the WebAssembly memory. */
const STAGE_BUDGET = 8 * 1024 * 1024;

/**
 * Calls `run` with the addresses of every input and output shard. Shards already in the
 * WebAssembly memory are used in place; others are copied through staging panels of columns,
 * so memory stays bounded for any shard size. `undefined` entries get address 0.
 *
 * @example runStaged(heap, data, parity, len, (ins, outs, cols) => kernel(ins, outs, cols));
 */
export function runStaged(
  heap: WasmHeap,
  inputs: readonly (Uint8Array | undefined)[],
  outputs: readonly (Uint8Array | undefined)[],
  len: number,
  run: (inputs: number[], outputs: number[], cols: number) => void,
): void {
  const inAddr = inputs.map((v) => (v ? heap.addressOf(v) : 0));
  const outAddr = outputs.map((v) => (v ? heap.addressOf(v) : 0));
  const staged = [...inAddr, ...outAddr].filter((a) => a === undefined).length;
  if (staged === 0) {
    run(inAddr as number[], outAddr as number[], len);
    return;
  }
  const panel = Math.min(len, Math.max(64, Math.floor(STAGE_BUDGET / staged / 64) * 64));
  const block = heap.alloc(panel * staged);
  try {
    let next = block;
    const place = (a: number | undefined) => {
      if (a !== undefined) return { fixed: a, stage: -1 };
      const stage = next;
      next += panel;
      return { fixed: -1, stage };
    };
    const ins = inAddr.map(place);
    const outs = outAddr.map(place);
    for (let c0 = 0; c0 < len; c0 += panel) {
      const cols = Math.min(panel, len - c0);
      const bytes = heap.view(0, heap.memory.buffer.byteLength);
      ins.forEach((p, i) => {
        if (p.stage >= 0) bytes.set(inputs[i]!.subarray(c0, c0 + cols), p.stage);
      });
      const addr = (p: { fixed: number; stage: number }) =>
        p.stage >= 0 ? p.stage : p.fixed && p.fixed + c0;
      run(ins.map(addr), outs.map(addr), cols);
      outs.forEach((p, i) => {
        if (p.stage >= 0) outputs[i]!.set(bytes.subarray(p.stage, p.stage + cols), c0);
      });
    }
  } finally {
    heap.free(block);
  }
}

/**
 * Calls `run` with every shard in the WebAssembly memory at once (copying in those that are not,
 * and copying outputs back after), for jobs that worker threads split by columns.
 *
 * @example await withShardsInMemory(heap, data, parity, len, (ins, outs) => pool.run(job(ins, outs)));
 */
export async function withShardsInMemory(
  heap: WasmHeap,
  inputs: readonly (Uint8Array | undefined)[],
  outputs: readonly (Uint8Array | undefined)[],
  len: number,
  run: (inputs: number[], outputs: number[]) => Promise<void>,
): Promise<void> {
  const blocks: number[] = [];
  const place = (v: Uint8Array | undefined, copy: boolean) => {
    if (!v) return 0;
    const at = heap.addressOf(v);
    if (at !== undefined) return at;
    const block = heap.alloc(len);
    blocks.push(block);
    if (copy) heap.view(block, len).set(v);
    return block;
  };
  try {
    const ins = inputs.map((v) => place(v, true));
    const outs = outputs.map((v) => place(v, false));
    await run(ins, outs);
    outputs.forEach((v, i) => {
      if (v && heap.addressOf(v) === undefined) v.set(heap.view(outs[i]!, len));
    });
  } finally {
    for (const b of blocks) heap.free(b);
  }
}
