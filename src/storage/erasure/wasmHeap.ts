import { erasureError } from './errors.ts';
import { WASM_PAGE } from './wasmLayout.ts';

/**
 * A first-fit allocator over a shared WebAssembly memory, 64-byte aligned, that grows the memory
 * when full. Shared memory never detaches old views on growth, so every view handed out stays
 * valid until its block is freed.
 */
export type WasmHeap = {
  readonly memory: WebAssembly.Memory;
  /** Allocates `size` bytes and returns the address. */
  alloc(size: number): number;
  free(address: number): void;
  /** A view of `size` bytes at `address` (valid until freed). */
  view(address: number, size: number): Uint8Array;
  /** The address of a view when it lies in this memory, else undefined. */
  addressOf(view: Uint8Array): number | undefined;
};

const ALIGN = 64;

/**
 * Creates a heap over `memory` starting at `base`.
 *
 * @example const heap = createWasmHeap(memory, 65536); const p = heap.alloc(1024);
 */
export function createWasmHeap(memory: WebAssembly.Memory, base: number): WasmHeap {
  // Free blocks sorted by address; used blocks by address → size.
  const free: { at: number; size: number }[] = [];
  const used = new Map<number, number>();
  let top = base;
  const buffers = new WeakSet<ArrayBufferLike>();
  let bytes = new Uint8Array(memory.buffer);
  buffers.add(memory.buffer);

  const current = () => {
    if (bytes.buffer !== memory.buffer || bytes.length !== memory.buffer.byteLength) {
      bytes = new Uint8Array(memory.buffer);
      buffers.add(memory.buffer);
    }
    return bytes;
  };

  return {
    memory,
    alloc(size) {
      if (!Number.isSafeInteger(size) || size < 0 || size > 2 ** 32) {
        throw erasureError(
          'ERASURE_BAD_ARGUMENT',
          'Allocate between 0 bytes and 4 GiB in the erasure memory.',
          {
            size,
          },
        );
      }
      const need = Math.max(ALIGN, Math.ceil(size / ALIGN) * ALIGN);
      for (let i = 0; i < free.length; i++) {
        const block = free[i]!;
        if (block.size < need) continue;
        const at = block.at;
        if (block.size === need) free.splice(i, 1);
        else {
          block.at += need;
          block.size -= need;
        }
        used.set(at, need);
        return at;
      }
      const at = top;
      const end = at + need;
      const have = memory.buffer.byteLength;
      if (end > have) {
        try {
          memory.grow(Math.ceil((end - have) / WASM_PAGE));
        } catch (cause) {
          throw erasureError(
            'ERASURE_BAD_ARGUMENT',
            'The erasure coder could not grow its memory; code the file in smaller pieces.',
            { requestedBytes: size },
            cause,
          );
        }
      }
      top = end;
      used.set(at, need);
      return at;
    },
    free(address) {
      const size = used.get(address);
      if (size === undefined) return;
      used.delete(address);
      let i = 0;
      while (i < free.length && free[i]!.at < address) i++;
      free.splice(i, 0, { at: address, size });
      // Coalesce with the neighbours, and give the tail back to `top`.
      const next = free[i + 1];
      if (next && address + size === next.at) {
        free[i]!.size += next.size;
        free.splice(i + 1, 1);
      }
      const prev = free[i - 1];
      if (prev && prev.at + prev.size === address) {
        prev.size += free[i]!.size;
        free.splice(i, 1);
      }
      const last = free[free.length - 1];
      if (last && last.at + last.size === top) {
        top = last.at;
        free.pop();
      }
    },
    view(address, size) {
      return current().subarray(address, address + size);
    },
    addressOf(view) {
      current();
      return buffers.has(view.buffer) ? view.byteOffset : undefined;
    },
  };
}
