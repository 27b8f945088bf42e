import { join } from "node:path";
import { seededRandom } from "@lmcot/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../src/backend";
import {
  type AdamW,
  crossEntropy,
  decode,
  loadT5,
  optimizerConfigSchema,
  ppoConfigSchema,
  readT5Folder,
  type T5Model,
  type Tokenizer,
  useWasmBackend,
  valueAndGrads,
} from "../src/index";
import { OrtDecoder } from "../src/ort/decoder";
import { OrtT5 } from "../src/ort/session";
import { createPpoEngine } from "../src/ppo/engines";
import { ppoSlice } from "../src/ppo/ort-loss";

const FIXTURES = join(import.meta.dirname, "../../model-writer/test/fixtures/t5");

describe.each(["mini-flan-t5", "mini-t5-v1_0"])("onnxruntime engine on %s", (fixture) => {
  let model: T5Model;
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    await useWasmBackend();
    ({ model, tokenizer } = await loadT5(join(FIXTURES, fixture)));
  });
  afterAll(() => model.dispose());

  it("gives the tfjs engine's loss and gradients", async () => {
    const inputs = ["question: who wrote it? context: a b c", "translate: the cat sat", "x"].map((t) =>
      tokenizer.encode(t, 64),
    );
    const targets = ["the answer is in the text", "le chat", "y z"].map((t) => tokenizer.encode(t, 32));
    const tokens = targets.reduce((a, t) => a + t.length, 0);
    const expected = valueAndGrads(model.params, () => crossEntropy(model, inputs, targets));
    const ort = await OrtT5.create(
      model.config,
      { backward: true, dropout: false, entropy: false, valueHead: false },
      2,
    );
    const weights = new Map([...model.weights()].map(([n, w]) => [n, w.data]));
    const t = Math.max(...targets.map((x) => x.length));
    const seed = new Float32Array(targets.length * t);
    targets.forEach((row, i) => {
      seed.fill(-1 / tokens, i * t, i * t + row.length);
    });
    const out = await ort.run(weights, { inputs, targets, gradLogprobs: seed });
    const loss = -out.logprobs.reduce((a, b) => a + b, 0) / tokens;
    expect(Math.abs(loss - expected.value)).toBeLessThan(1e-4 * Math.abs(expected.value));
    let worst = 0;
    for (const [name, g] of expected.grads) {
      const want = g.dataSync() as Float32Array;
      const got = out.grads?.get(name) as Float32Array;
      expect(got.length, name).toBe(want.length);
      let scale = 0;
      for (const v of want) scale = Math.max(scale, Math.abs(v));
      let diff = 0;
      for (let i = 0; i < want.length; i++)
        diff = Math.max(diff, Math.abs((got[i] as number) - (want[i] as number)));
      worst = Math.max(worst, diff / (scale + 1e-8));
      expect(diff, name).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
    }
    console.log(fixture, "worst relative gradient difference", worst);
    tf.dispose([...expected.grads.values()]);
    await ort.release();
  });

  it("takes AdamW's step in the graph, writing the weights and moments in place", async () => {
    const inputs = ["question: who wrote it?", "translate: the cat sat on the mat"].map((t) =>
      tokenizer.encode(t, 64),
    );
    const targets = ["the answer", "le chat"].map((t) => tokenizer.encode(t, 32));
    const tokens = targets.reduce((a, t) => a + t.length, 0);
    const c = optimizerConfigSchema.parse({ learningRate: 1e-2, maxGradNorm: 0.5, weightDecay: 0.1 });
    const copy = () => new Map([...model.weights()].map(([n, w]) => [n, Float32Array.from(w.data)]));
    const weights = copy();
    const expected = copy();
    const zeros = () => new Map([...weights].map(([n, w]) => [n, new Float32Array(w.length)]));
    const [m, v, em, ev] = [zeros(), zeros(), zeros(), zeros()];
    const decays = (name: string) =>
      !name.includes("layer_norm") && !name.includes("relative_attention_bias");
    const options = { backward: true, dropout: false, entropy: false, valueHead: false };
    const fused = await OrtT5.create(model.config, { ...options, adamw: true }, 2);
    const plain = await OrtT5.create(model.config, options, 2);
    const t = Math.max(...targets.map((x) => x.length));
    const seed = new Float32Array(targets.length * t);
    targets.forEach((row, i) => {
      seed.fill(-1 / tokens, i * t, i * t + row.length);
    });
    const lr = c.learningRate;
    for (let step = 1; step <= 2; step++) {
      const [bias1, bias2] = [1 - c.beta1 ** step, 1 - c.beta2 ** step];
      const { grads } = await plain.run(expected, { inputs, targets, gradLogprobs: seed });
      const out = await fused.run(weights, {
        inputs,
        targets,
        gradLogprobs: seed,
        adamw: {
          m,
          v,
          lr,
          beta1: c.beta1,
          beta2: c.beta2,
          epsilon: c.epsilon,
          bias1,
          bias2,
          decay: 1 - lr * c.weightDecay,
          maxGradNorm: c.maxGradNorm,
        },
      });
      // AdamW.apply's update, in double precision, on the same gradients
      let squares = 0;
      for (const g of grads?.values() ?? []) for (const x of g) squares += x * x;
      const norm = Math.sqrt(squares);
      expect(Math.abs((out.gradNorm as number) - norm)).toBeLessThan(1e-5 * norm);
      const scale = norm > c.maxGradNorm ? c.maxGradNorm / (norm + 1e-6) : 1;
      for (const [name, w] of expected) {
        const g = grads?.get(name) as Float32Array;
        const [mm, vv] = [em.get(name) as Float32Array, ev.get(name) as Float32Array];
        const decay = decays(name) ? 1 - lr * c.weightDecay : 1;
        for (let i = 0; i < w.length; i++) {
          const gi = (g[i] as number) * scale;
          mm[i] = c.beta1 * (mm[i] as number) + (1 - c.beta1) * gi;
          vv[i] = c.beta2 * (vv[i] as number) + (1 - c.beta2) * gi * gi;
          w[i] =
            (w[i] as number) * decay -
            (lr * ((mm[i] as number) / bias1)) / (Math.sqrt((vv[i] as number) / bias2) + c.epsilon);
        }
        const got = weights.get(name) as Float32Array;
        const gotM = m.get(name) as Float32Array;
        const gotV = v.get(name) as Float32Array;
        // the two graphs' gradients agree to float32 rounding, not bit for bit
        const [scaleM, scaleV] = [mm, vv].map((x) => x.reduce((a, y) => Math.max(a, Math.abs(y)), 0)) as [
          number,
          number,
        ];
        let worst = [0, 0, 0];
        for (let i = 0; i < w.length; i++)
          worst = [
            Math.max(worst[0] as number, Math.abs((got[i] as number) - (w[i] as number))),
            Math.max(worst[1] as number, Math.abs((gotM[i] as number) - (mm[i] as number))),
            Math.max(worst[2] as number, Math.abs((gotV[i] as number) - (vv[i] as number))),
          ];
        expect(worst[0], `${name} step ${step}`).toBeLessThan(lr * 1e-3);
        expect(worst[1], `m.${name} step ${step}`).toBeLessThanOrEqual(1e-4 * scaleM);
        expect(worst[2], `v.${name} step ${step}`).toBeLessThanOrEqual(1e-4 * scaleV);
        // the next step starts both sides from the same state
        w.set(got);
        mm.set(gotM);
        vv.set(gotV);
      }
    }
    await Promise.all([fused.release(), plain.release()]);
  });
});

