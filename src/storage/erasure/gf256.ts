/**
 * GF(2^8) with the polynomial 0x11D in the ordinary (polynomial) basis: the field of the Cauchy
 * coder. Tables are built once at load; every operation is a table lookup.
 */

/** exp[i] = 2^i, doubled so that exp[log a + log b] needs no reduction. */
export const GF_EXP: Uint8Array = new Uint8Array(512);
/** log[a] for a ≠ 0 (log[0] is unused). */
export const GF_LOG: Uint8Array = new Uint8Array(256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    GF_EXP[i] = x;
    GF_LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) GF_EXP[i] = GF_EXP[i - 255]!;
}

/**
 * Product of two field elements.
 *
 * @example gfMul(2, 0x80) // 0x1d
 */
export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return GF_EXP[GF_LOG[a]! + GF_LOG[b]!]!;
}

/**
 * Multiplicative inverse of a non-zero element.
 *
 * @example gfMul(7, gfInv(7)) // 1
 */
export function gfInv(a: number): number {
  if (a === 0) throw new RangeError('0 has no inverse in GF(2^8)');
  return GF_EXP[255 - GF_LOG[a]!]!;
}

/**
 * The 256 products c·x for x = 0..255, so a whole row can be multiplied with one lookup per byte.
 *
 * @example gfProductRow(3)[5] === gfMul(3, 5)
 */
export function gfProductRow(c: number): Uint8Array {
  const row = new Uint8Array(256);
  if (c === 0) return row;
  const lc = GF_LOG[c]!;
  for (let x = 1; x < 256; x++) row[x] = GF_EXP[lc + GF_LOG[x]!]!;
  return row;
}

/**
 * Inverts a k×k matrix (row-major) by Gauss–Jordan elimination; returns undefined when singular.
 *
 * @example gfInvertMatrix(Uint8Array.of(1, 0, 0, 1), 2) // identity
 */
export function gfInvertMatrix(matrix: Uint8Array, k: number): Uint8Array | undefined {
  const a = Uint8Array.from(matrix);
  const inv = new Uint8Array(k * k);
  for (let i = 0; i < k; i++) inv[i * k + i] = 1;
  for (let col = 0; col < k; col++) {
    let pivot = col;
    while (pivot < k && a[pivot * k + col] === 0) pivot++;
    if (pivot === k) return undefined;
    if (pivot !== col) {
      swapRows(a, k, pivot, col);
      swapRows(inv, k, pivot, col);
    }
    const scale = gfProductRow(gfInv(a[col * k + col]!));
    for (let j = 0; j < k; j++) {
      a[col * k + j] = scale[a[col * k + j]!]!;
      inv[col * k + j] = scale[inv[col * k + j]!]!;
    }
    for (let row = 0; row < k; row++) {
      const f = a[row * k + col]!;
      if (row === col || f === 0) continue;
      const p = gfProductRow(f);
      for (let j = 0; j < k; j++) {
        a[row * k + j]! ^= p[a[col * k + j]!]!;
        inv[row * k + j]! ^= p[inv[col * k + j]!]!;
      }
    }
  }
  return inv;
}

function swapRows(m: Uint8Array, k: number, r1: number, r2: number): void {
  for (let j = 0; j < k; j++) {
    const t = m[r1 * k + j]!;
    m[r1 * k + j] = m[r2 * k + j]!;
    m[r2 * k + j] = t;
  }
}
