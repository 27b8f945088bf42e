import type { PairedTestResult } from "@lmcot/metrics";

const RESAMPLES = 2000;
/** Resamples outside the 95% interval on each side: the CI excludes 0 exactly when p < 0.05. */
const TAIL = Math.ceil(0.025 * RESAMPLES);

/**
 * Paired bootstrap of `a[i] - b[i]` over questions, CI and p from the same resamples: the CI is the
 * 2.5–97.5 percentile interval, p twice the smaller share of resamples on either side of 0.
 */
export function pairedBootstrap(a: readonly number[], b: readonly number[], seed: number): PairedTestResult {
  const n = a.length;
  const diffs = Float64Array.from(a, (x, i) => x - b[i]!);
  const meanDiff = n ? diffs.reduce((s, d) => s + d, 0) / n : 0;
  const means = new Float64Array(RESAMPLES);
  // `seededRandom(seed)` (mulberry32) inlined, as in @lmcot/metrics' bootstrap: this loop runs
  // 2,000 × n times per comparison. A draw is floor(x · n / 2^32); scaling by 2^-32 is exact, so the
  // draws are those of floor(random() · n).
  const scale = n / 4294967296;
  let state = seed >>> 0;
  for (let r = 0; r < RESAMPLES; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      s += diffs[(((t ^ (t >>> 14)) >>> 0) * scale) | 0]!;
    }
    means[r] = n ? s / n : 0;
  }
  means.sort();
  let atMost0 = 0;
  let atLeast0 = 0;
  for (const m of means) {
    if (m <= 1e-12) atMost0++;
    if (m >= -1e-12) atLeast0++;
  }
  return {
    meanDiff,
    ci: { mean: meanDiff, low: means[TAIL - 1]!, high: means[RESAMPLES - TAIL]!, level: 0.95 },
    pValue: Math.min(1, (2 * Math.min(atMost0, atLeast0)) / RESAMPLES),
    method: "paired-bootstrap",
    n,
  };
}
