/** One result line of a benchmark, as the benchmark convention fixes it. */
export type BenchLine = {
  bench: string;
  case: string;
  value: number;
  unit: string;
  baseline?: string;
  baselineValue?: number;
  /** > 1 means better than the baseline. */
  ratio?: number;
};

/**
 * Prints one JSON line. With a baseline, `higherIsBetter` says how the ratio is oriented so that
 * ratio > 1 always means "better than the baseline".
 *
 * @example report({ bench: 'erasure', case: 'encode.10+4', value: 2e9, unit: 'B/s' }, { name: 'x', value: 1e9 });
 */
export function report(
  line: Omit<BenchLine, 'baseline' | 'baselineValue' | 'ratio'>,
  baseline?: { name: string; value: number; higherIsBetter?: boolean },
): BenchLine {
  const out: BenchLine = { ...line, value: round(line.value) };
  if (baseline) {
    const higher = baseline.higherIsBetter ?? true;
    out.baseline = baseline.name;
    out.baselineValue = round(baseline.value);
    out.ratio = round(higher ? line.value / baseline.value : baseline.value / line.value, 4);
  }
  console.log(JSON.stringify(out));
  return out;
}

/** Runs `fn` repeatedly for at least `minMs` (after one warm-up) and returns the best seconds per call. */
export async function bestTime(fn: () => unknown, minMs = 1000, minRuns = 3): Promise<number> {
  await fn();
  let best = Number.POSITIVE_INFINITY;
  const start = performance.now();
  let runs = 0;
  while (runs < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
    runs++;
  }
  return best / 1000;
}

function round(x: number, digits = 6): number {
  if (!Number.isFinite(x)) return x;
  const p = 10 ** Math.max(0, digits - Math.ceil(Math.log10(Math.abs(x) + 1e-300)));
  return Math.round(x * p) / p;
}
