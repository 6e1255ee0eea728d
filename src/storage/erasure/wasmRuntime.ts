/**
 * Loads build/erasure.wasm once per thread and wires it to one shared WebAssembly memory whose
 * first 64 KiB hold the Leopard tables. Worker threads instantiate the same module on the same
 * memory, so they code columns of shards in place.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { erasureError } from './errors.ts';
import { LEO_FFT_SKEW, leoMulLog } from './leopardField.ts';
import { createWasmHeap, type WasmHeap } from './wasmHeap.ts';
import { LAYOUT } from './wasmLayout.ts';

/** The exported kernels of assembly/erasure.ts (addresses are byte offsets in the memory). */
export type ErasureKernels = {
  cauchyApply(
    inputs: number,
    k: number,
    out: number,
    rows: number,
    tables: number,
    len: number,
    chunk: number,
  ): void;
  leoEncode(
    data: number,
    k: number,
    parity: number,
    parityCount: number,
    m: number,
    len: number,
    work: number,
    chunk: number,
  ): void;
  leoDecode(
    shards: number,
    k: number,
    parityCount: number,
    m: number,
    size: number,
    loc: number,
    out: number,
    len: number,
    work: number,
    chunk: number,
  ): void;
  xorInto(a: number, b: number, len: number): void;
};

/** The memory, its heap and this thread's kernels. */
export type ErasureRuntime = {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  heap: WasmHeap;
  kernels: ErasureKernels;
};

/** Where the build puts the coder: build/erasure.wasm at the repository root. */
export const ERASURE_WASM_PATH: string = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../build/erasure.wasm',
);

let compiled: WebAssembly.Module | undefined;
let runtime: ErasureRuntime | undefined;

/**
 * Compiles build/erasure.wasm (once); throws ERASURE_NOT_BUILT when it is missing.
 *
 * @example const module = loadErasureModule();
 */
export function loadErasureModule(path: string = ERASURE_WASM_PATH): WebAssembly.Module {
  if (compiled && path === ERASURE_WASM_PATH) return compiled;
  if (!existsSync(path)) {
    throw erasureError(
      'ERASURE_NOT_BUILT',
      'The WebAssembly erasure coder is not built: run `npm run build` (it compiles build/erasure.wasm).',
      { path },
    );
  }
  const module = new WebAssembly.Module(readFileSync(path));
  if (path === ERASURE_WASM_PATH) compiled = module;
  return module;
}

/**
 * Instantiates the kernels of `module` on `memory` (used by every thread).
 *
 * @example const kernels = instantiateKernels(runtime.module, runtime.memory);
 */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): ErasureKernels {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as ErasureKernels;
}

/**
 * This process's erasure runtime, created on first use: one shared memory with the tables
 * written in, a heap above them and the main thread's kernels.
 *
 * @example const { heap, kernels } = getErasureRuntime();
 */
export function getErasureRuntime(): ErasureRuntime {
  if (runtime) return runtime;
  const module = loadErasureModule();
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared: true });
  writeLeopardTables(new Uint8Array(memory.buffer));
  runtime = {
    module,
    memory,
    heap: createWasmHeap(memory, LAYOUT.heapBase),
    kernels: instantiateKernels(module, memory),
  };
  return runtime;
}

function writeLeopardTables(bytes: Uint8Array): void {
  for (let log = 0; log < 256; log++) {
    const at = LAYOUT.leoTables + log * 32;
    for (let x = 0; x < 16; x++) {
      bytes[at + x] = leoMulLog(x, log);
      bytes[at + 16 + x] = leoMulLog(x << 4, log);
    }
  }
  bytes.fill(0x0f, LAYOUT.nibbleMask, LAYOUT.nibbleMask + 16);
  bytes.fill(0, LAYOUT.zeroTable, LAYOUT.zeroTable + 32);
  bytes.set(LEO_FFT_SKEW, LAYOUT.leoSkew);
}
