import { seededRandom } from "@lmcot/core";
import { columnsInKernel, KERNEL_MAX_N, STEP } from "./resample-kernel";

export { seededRandom };

export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface ConfidenceInterval {
  mean: number;
  low: number;
  high: number;
  level: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  /** Confidence level, default 0.95. */
  level?: number;
}

/** Percentile bootstrap confidence interval of the mean, seeded (same inputs + seed → same interval). */
export function bootstrapCI(values: readonly number[], options: BootstrapOptions = {}): ConfidenceInterval {
  return bootstrapCIs([values], options)[0]!;
}

/**
 * `bootstrapCI` of several columns over the same items (EM and F1 of one run) from one series of
 * resamples: each column gets the interval `bootstrapCI` gives it alone, for one pass of draws.
 */
export function bootstrapCIs(
  columns: readonly (readonly number[])[],
  options: BootstrapOptions = {},
): ConfidenceInterval[] {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const k = columns.length;
  const n = columns[0]?.length ?? 0;
  if (columns.some((c) => c.length !== n)) throw new RangeError("bootstrapCIs: the columns differ in length");
  const data = columns.map((column) => Float64Array.from(column));
  const means = columns.map(() => new Float64Array(resamples));
  // A draw is floor(x * n / 2^32); scaling by a power of two is exact, so one multiplication will do.
  const scale = n / 4294967296;
  // mulberry32, inlined: this loop runs resamples × n times. Its state is a counter (seed + j × step),
  // so each pair of columns replays the resample's draws from its start state, summing as it draws.
  // The kernel, where there is one, makes the first 4 × ⌊n/4⌋ draws of each; this loop the rest.
  const kernel = n < KERNEL_MAX_N ? columnsInKernel(data) : undefined;
  const quads = kernel ? n >> 2 : 0;
  let start = (options.seed ?? 0) | 0;
  for (let r = 0; r < resamples && n > 0; r++) {
    let a = start;
    for (let c = 0; c < k; c += 2) {
      const pair = Math.min(c + 1, k - 1);
      const x = data[c]!;
      const y = data[pair]!;
      let sx = 0;
      let sy = 0;
      a = start;
      if (kernel) {
        sx = kernel.sums(n, a, quads, kernel.offsets[c]!, kernel.offsets[pair]!);
        sy = kernel.scratch[0]!;
        a = (a + Math.imul(quads * 4, STEP)) | 0;
      }
      for (let i = quads * 4; i < n; i++) {
        a = (a + STEP) | 0;
        let t = Math.imul(a ^ (a >>> 15), a | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        const d = (((t ^ (t >>> 14)) >>> 0) * scale) | 0;
        sx += x[d]!;
        sy += y[d]!;
      }
      means[c]![r] = sx / n;
      if (c + 1 < k) means[c + 1]![r] = sy / n;
    }
    start = a;
  }
  return columns.map((column, c) => {
    const sorted = means[c]!.sort();
    return {
      mean: mean(column),
      low: quantile(sorted, (1 - level) / 2),
      high: quantile(sorted, 1 - (1 - level) / 2),
      level,
    };
  });
}

export interface PairedTestResult {
  /** mean(a) − mean(b). */
  meanDiff: number;
  /** Bootstrap CI of the mean difference. */
  ci: ConfidenceInterval;
  /** Two-sided p-value of "no difference". */
  pValue: number;
  method: "paired-bootstrap" | "approximate-randomization";
  n: number;
}

/**
 * Paired significance test between two runs scored on the same examples (`a[i]` and `b[i]` belong to
 * example i). `approximate-randomization` (default) swaps each pair's labels at random; the
 * `paired-bootstrap` variant resamples examples and counts how often the sign of the difference flips.
 */
export function pairedTest(
  a: readonly number[],
  b: readonly number[],
  options: BootstrapOptions & { method?: PairedTestResult["method"] } = {},
): PairedTestResult {
  if (a.length !== b.length)
    throw new RangeError(`paired test needs equal lengths, got ${a.length} and ${b.length}`);
  const n = a.length;
  const diffs = a.map((x, i) => x - b[i]!);
  const observed = mean(diffs);
  const resamples = options.resamples ?? 10000;
  const random = seededRandom(options.seed ?? 0);
  const method = options.method ?? "approximate-randomization";
  let extreme = 0;
  if (method === "approximate-randomization") {
    for (let r = 0; r < resamples; r++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += random() < 0.5 ? diffs[i]! : -diffs[i]!;
      if (Math.abs(s / n) >= Math.abs(observed) - 1e-12) extreme++;
    }
  } else {
    // Shift the bootstrap distribution to the null (mean 0) and count as-extreme resamples.
    for (let r = 0; r < resamples; r++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += diffs[Math.floor(random() * n)]!;
      if (Math.abs(s / n - observed) >= Math.abs(observed) - 1e-12) extreme++;
    }
  }
  const pValue = n === 0 ? 1 : (extreme + 1) / (resamples + 1);
  return {
    meanDiff: observed,
    ci: bootstrapCI(diffs, { ...options, resamples: options.resamples ?? 1000 }),
    pValue,
    method,
    n,
  };
}
