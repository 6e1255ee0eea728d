/**
 * Fixed-size byte records for the hot loops of the reward tree: addresses and uint256 amounts parsed
 * straight into a byte array, hex out, comparisons, and sorting records as indices. No strings and
 * no allocation per record.
 */
/** Byte value of two ASCII hex digits, indexed by (first << 7) | second; −1 if either is not hex. */
const HEX_PAIR = new Int16Array(1 << 14).fill(-1);
for (const a of '0123456789abcdefABCDEF') {
  for (const b of '0123456789abcdefABCDEF') {
    HEX_PAIR[(a.charCodeAt(0) << 7) | b.charCodeAt(0)] = Number.parseInt(a + b, 16);
  }
}
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const MAX_U64 = (1n << 64n) - 1n;
const MAX_U256 = (1n << 256n) - 1n;

/**
 * Parses a 0x-prefixed 40-hex-digit address (any letter case) into `out[at..at+20]`; false if malformed.
 *
 * @example writeAddress(bytes, 12, '0x1111111111111111111111111111111111111111'); // true
 */
export function writeAddress(out: Uint8Array, at: number, account: unknown): boolean {
  if (typeof account !== 'string' || account.length !== 42 || account.charCodeAt(0) !== 48) return false;
  if ((account.charCodeAt(1) | 32) !== 120) return false;
  let wide = 0;
  let bad = 0;
  for (let j = 0, p = 2; j < 20; j++, p += 2) {
    const c1 = account.charCodeAt(p);
    const c2 = account.charCodeAt(p + 1);
    wide |= c1 | c2;
    const v = HEX_PAIR[((c1 & 0x7f) << 7) | (c2 & 0x7f)]!;
    bad |= v;
    out[at + j] = v;
  }
  return bad >= 0 && wide < 0x80;
}

/**
 * Writes `amount` as a big-endian uint256 at `at` (the 32 bytes must already be zero); false unless
 * it is a bigint in [0, 2^256).
 *
 * @example writeUint256(new DataView(bytes.buffer), 32, 10n ** 18n); // true
 */
export function writeUint256(view: DataView, at: number, amount: unknown): boolean {
  if (typeof amount !== 'bigint' || amount < 0n || amount > MAX_U256) return false;
  if (amount <= MAX_U64) {
    view.setBigUint64(at + 24, amount);
    return true;
  }
  let v = amount;
  for (let o = 24; v > 0n; o -= 8, v >>= 64n) view.setBigUint64(at + o, BigInt.asUintN(64, v));
  return true;
}

/**
 * The 32 bytes of a 0x + 64 hex digits string, or null.
 *
 * @example parseBytes32(tree.root); // Uint8Array(32)
 */
export function parseBytes32(hex: unknown): Uint8Array | null {
  if (typeof hex !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(hex)) return null;
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}

/**
 * `length` bytes from `at` as a lowercase 0x-prefixed hex string.
 *
 * @example toHex(nodes, 32 * i, 32); // '0x…'
 */
export function toHex(bytes: Uint8Array, at: number, length: number): `0x${string}` {
  let s = '0x';
  for (let i = 0; i < length; i++) s += HEX_BYTE[bytes[at + i]!];
  return s as `0x${string}`;
}

/**
 * Compares two byte ranges as big-endian numbers: negative, 0 or positive.
 *
 * @example compareBytes(a, 0, b, 0, 32) <= 0; // a comes first in a sorted pair
 */
export function compareBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, length: number): number {
  for (let i = 0; i < length; i++) {
    const d = a[ai + i]! - b[bi + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Copies `length` bytes without allocating (no subarray per record in hot loops).
 *
 * @example copyBytes(records, 64 * e + 12, out, 20 * r, 20);
 */
export function copyBytes(from: Uint8Array, at: number, to: Uint8Array, into: number, length: number): void {
  for (let i = 0; i < length; i++) to[into + i] = from[at + i]!;
}

/**
 * True when the `n` records (`length` bytes every `stride` from `base`) strictly ascend.
 *
 * @example isStrictlyAscending(mem, 12, 64, 20, n); // accounts already sorted and unique
 */
export function isStrictlyAscending(
  mem: Uint8Array,
  base: number,
  stride: number,
  length: number,
  n: number,
): boolean {
  for (let i = 1; i < n; i++) {
    if (compareBytes(mem, base + stride * (i - 1), mem, base + stride * i, length) >= 0) return false;
  }
  return true;
}

/**
 * Indices of the `n` records (`length` bytes every `stride` from `base`) in ascending byte order.
 * Buckets on the top bits (about one record per bucket for random keys), then sorts each bucket by
 * full comparison: insertion sort when small, a comparison sort when someone ground many keys into
 * one bucket, so crafted accounts cost O(k log k), not O(k²).
 *
 * @example const byHash = sortRecords(mem, hashes, 32, 32, n); // byHash[rank] = record index
 */
export function sortRecords(
  mem: Uint8Array,
  base: number,
  stride: number,
  length: number,
  n: number,
): Uint32Array {
  const bits = Math.min(22, Math.max(1, Math.ceil(Math.log2(n + 1))));
  const shift = 32 - bits;
  const keys = new Uint32Array(n);
  const ends = new Uint32Array(1 << bits);
  for (let i = 0; i < n; i++) {
    const p = base + stride * i;
    const key = ((mem[p]! << 24) | (mem[p + 1]! << 16) | (mem[p + 2]! << 8) | mem[p + 3]!) >>> 0;
    keys[i] = key;
    ends[key >>> shift]!++;
  }
  for (let b = 1; b < ends.length; b++) ends[b]! += ends[b - 1]!;
  const order = new Uint32Array(n);
  for (let i = n - 1; i >= 0; i--) order[--ends[keys[i]! >>> shift]!] = i;
  // now ends[b] is the start of bucket b
  const compare = (x: number, y: number): number => {
    const kx = keys[x]!;
    const ky = keys[y]!;
    if (kx !== ky) return kx < ky ? -1 : 1;
    return compareBytes(mem, base + stride * x + 4, mem, base + stride * y + 4, length - 4);
  };
  for (let b = 0; b < ends.length; b++) {
    const lo = ends[b]!;
    const hi = b + 1 < ends.length ? ends[b + 1]! : n;
    if (hi - lo < 2) continue;
    if (hi - lo > 32) {
      order.subarray(lo, hi).sort(compare);
      continue;
    }
    for (let i = lo + 1; i < hi; i++) {
      const v = order[i]!;
      let j = i - 1;
      while (j >= lo && compare(order[j]!, v) > 0) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = v;
    }
  }
  return order;
}
