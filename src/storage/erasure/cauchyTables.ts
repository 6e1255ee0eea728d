import { gfMul } from './gf256.ts';

/**
 * Writes the nibble tables of a rows×k coefficient matrix in the order the Cauchy kernel reads
 * them: rows in batches of 4, then 2, then 1; within a batch of R rows, [j][row] with 32 bytes
 * (c·x for x < 16, then c·(x << 4)) per coefficient. Returns the bytes written (rows·k·32).
 *
 * @example writeCauchyTables(bytes, at, cauchyParityMatrix(10, 4), 4, 10);
 */
export function writeCauchyTables(
  bytes: Uint8Array,
  at: number,
  matrix: Uint8Array,
  rows: number,
  k: number,
): number {
  let r = 0;
  while (r < rows) {
    const batch = rows - r >= 4 ? 4 : rows - r >= 2 ? 2 : 1;
    for (let j = 0; j < k; j++) {
      for (let b = 0; b < batch; b++) {
        const c = matrix[(r + b) * k + j]!;
        const t = at + (r * k + j * batch + b) * 32;
        for (let x = 0; x < 16; x++) {
          bytes[t + x] = gfMul(c, x);
          bytes[t + 16 + x] = gfMul(c, x << 4);
        }
      }
    }
    r += batch;
  }
  return rows * k * 32;
}
