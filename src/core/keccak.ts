/**
 * Keccak-256 for the two input sizes a Merkle tree needs (32 and 64 bytes), as WebAssembly that this
 * project generates at load time (keccakWasm.ts): no build step and no committed binary.
 *
 * Why by hand: node:crypto has SHA3 but not Ethereum's Keccak padding, and the JS implementations
 * work on 32-bit halves (noble: ~4 µs per 64-byte hash here, js-sha3 ~3 µs, hash-wasm ~0.6 µs with
 * its per-call copies). With native i64 rotations, one fully unrolled permutation and whole batches
 * hashed inside one call, this runs at ~0.3 µs per hash on the 2-core reference machine.
 *
 * Every input fits one sponge block (rate 136 bytes), so a hash is: load 4 or 8 little-endian lanes,
 * pad (0x01 after the message, 0x80 in byte 135), one keccak-f[1600], store lanes 0..3.
 */
import { emitKeccakModule, KECCAK_MAX_PAGES } from './keccakWasm.ts';

/** Bytes at the start of a kernel's memory kept unused, so that no buffer starts at address 0. */
export const KECCAK_RESERVED_BYTES = 64;

/**
 * Keccak-256 batches over one `WebAssembly.Memory`; all arguments are byte offsets into it.
 * Offsets below {@link KECCAK_RESERVED_BYTES} are left unused.
 */
export type KeccakKernel = {
  readonly memory: WebAssembly.Memory;
  /** `out = keccak256(mem[a..a+32] ‖ mem[b..b+32])`. */
  hash64(a: number, b: number, out: number): void;
  /** `out = keccak256(mem[p..p+32])`. */
  hash32(p: number, out: number): void;
  /** For each of `n` 64-byte records at `src`: `out[i] = keccak256(keccak256(record i))` (OZ leaf). */
  hashLeaves(src: number, n: number, out: number): void;
  /**
   * Inner nodes of an OpenZeppelin heap-layout tree at `tree`, for indices `to-1` down to `from`:
   * `node[i] = keccak256(sort(node[2i+1], node[2i+2]))`, comparing the 32-byte nodes as big-endian numbers.
   */
  hashNodes(tree: number, from: number, to: number): void;
  /** `out[i] = keccak256(mem[src + 64i .. +64])` for `n` blocks (the bare cost, for benchmarks). */
  hashBlocks64(src: number, n: number, out: number): void;
};

/**
 * Creates a kernel over a fresh shared memory of at least `bytes` bytes (plus the reserved prefix),
 * which {@link growKeccakKernel} may later enlarge up to `maxBytes` (default: no growth). The memory
 * is shared so that a worker thread can hash into it too (see keccakTasks.ts).
 *
 * @example
 * const k = createKeccakKernel(64);
 * const mem = new Uint8Array(k.memory.buffer);
 * k.hash32(KECCAK_RESERVED_BYTES, KECCAK_RESERVED_BYTES + 32); // hash of 32 zero bytes
 */
export function createKeccakKernel(bytes: number, maxBytes = bytes): KeccakKernel {
  const initial = pagesFor(bytes);
  const maximum = Math.max(initial, pagesFor(maxBytes));
  if (maximum > KECCAK_MAX_PAGES)
    throw new RangeError(`a keccak kernel holds at most 4 GiB, not ${maxBytes} bytes`);
  const memory = new WebAssembly.Memory({ initial, maximum, shared: true });
  return instantiateKeccak(keccakModule(), memory);
}

/**
 * Grows `kernel`'s memory to hold at least `bytes` bytes after the reserved prefix; views of the old
 * `memory.buffer` keep their old length, so take new ones.
 *
 * @example growKeccakKernel(kernel, 64 * n);
 */
export function growKeccakKernel(kernel: KeccakKernel, bytes: number): void {
  const have = kernel.memory.buffer.byteLength / 65536;
  const need = pagesFor(bytes);
  if (need > have) kernel.memory.grow(need - have);
}

/**
 * The kernel over an existing memory, from the compiled module (which worker threads receive).
 *
 * @example const k = instantiateKeccak(keccakModule(), memory);
 */
export function instantiateKeccak(module: WebAssembly.Module, memory: WebAssembly.Memory): KeccakKernel {
  const { k64, k32, leaves, nodes, blocks } = new WebAssembly.Instance(module, { env: { memory } })
    .exports as Record<
    'k64' | 'k32' | 'leaves' | 'nodes' | 'blocks',
    (a: number, b: number, c: number) => void
  >;
  return {
    memory,
    hash64: k64,
    hash32: (p, out) => k32(p, 0, out),
    hashLeaves: leaves,
    hashNodes: nodes,
    hashBlocks64: blocks,
  };
}

/**
 * The compiled kernel module (generated and compiled once per thread that asks).
 *
 * @example new Worker(url, { workerData: { module: keccakModule() } });
 */
export function keccakModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(emitKeccakModule());
  return compiled;
}
let compiled: WebAssembly.Module | undefined;

function pagesFor(bytes: number): number {
  return Math.max(1, Math.ceil((bytes + KECCAK_RESERVED_BYTES) / 65536));
}

/**
 * Keccak-256 of a 32- or 64-byte input, through the kernel (convenience for tests and small jobs;
 * batches should use {@link createKeccakKernel}).
 *
 * @example keccak256Small(new Uint8Array(64)); // Uint8Array(32)
 */
export function keccak256Small(input: Uint8Array): Uint8Array {
  if (input.length !== 32 && input.length !== 64) throw new RangeError('keccak256Small takes 32 or 64 bytes');
  small ??= createKeccakKernel(96);
  const mem = new Uint8Array(small.memory.buffer);
  const base = KECCAK_RESERVED_BYTES;
  mem.set(input, base);
  if (input.length === 64) small.hash64(base, base + 32, base);
  else small.hash32(base, base);
  return mem.slice(base, base + 32);
}
let small: KeccakKernel | undefined;
