/** Decoding settings after defaults and checks. */
export interface SamplingSettings {
  sample: boolean;
  temperature: number;
  topK: number;
  topP: number;
}

/** log-softmax of `logits[offset, offset + vocab)` in float64. */
export function logSoftmax(logits: ArrayLike<number>, offset: number, vocab: number): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i] as number);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp((logits[offset + i] as number) - max);
  const logZ = max + Math.log(sum);
  const out = new Float64Array(vocab);
  for (let i = 0; i < vocab; i++) out[i] = (logits[offset + i] as number) - logZ;
  return out;
}

/**
 * Picks the next token from one row of raw logits: argmax when not sampling, otherwise a draw
 * from softmax(logits / temperature) restricted to the top-k tokens, then to the smallest set whose
 * probability reaches top-p (HF's warper order). Returns the token and its log-prob under the
 * unmodified model distribution.
 */
export function chooseToken(
  logits: ArrayLike<number>,
  offset: number,
  vocab: number,
  settings: SamplingSettings,
  random: () => number,
): { token: number; logprob: number } {
  const logprobs = logSoftmax(logits, offset, vocab);
  if (!settings.sample) {
    let best = 0;
    for (let i = 1; i < vocab; i++) if ((logprobs[i] as number) > (logprobs[best] as number)) best = i;
    return { token: best, logprob: logprobs[best] as number };
  }
  // Tokens whose weight is below e^-40 of the best one cannot change a top-k/top-p draw (their total
  // mass is < vocab · e^-40), so only the rest are sorted; without top-k/top-p nothing is sorted.
  const restricted = settings.topK > 0 || settings.topP < 1;
  let best = 0;
  for (let i = 1; i < vocab; i++) if ((logprobs[i] as number) > (logprobs[best] as number)) best = i;
  const floor = (logprobs[best] as number) - 40 * settings.temperature;
  const kept: number[] = [];
  for (let i = 0; i < vocab; i++) if (!restricted || (logprobs[i] as number) > floor) kept.push(i);
  if (restricted) {
    kept.sort((a, b) => (logprobs[b] as number) - (logprobs[a] as number) || a - b);
    if (settings.topK > 0 && kept.length > settings.topK) kept.length = settings.topK;
  }
  const max = (logprobs[best] as number) / settings.temperature;
  const weights = kept.map((i) => Math.exp((logprobs[i] as number) / settings.temperature - max));
  const total = weights.reduce((a, b) => a + b, 0);
  let size = weights.length;
  if (settings.topP < 1) {
    let cumulative = 0;
    for (let i = 0; i < weights.length; i++) {
      cumulative += (weights[i] as number) / total;
      if (cumulative >= settings.topP) {
        size = i + 1;
        break;
      }
    }
  }
  const mass = weights.slice(0, size).reduce((a, b) => a + b, 0);
  let r = random() * mass;
  let pick = size - 1;
  for (let i = 0; i < size; i++) {
    r -= weights[i] as number;
    if (r < 0) {
      pick = i;
      break;
    }
  }
  const token = kept[pick] as number;
  return { token, logprob: logprobs[token] as number };
}

/** An independent stream per (seed, input, sequence): results do not depend on batch composition. */
export function streamSeed(seed: number, inputIndex: number, sequenceIndex: number): number {
  let h =
    Math.imul(seed >>> 0, 0x9e3779b1) ^
    Math.imul(inputIndex + 1, 0x85ebca6b) ^
    Math.imul(sequenceIndex + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
