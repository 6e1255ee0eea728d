/**
 * Fixed addresses in the erasure coder's WebAssembly memory, shared with assembly/erasure.ts:
 * the first 64 KiB hold constant tables, the heap that JavaScript manages starts above them.
 */
export const LAYOUT = {
  /** 16 bytes of 0x0f: the nibble mask, loaded by the kernels. */
  nibbleMask: 1008,
  /** 256 × 32 bytes: nibble product tables of the Leopard field, by logarithm. */
  leoTables: 1024,
  /** 32 zero bytes: a butterfly whose factor is log 255 multiplies by zero. */
  zeroTable: 1024 + 256 * 32,
  /** 256 bytes: the FFT skew logarithms. */
  leoSkew: 1024 + 256 * 32 + 32,
  /** First byte the JavaScript heap may hand out. */
  heapBase: 65536,
} as const;

/** WebAssembly pages are 64 KiB. */
export const WASM_PAGE = 65536;
