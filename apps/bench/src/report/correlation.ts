/** Pearson's r with a 95% CI (Fisher z) and a two-sided p (normal approximation of z·√(n−3)). */
export interface Correlation {
  r: number;
  low: number;
  high: number;
  p: number;
  n: number;
}

/** Φ, the standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Pearson correlation of two columns over the same items; with a 0/1 column (EM) it is the
 * point-biserial correlation. Undefined when n < 4 or a column is constant.
 */
export function pearson(x: readonly number[], y: readonly number[]): Correlation | undefined {
  const n = x.length;
  if (n !== y.length || n < 4) return undefined;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return undefined;
  const r = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  const z = Math.atanh(Math.min(0.999999, Math.max(-0.999999, r)));
  const se = 1 / Math.sqrt(n - 3);
  return {
    r,
    low: Math.tanh(z - 1.96 * se),
    high: Math.tanh(z + 1.96 * se),
    p: Math.min(1, 2 * (1 - normalCdf(Math.abs(z) / se))),
    n,
  };
}
