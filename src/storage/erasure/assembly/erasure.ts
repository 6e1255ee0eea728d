// Hot loops of the erasure coder, compiled by AssemblyScript to WebAssembly with SIMD128.
//
// The JavaScript side owns the memory: it writes the tables and pointer lists (u32 arrays of
// shard addresses) and calls these functions; nothing here allocates.

import { xorRow } from './ifftButterflies';

export { cauchyApply } from './cauchy';
export { leoDecode, leoEncode } from './leopard';

/** a[0..len) ^= b[0..len) for any len (parity checks and XOR-only shapes). */
export function xorInto(a: usize, b: usize, len: usize): void {
  const vecEnd = len & ~(<usize>15);
  xorRow(a, b, vecEnd);
  for (let off = vecEnd; off < len; off++) store<u8>(a + off, load<u8>(a + off) ^ load<u8>(b + off));
}
