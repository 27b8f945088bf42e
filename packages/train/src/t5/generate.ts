import { tf } from "../backend";
import { padBatch } from "../batch";
import { EOS_ID, PAD_ID } from "../tokenizer";
import { DecoderCache } from "./kv-cache";
import type { T5Model } from "./model";

export interface DecodeOptions {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topK?: number;
  topP?: number;
  /** Uniform [0, 1) source; required when sampling. */
  random?: () => number;
  signal?: AbortSignal;
  /** Re-read the whole prefix every step instead of the KV cache (the reference the tests compare to). */
  fullRecompute?: boolean;
}

export interface Decoded {
  tokenIds: number[];
  /** Log-prob of each chosen token under the model (before temperature / top-k / top-p). */
  logprobs: number[];
  finishReason: "stop" | "length";
}

/**
 * Autoregressive decoding: the encoder runs once; each step the decoder reads one new token per row
 * against its KV cache and computes that position's logits only. The output includes the final
 * `</s>` when the model stopped.
 */
export function decode(model: T5Model, inputs: readonly number[][], options: DecodeOptions): Decoded[] {
  const enc = padBatch(inputs);
  const encoded = model.encode(enc);
  const cache = options.fullRecompute ? undefined : new DecoderCache(model, encoded, enc.mask);
  const state = decodeState(inputs.length);
  const { out, done, prefixes } = state;
  try {
    for (let step = 0; step < options.maxNewTokens && done.some((d) => !d); step++) {
      options.signal?.throwIfAborted();
      const logp = tf.tidy(() => {
        if (cache !== undefined) return tf.logSoftmax(cache.step(prefixes.map((p) => p[step] as number)));
        const ids = tf.tensor2d(prefixes.flat(), [prefixes.length, step + 1], "int32");
        const { logits } = model.decode(ids, encoded, enc.mask);
        return tf.logSoftmax(tf.squeeze(tf.slice(logits, [0, step, 0], [-1, 1, -1]), [1]));
      });
      const rows = logp.arraySync() as number[][];
      logp.dispose();
      advance(rows, state, options);
    }
  } finally {
    cache?.dispose();
    tf.dispose([enc.ids, enc.mask, encoded]);
  }
  return out;
}

/** What a decoding loop carries from step to step: the outputs, which rows stopped, the decoder inputs so far. */
export interface DecodeState {
  out: Decoded[];
  done: boolean[];
  prefixes: number[][];
}

export function decodeState(rows: number): DecodeState {
  return {
    out: Array.from({ length: rows }, () => ({
      tokenIds: [],
      logprobs: [],
      finishReason: "length" as const,
    })),
    done: Array.from({ length: rows }, () => false),
    prefixes: Array.from({ length: rows }, () => [PAD_ID]),
  };
}

/** One step: each unfinished row picks its token from its log-probs `rows` (finished rows get padding). */
export function advance(rows: ArrayLike<number>[], state: DecodeState, options: DecodeOptions): void {
  rows.forEach((row, b) => {
    const seq = state.out[b] as Decoded;
    const prefix = state.prefixes[b] as number[];
    if (state.done[b]) {
      prefix.push(PAD_ID);
      return;
    }
    const token = choose(row, options);
    seq.tokenIds.push(token);
    seq.logprobs.push(row[token] as number);
    prefix.push(token);
    if (token === EOS_ID) {
      state.done[b] = true;
      seq.finishReason = "stop";
    }
  });
}

function choose(logp: ArrayLike<number>, o: DecodeOptions): number {
  if (!(o.temperature > 0)) return argmax(logp);
  if (o.random === undefined) throw new Error("decode: sampling needs a random source");
  let order = Array.from({ length: logp.length }, (_, i) => i).sort(
    (a, b) => (logp[b] as number) - (logp[a] as number),
  );
  if (o.topK !== undefined && o.topK > 0) order = order.slice(0, o.topK);
  const scaled = order.map((i) => (logp[i] as number) / o.temperature);
  const max = scaled[0] as number;
  let probs = scaled.map((x) => Math.exp(x - max));
  let total = probs.reduce((a, b) => a + b, 0);
  if (o.topP !== undefined && o.topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < probs.length && cum < o.topP * total) cum += probs[keep++] as number;
    probs = probs.slice(0, Math.max(1, keep));
    total = probs.reduce((a, b) => a + b, 0);
  }
  let u = o.random() * total;
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i] as number;
    if (u <= 0) return order[i] as number;
  }
  return order[probs.length - 1] as number;
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if ((xs[i] as number) > (xs[best] as number)) best = i;
  return best;
}
