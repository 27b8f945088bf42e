/** The PPO objective's pieces for one slice of a mini-batch, from per-token outputs (onnxruntime engine). */
export interface SliceOutputs {
  /** Row-major [B, T] (T: the slice's longest response); only the first `lengths[b]` of row b count. */
  logprobs: Float32Array;
  entropy: Float32Array;
  values: Float32Array;
  lengths: number[];
  width: number;
}

export interface SliceTargets {
  old: number[][];
  advantages: number[][];
  returns: number[][];
  values: number[][];
}

export interface PpoCoefficients {
  clipRange: number;
  clipRangeValue: number;
  vfCoef: number;
  entropyCoef: number;
}

/**
 * The slice's share of policy loss, value loss, entropy, clipped fraction and approximate KL (each
 * a token mean over `tokens`, the whole mini-batch's), and the loss's gradient w.r.t. each token's
 * log-prob, entropy and value: what `sliceLoss` computes with tfjs, including which side of a
 * `max` and of a clip gets the gradient at a tie.
 */
export function ppoSlice(
  out: SliceOutputs,
  target: SliceTargets,
  tokens: number,
  k: PpoCoefficients,
): { stats: number[]; gradLogprobs: Float32Array; gradEntropy: Float32Array; gradValues: Float32Array } {
  const size = out.lengths.length * out.width;
  const gradLogprobs = new Float32Array(size);
  const gradEntropy = new Float32Array(size);
  const gradValues = new Float32Array(size);
  let [policy, value, entropy, clipped, approxKl] = [0, 0, 0, 0, 0];
  out.lengths.forEach((length, b) => {
    for (let t = 0; t < length; t++) {
      const i = b * out.width + t;
      const lp = out.logprobs[i] as number;
      const adv = target.advantages[b]?.[t] as number;
      const logRatio = lp - (target.old[b]?.[t] as number);
      const ratio = Math.exp(logRatio);
      const clip = Math.min(Math.max(ratio, 1 - k.clipRange), 1 + k.clipRange);
      const [plain, capped] = [-adv * ratio, -adv * clip];
      policy += Math.max(plain, capped);
      const inside = ratio >= 1 - k.clipRange && ratio <= 1 + k.clipRange;
      gradLogprobs[i] = (plain >= capped || inside ? -adv * ratio : 0) / tokens;

      const v = out.values[i] as number;
      const oldV = target.values[b]?.[t] as number;
      const ret = target.returns[b]?.[t] as number;
      const delta = v - oldV;
      const vc = oldV + Math.min(Math.max(delta, -k.clipRangeValue), k.clipRangeValue);
      const [a2, c2] = [(v - ret) ** 2, (vc - ret) ** 2];
      value += 0.5 * Math.max(a2, c2);
      const vInside = delta >= -k.clipRangeValue && delta <= k.clipRangeValue;
      gradValues[i] = (k.vfCoef * (a2 >= c2 ? v - ret : vInside ? vc - ret : 0)) / tokens;

      entropy += out.entropy[i] as number;
      gradEntropy[i] = -k.entropyCoef / tokens;
      if (Math.abs(ratio - 1) > k.clipRange) clipped += 1;
      approxKl += 0.5 * logRatio * logRatio;
    }
  });
  return {
    stats: [policy, value, entropy, clipped, approxKl].map((x) => x / tokens),
    gradLogprobs,
    gradEntropy,
    gradValues,
  };
}
