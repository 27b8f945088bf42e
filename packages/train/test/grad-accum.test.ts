import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "@lmcot/model-writer";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type TF, tf, useWasmBackend } from "../src/backend";
import { KdTrainer } from "../src/kd/trainer";
import { AdamW, accumulatedValueAndGrads, optimizerConfigSchema, valueAndGrads } from "../src/optim";
import { t5ConfigFor } from "../src/t5/config";
import { crossEntropy } from "../src/t5/forward";
import { T5Model } from "../src/t5/model";

let dir: string;
beforeAll(async () => {
  await useWasmBackend();
  dir = await mkdtemp(join(tmpdir(), "lmcot-accum-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Eight sequences of different lengths, so padding differs between the micro-batches.
const inputs = Array.from({ length: 8 }, (_, b) => [
  ...Array.from({ length: 3 + b }, (_, i) => 3 + ((b * 7 + i) % 20)),
  1,
]);
const targets = Array.from({ length: 8 }, (_, b) => [
  ...Array.from({ length: 1 + (b % 4) }, (_, i) => 3 + ((b + i) % 20)),
  1,
]);

test("gradient accumulation over 4 micro-batches of 2 equals one batch of 8", () => {
  const model = T5Model.random(t5ConfigFor("micro", 24), 3);
  model.recompute = true;
  const whole = valueAndGrads(model.params, () => crossEntropy(model, inputs, targets));
  const tokens = targets.reduce((a, t) => a + t.length, 0);
  const accumulated = accumulatedValueAndGrads(
    model.params,
    [0, 2, 4, 6].map(
      (k) => () => crossEntropy(model, inputs.slice(k, k + 2), targets.slice(k, k + 2), tokens),
    ),
  );
  expect(accumulated.value).toBeCloseTo(whole.value, 5);
  let diff = 0;
  let scale = 0;
  for (const [name, g] of whole.grads) {
    const a = g.dataSync();
    const b = (accumulated.grads.get(name) as TF.Tensor).dataSync();
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
      scale = Math.max(scale, Math.abs(a[i] as number));
    }
  }
  expect(scale).toBeGreaterThan(0);
  expect(diff / scale).toBeLessThan(1e-5);
  tf.dispose([...whole.grads.values(), ...accumulated.grads.values()]);
  model.dispose();
});

test("a KD run with batch 2 × grad-accum 4 ends where batch 8 does", async () => {
  const pairs = inputs.map((_, b) => ({
    input: `question ${b} : what is item ${b} ? context : item ${b} is thing ${b % 3} .`,
    target: `item ${b} is thing ${b % 3} .`,
  }));
  const base = {
    model: "micro" as const,
    // Dropout draws other masks for a micro-batch than for the whole batch.
    dropoutRate: 0,
    epochs: 3,
    evalFraction: 0,
    saveEvery: 1000,
    optimizer: { learningRate: 1e-2 },
  };
  const one = join(dir, "one");
  const four = join(dir, "four");
  const a = await new KdTrainer({ ...base, batchSize: 8 }).train(pairs, one, { exportOnnx: false });
  const b = await new KdTrainer({ ...base, batchSize: 2, gradAccum: 4 }).train(pairs, four, {
    exportOnnx: false,
  });
  expect(b.steps).toBe(a.steps);
  expect(b.finalLoss).toBeCloseTo(a.finalLoss, 4);
  const wa = await readSafetensors(join(one, "model.safetensors"));
  const wb = await readSafetensors(join(four, "model.safetensors"));
  for (const [name, t] of wa) expect(maxDiff(t.data, wb.get(name)?.data), name).toBeLessThan(1e-4);
});

test("AdamW with its moments in JS memory (outside the wasm heap) makes the same updates and state", () => {
  const models = [T5Model.random(t5ConfigFor("micro", 24), 5), T5Model.random(t5ConfigFor("micro", 24), 5)];
  const optimizers = (["wasm", "js"] as const).map(
    (momentsIn, i) =>
      new AdamW(
        optimizerConfigSchema.parse({ momentsIn, weightDecay: 0.1, maxGradNorm: 0.5 }),
        (models[i] as T5Model).params,
      ),
  );
  for (let step = 0; step < 3; step++)
    models.forEach((model, i) => {
      const { grads } = valueAndGrads(model.params, () => crossEntropy(model, inputs, targets));
      (optimizers[i] as AdamW).apply(grads, 1e-2);
    });
  const [a, b] = models as [T5Model, T5Model];
  for (const [name, p] of a.params)
    expect(maxDiff(p.dataSync() as Float32Array, b.p(name).dataSync() as Float32Array), name).toBeLessThan(
      1e-5,
    );
  const sa = (optimizers[0] as AdamW).state();
  const sb = (optimizers[1] as AdamW).state();
  expect([...sb.keys()]).toEqual([...sa.keys()]);
  for (const [key, t] of sa) expect(maxDiff(t.data, sb.get(key)?.data), key).toBeLessThan(1e-6);
  for (const o of optimizers) o.dispose();
  for (const m of models) m.dispose();
});

test("after a training step, memory holds the weights and AdamW's two moments, nothing more", () => {
  const before = tf.memory().numBytes;
  const model = T5Model.random(t5ConfigFor("micro", 24), 9);
  model.recompute = true;
  const optimizer = new AdamW(optimizerConfigSchema.parse({}), model.params);
  const weights = [...model.params.values()].reduce((a, p) => a + 4 * p.size, 0);
  for (let step = 0; step < 2; step++) {
    const { grads } = valueAndGrads(model.params, () => crossEntropy(model, inputs, targets));
    optimizer.apply(grads, 1e-3);
  }
  // The model's cache of position-bucket index tensors is the only other thing it keeps.
  const buckets = (model as unknown as { buckets: Map<string, TF.Tensor> }).buckets;
  const bucketBytes = [...buckets.values()].reduce((a, t) => a + 4 * t.size, 0);
  expect(tf.memory().numBytes - before - bucketBytes).toBe(3 * weights);
  optimizer.dispose();
  model.dispose();
  expect(tf.memory().numBytes).toBe(before);
});

/** Largest |a[i] − b[i]|; a missing or differently sized `b` is an infinite difference. */
function maxDiff(a: Float32Array, b: Float32Array | undefined): number {
  if (b === undefined || b.length !== a.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
  return diff;
}
