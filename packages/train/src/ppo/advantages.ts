/**
 * Generalised advantage estimation (Schulman et al. 2016) over one response: per-token rewards and
 * value estimates in, advantages and returns (advantage + value, the value head's target) out.
 */
export function gae(
  rewards: readonly number[],
  values: readonly number[],
  gamma: number,
  lam: number,
): { advantages: number[]; returns: number[] } {
  const n = rewards.length;
  const advantages = new Array<number>(n);
  let last = 0;
  for (let t = n - 1; t >= 0; t--) {
    const next = t + 1 < n ? (values[t + 1] as number) : 0;
    const delta = (rewards[t] as number) + gamma * next - (values[t] as number);
    last = delta + gamma * lam * last;
    advantages[t] = last;
  }
  return { advantages, returns: advantages.map((a, t) => a + (values[t] as number)) };
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function variance(xs: readonly number[]): number {
  const m = mean(xs);
  return mean(xs.map((x) => (x - m) ** 2));
}

/** Scales `xs` to unit variance, and to zero mean when `shiftMean` (TRL's `whiten`). */
export function whiten(xs: readonly number[], shiftMean = true): number[] {
  const m = mean(xs);
  const scale = 1 / Math.sqrt(variance(xs) + 1e-8);
  return xs.map((x) => (shiftMean ? (x - m) * scale : (x - m) * scale + m));
}

/** 1 − Var(target − prediction) / Var(target): how much of the returns the value head explains. */
export function explainedVariance(predicted: readonly number[], target: readonly number[]): number {
  const v = variance(target);
  if (v === 0) return Number.NaN;
  return 1 - variance(target.map((t, i) => t - (predicted[i] as number))) / v;
}

/**
 * The KL penalty coefficient β: fixed, or adaptive (Ziegler et al. 2019) — nudged each step so the
 * policy's KL from the reference tracks `target` over `horizon` samples.
 */
export class KlController {
  constructor(
    public value: number,
    private readonly adaptive?: { target: number; horizon: number },
  ) {}

  update(currentKl: number, samples: number): void {
    if (this.adaptive === undefined || !Number.isFinite(currentKl)) return;
    const error = Math.min(0.2, Math.max(-0.2, currentKl / this.adaptive.target - 1));
    this.value *= 1 + (error * samples) / this.adaptive.horizon;
  }
}
