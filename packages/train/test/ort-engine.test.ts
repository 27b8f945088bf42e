import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../src/backend";
import {
  crossEntropy,
  decays,
  loadT5,
  optimizerConfigSchema,
  type T5Model,
  type Tokenizer,
  useWasmBackend,
  valueAndGrads,
} from "../src/index";
import { OrtT5 } from "../src/ort/session";

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