describe("onnxruntime PPO update", () => {
  it("the gradients from ppoSlice's seeds equal the tfjs engine's PPO loss gradients, stats too", async () => {
    await useWasmBackend();
    const source = await readT5Folder(join(FIXTURES, "mini-flan-t5"));
    const config = ppoConfigSchema.parse({
      entropyCoef: 0.05,
      clipRange: 0.1,
      clipRangeValue: 0.05,
      temperature: 0.9,
    });
    const tfEngine = await createPpoEngine("tfjs", { source, config });
    const enc = (t: string, n: number) => source.tokenizer.encode(t, n);
    const inputs = ["question: who wrote it? context: a b", "translate: the cat sat", "x y z"].map((t) =>
      enc(t, 64),
    );
    const responses = ["the answer is here", "le chat", "z"].map((t) => enc(t, 16));
    const scored = await tfEngine.score(inputs, responses);
    const random = seededRandom(3);
    const noisy = (rows: number[][], scale: number) =>
      rows.map((r) => r.map((x) => x + (random() - 0.5) * scale));
    const batch = {
      inputs,
      responses,
      // shifted so that some ratios leave the clip range on either side
      old: noisy(scored.old, 0.6),
      values: noisy(scored.values, 0.2),
      advantages: responses.map((r) => r.map(() => random() * 2 - 1)),
      returns: responses.map((r) => r.map(() => random() * 2 - 1)),
    };
    const idx = [0, 1, 2];
    const tokens = responses.reduce((a, r) => a + r.length, 0);
    const tfStats: number[][] = [];
    const sliceLoss = (
      tfEngine as unknown as { sliceLoss: (...a: unknown[]) => import("@tensorflow/tfjs-core").Scalar }
    ).sliceLoss.bind(tfEngine);
    const expected = valueAndGrads(
      (tfEngine.optimizer as AdamW).parameters as Map<string, import("@tensorflow/tfjs-core").Variable>,
      () => sliceLoss(batch, idx, tokens, tfStats),
    );

    const options = { dropout: false, entropy: true, valueHead: true };
    const forward = await OrtT5.create(source.config, { ...options, backward: false }, 2);
    const backward = await OrtT5.create(source.config, { ...options, backward: true }, 2);
    const weights = new Map(
      [...(tfEngine.optimizer as AdamW).parameters].map(([n, v]) => [n, Float32Array.from(v.dataSync())]),
    );
    const input = { inputs, targets: responses, temperature: config.temperature };
    const now = await forward.run(weights, input);
    const slice = ppoSlice(
      {
        logprobs: now.logprobs,
        entropy: now.entropy as Float32Array,
        values: now.values as Float32Array,
        lengths: responses.map((r) => r.length),
        width: now.targetLength,
      },
      batch,
      tokens,
      config,
    );
    const stats = tfStats[0] as number[];
    for (const [i, x] of slice.stats.entries())
      expect(Math.abs(x - (stats[i] as number)), `stat ${i}`).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(stats[i] as number)),
      );
    const out = await backward.run(weights, {
      ...input,
      gradLogprobs: slice.gradLogprobs,
      gradEntropy: slice.gradEntropy,
      gradValues: slice.gradValues,
    });
    for (const [name, g] of expected.grads) {
      const want = g.dataSync() as Float32Array;
      const got = out.grads?.get(name) as Float32Array;
      const scale = want.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      let diff = 0;
      for (let i = 0; i < want.length; i++)
        diff = Math.max(diff, Math.abs((got[i] as number) - (want[i] as number)));
      expect(diff, name).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
    }
    tf.dispose([...expected.grads.values()]);
    await Promise.all([forward.release(), backward.release(), tfEngine.dispose()]);
  }, 300_000);
});

