import { seededRandom } from "@lmcot/core";
import { resolveT5Config } from "@lmcot/model-writer";
import { beforeAll, describe, expect, test } from "vitest";
import { type TF, tf, useWasmBackend } from "../src/backend";
import { gatherRows, labelLogProbs, linear } from "../src/ops";
import { valueAndGrads } from "../src/optim";
import { crossEntropy } from "../src/t5/forward";
import { decode } from "../src/t5/generate";
import { T5Model } from "../src/t5/model";

beforeAll(useWasmBackend);

/** Max |a − b| over two gradient lists, relative to the largest |b|. */
function relativeError(a: TF.Tensor[], b: TF.Tensor[]): number {
  let diff = 0;
  let scale = 1e-12;
  a.forEach((x, i) => {
    const ya = x.dataSync();
    const yb = (b[i] as TF.Tensor).dataSync();
    expect(ya.length).toBe(yb.length);
    for (let j = 0; j < ya.length; j++) {
      diff = Math.max(diff, Math.abs((ya[j] as number) - (yb[j] as number)));
      scale = Math.max(scale, Math.abs(yb[j] as number));
    }
  });
  return diff / scale;
}

/** Gradients of `f` with respect to `xs`, as a list. */
function grads(f: (...xs: TF.Tensor[]) => TF.Tensor, xs: TF.Tensor[]): TF.Tensor[] {
  return tf.grads((...args: TF.Tensor[]) => tf.sum(tf.mul(f(...args), weightsLike(f(...args)))))(xs);
}

/** A fixed non-uniform weighting, so the check covers more than the gradient of a plain sum. */
function weightsLike(t: TF.Tensor): TF.Tensor {
  return tf.reshape(tf.sin(tf.range(0, t.size, 1)), t.shape);
}

describe("memory-lean ops give the gradients of the plain tfjs ops", () => {
  test("linear (no weight transpose) = tf.matMul(x, w, false, true)", () => {
    const x = tf.randomNormal([2, 5, 7], 0, 1, "float32", 1);
    const w = tf.randomNormal([3, 7], 0, 1, "float32", 2);
    const ours = grads((a, b) => linear(a, b as TF.Tensor), [x, w]);
    const plain = grads(
      (a, b) =>
        tf.reshape(
          tf.matMul(tf.reshape(a, [-1, 7]) as TF.Tensor2D, b as TF.Tensor2D, false, true),
          [2, 5, 3],
        ),
      [x, w],
    );
    expect(relativeError(ours, plain)).toBeLessThan(1e-5);
    const plainValue = tf.reshape(
      tf.matMul(tf.reshape(x, [-1, 7]) as TF.Tensor2D, tf.transpose(w)),
      [2, 5, 3],
    );
    expect(relativeError([linear(x, w)], [plainValue])).toBeLessThan(1e-5);
  });

  test("row-wise embedding gradient = gradient of oneHot(ids) @ table (repeated and unused rows)", () => {
    const table = tf.randomNormal([11, 4], 0, 1, "float32", 3);
    const ids = tf.tensor2d([3, 7, 3, 0, 10, 3], [2, 3], "int32");
    const ours = grads((t) => gatherRows(t, ids), [table]);
    const plain = grads(
      (t) => tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), 11), t as TF.Tensor2D), [2, 3, 4]),
      [table],
    );
    expect(relativeError(ours, plain)).toBeLessThan(1e-5);
  });

  test("label log-probs (no one-hot) = sum(logSoftmax · oneHot) in value and gradient", () => {
    const logits = tf.randomNormal([6, 9], 0, 3, "float32", 4);
    const labels = tf.tensor1d([0, 8, 3, 3, 5, 1], "int32");
    const plainF = (l: TF.Tensor) => tf.sum(tf.mul(tf.logSoftmax(l), tf.oneHot(labels, 9)), -1);
    expect(relativeError([labelLogProbs(logits, labels)], [plainF(logits)])).toBeLessThan(1e-5);
    const ours = grads((l) => labelLogProbs(l, labels), [logits]);
    expect(relativeError(ours, grads(plainF, [logits]))).toBeLessThan(1e-5);
  });
});

const flanLike = (tie: boolean) =>
  resolveT5Config({
    vocab_size: 40,
    d_model: 16,
    d_kv: 4,
    d_ff: 24,
    num_heads: 4,
    num_layers: 2,
    num_decoder_layers: 3,
    relative_attention_num_buckets: 8,
    relative_attention_max_distance: 16,
    feed_forward_proj: tie ? "relu" : "gated-gelu",
    tie_word_embeddings: tie,
  });

const inputs = [
  [3, 4, 5, 6, 7, 8, 9, 1],
  [5, 6, 1],
  [12, 30, 31, 2, 1],
];
const targets = [
  [7, 8, 9, 10, 11, 1],
  [4, 1],
  [20, 21, 22, 1],
];

test.each([
  ["gated-gelu, untied", false, 0],
  ["relu, tied", true, 0],
  // The recomputation in the backward pass draws the forward pass's dropout masks again.
  ["gated-gelu, untied, dropout 0.1", false, 0.1],
])(
  "gradient checkpointing (%s) gives the same loss and gradients as keeping every activation",
  (_, tie, rate) => {
    const model = T5Model.random(flanLike(tie), 7);
    const step = () =>
      model.withDropout(
        5,
        () => valueAndGrads(model.params, () => crossEntropy(model, inputs, targets)),
        rate,
      );
    const plain = step();
    model.recompute = true;
    const before = tf.memory().numTensors;
    const checkpointed = step();
    expect(checkpointed.value).toBeCloseTo(plain.value, 5);
    const names = [...plain.grads.keys()];
    expect([...checkpointed.grads.keys()].sort()).toEqual([...names].sort());
    const error = relativeError(
      names.map((n) => checkpointed.grads.get(n) as TF.Tensor),
      names.map((n) => plain.grads.get(n) as TF.Tensor),
    );
    expect(error).toBeLessThan(1e-4);
    // Nothing but the gradients outlives the step.
    expect(tf.memory().numTensors - before).toBe(checkpointed.grads.size);
    tf.dispose([...plain.grads.values(), ...checkpointed.grads.values()]);
    model.dispose();
  },
);

test.each([
  ["gated-gelu, untied", false],
  ["relu, tied", true],
])("KV-cached decoding (%s) picks the same tokens and log-probs as re-reading the prefix", (_, tie) => {
  const model = T5Model.random(flanLike(tie), 11);
  for (const options of [
    { maxNewTokens: 12, temperature: 0 },
    { maxNewTokens: 12, temperature: 1.3 },
    { maxNewTokens: 12, temperature: 0.8, topK: 5, topP: 0.9 },
  ]) {
    const run = (fullRecompute: boolean) =>
      decode(model, inputs, { ...options, random: seededRandom(3), fullRecompute });
    run(false); // fills the model's cache of position-bucket tensors
    const before = tf.memory().numTensors;
    const cached = run(false);
    expect(tf.memory().numTensors).toBe(before);
    const full = run(true);
    expect(cached.map((d) => d.tokenIds)).toEqual(full.map((d) => d.tokenIds));
    expect(cached.map((d) => d.finishReason)).toEqual(full.map((d) => d.finishReason));
    for (const [b, d] of cached.entries())
      for (const [t, lp] of d.logprobs.entries()) expect(lp).toBeCloseTo(full[b]?.logprobs[t] as number, 4);
    expect(cached.some((d) => d.tokenIds.length > 3)).toBe(true);
  }
  model.dispose();
});
