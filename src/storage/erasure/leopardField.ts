/**
 * The field and FFT constants of the Leopard-RS GF(2^8) coder (Lin–Chung–Han additive FFT): the
 * same polynomial 0x11D, but elements are written in the Cantor basis, which turns the subspace
 * polynomials of the FFT into simple XORs of indices. Logarithms are taken mod 255, and log 255
 * stands for log 0 = "multiply by zero" inside a butterfly (which then skips the multiply).
 */

/** The modulus of logarithms; as a butterfly factor it means "no multiply". */
export const LEO_MODULUS = 255;

const CANTOR_BASIS = [1, 214, 152, 146, 86, 200, 88, 230] as const;

/** log of a Cantor-basis element (LEO_LOG[0] = 255). */
export const LEO_LOG: Uint8Array = new Uint8Array(256);
/** Cantor-basis element of a logarithm (LEO_EXP[255] = LEO_EXP[0] = 1). */
export const LEO_EXP: Uint8Array = new Uint8Array(256);
/** Log-domain twiddle ("skew") factors of the FFT, indexed by offset + r + dist − 1. */
export const LEO_FFT_SKEW: Uint8Array = new Uint8Array(256);
/** Walsh–Hadamard transform of the log table, used to evaluate the error locator in decoding. */
export const LEO_LOG_WALSH: Uint8Array = new Uint8Array(256);

/**
 * a + b mod 255 with the partial reduction Leopard uses (255 may stand for 0).
 *
 * @example leoAddMod(200, 100) // 45
 */
export function leoAddMod(a: number, b: number): number {
  const sum = a + b;
  return (sum + (sum >>> 8)) & 0xff;
}

/**
 * a − b mod 255, partially reduced like {@link leoAddMod}.
 *
 * @example leoSubMod(0, 1) // 254
 */
export function leoSubMod(a: number, b: number): number {
  const dif = (a - b) >>> 0;
  return (dif + (dif >>> 8)) & 0xff;
}

/**
 * a · exp(logB) in the Cantor-basis field (logB = 255 multiplies by one).
 *
 * @example leoMulLog(x, 0) === x
 */
export function leoMulLog(a: number, logB: number): number {
  if (a === 0) return 0;
  return LEO_EXP[leoAddMod(LEO_LOG[a]!, logB)]!;
}

/**
 * In-place Walsh–Hadamard transform mod 255 over `data.length` (a power of two) entries.
 *
 * @example leoFwht(Uint8Array.of(1, 0)) // → [1, 1]
 */
export function leoFwht(data: Uint8Array): void {
  const n = data.length;
  for (let dist = 1; dist < n; dist <<= 1) {
    for (let r = 0; r < n; r += dist << 1) {
      for (let i = r; i < r + dist; i++) {
        const a = data[i]!;
        const b = data[i + dist]!;
        data[i] = leoAddMod(a, b);
        data[i + dist] = leoSubMod(a, b);
      }
    }
  }
}

{
  // LFSR logs in the polynomial basis (held in LEO_EXP for a moment), then conversion to Cantor.
  let state = 1;
  for (let i = 0; i < LEO_MODULUS; i++) {
    LEO_EXP[state] = i;
    state <<= 1;
    if (state >= 256) state ^= 0x11d;
  }
  LEO_EXP[0] = LEO_MODULUS;
  LEO_LOG[0] = 0;
  for (let i = 0; i < 8; i++) {
    const width = 1 << i;
    for (let j = 0; j < width; j++) LEO_LOG[j + width] = LEO_LOG[j]! ^ CANTOR_BASIS[i]!;
  }
  for (let i = 0; i < 256; i++) LEO_LOG[i] = LEO_EXP[LEO_LOG[i]!]!;
  for (let i = 0; i < 256; i++) LEO_EXP[LEO_LOG[i]!] = i;
  LEO_EXP[LEO_MODULUS] = LEO_EXP[0]!;

  // FFT skew factors {1}.
  const temp = new Uint8Array(7);
  for (let i = 1; i < 8; i++) temp[i - 1] = 1 << i;
  for (let m = 0; m < 7; m++) {
    const step = 1 << (m + 1);
    LEO_FFT_SKEW[(1 << m) - 1] = 0;
    for (let i = m; i < 7; i++) {
      const s = 1 << (i + 1);
      for (let j = (1 << m) - 1; j < s; j += step) LEO_FFT_SKEW[j + s] = LEO_FFT_SKEW[j]! ^ temp[i]!;
    }
    temp[m] = LEO_MODULUS - LEO_LOG[leoMulLog(temp[m]!, LEO_LOG[temp[m]! ^ 1]!)]!;
    for (let i = m + 1; i < 7; i++) {
      const sum = leoAddMod(LEO_LOG[temp[i]! ^ 1]!, temp[m]!);
      temp[i] = leoMulLog(temp[i]!, sum);
    }
  }
  for (let i = 0; i < LEO_MODULUS; i++) LEO_FFT_SKEW[i] = LEO_LOG[LEO_FFT_SKEW[i]!]!;

  for (let i = 0; i < 256; i++) LEO_LOG_WALSH[i] = LEO_LOG[i]!;
  LEO_LOG_WALSH[0] = 0;
  leoFwht(LEO_LOG_WALSH);
}

/**
 * The error-locator logarithms for a set of erased positions (Leopard's decoder): a present
 * position is multiplied by exp(loc[i]) before the transforms and an erased one by exp(−loc[i])
 * after them.
 *
 * @example leoErrorLocator(new Uint8Array(256).fill(1, 0, 4))
 */
export function leoErrorLocator(erased: Uint8Array): Uint8Array {
  const loc = Uint8Array.from(erased);
  leoFwht(loc);
  for (let i = 0; i < 256; i++) loc[i] = (loc[i]! * LEO_LOG_WALSH[i]!) % LEO_MODULUS;
  leoFwht(loc);
  return loc;
}