describe.each(["mini-flan-t5", "mini-t5-v1_0"])("onnxruntime KV-cached decoding on %s", (fixture) => {
  it("gives decode()'s tokens and log-probs, greedy and sampled", async () => {
    await useWasmBackend();
    const { model, tokenizer } = await loadT5(join(FIXTURES, fixture));
    const decoder = await OrtDecoder.create(model.config, 2);
    const weights = new Map([...model.weights()].map(([n, w]) => [n, w.data]));
    const inputs = ["question: who wrote it? context: a b c", "translate: the cat", "x"].map((t) =>
      tokenizer.encode(t, 64),
    );
    for (const options of [
      { maxNewTokens: 12, temperature: 0 },
      { maxNewTokens: 12, temperature: 1.3, topK: 50, topP: 0.95 },
    ]) {
      const want = decode(model, inputs, { ...options, random: seededRandom(5) });
      const got = await decoder.decode(weights, inputs, { ...options, random: seededRandom(5) });
      expect(got.map((d) => d.tokenIds)).toEqual(want.map((d) => d.tokenIds));
      expect(got.map((d) => d.finishReason)).toEqual(want.map((d) => d.finishReason));
      got.forEach((d, b) => {
        d.logprobs.forEach((lp, t) => {
          expect(Math.abs(lp - (want[b]?.logprobs[t] as number))).toBeLessThan(1e-4);
        });
      });
    }
    await decoder.release();
    model.dispose();
  });
});
