import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../src/backend";
import {
  AdamW,
  crossEntropy,
  decode,
  loadT5,
  optimizerConfigSchema,
  type T5Model,
  type Tokenizer,
  useWasmBackend,
  valueAndGrads,
} from "../src/index";

/*
 * The mini T5 / FLAN-T5 checkpoints of model-writer's test fixtures against the numbers Hugging Face
 * transformers computed for them (reference.json; see the fixtures' README for how and with what).
 */

const FIXTURES = join(import.meta.dirname, "../../model-writer/test/fixtures/t5");

interface Stats {
  sum: number;
  abs_sum: number;
  first8: number[];
}
interface Reference {
  inputs: {
    name: string;
    text: string;
    input_ids: number[];
    encoder_last_hidden_state: { shape: number[]; token0_first8: number[]; sum: number; abs_sum: number };
    decoder_logits: { first8_at_pos: number[][]; argmax_per_pos: number[]; abs_mean: number };
    greedy: { new_tokens: number[] };
    loss: { target: string; labels: number[]; mean_ce: number };
  }[];
  batch_loss: { inputs: string[]; mean_ce: number };
  grads: { pair: string; loss: number; global_l2_norm: number; params: Record<string, Stats> };
  optimizer_step: {
    lr: number;
    betas: [number, number];
    eps: number;
    weight_decay: number;
    loss_before: number;
    loss_after: number;
    params_after: Record<string, Stats & { update_sum: number; update_abs_sum: number }>;
  };
  tokenization: { extra_strings: { text: string; transformers_T5TokenizerFast: number[] }[] };
}

/** |actual − expected| ≤ atol + rtol·|expected|, the fixtures' tolerance rule. */
function near(actual: number, expected: number, what: string, atol = 1e-4, rtol = 1e-4) {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    atol + rtol * Math.abs(expected),
  );
}

/** `near` for the first `expected.length` entries of `actual`. */
function nearEach(actual: ArrayLike<number>, expected: number[], what: string, atol = 1e-4, rtol = 1e-4) {
  for (const [k, x] of expected.entries()) near(actual[k] as number, x, `${what}[${k}]`, atol, rtol);
}

const sums = (data: ArrayLike<number>) => {
  let sum = 0;
  let abs = 0;
  for (let i = 0; i < data.length; i++) {
    sum += data[i] as number;
    abs += Math.abs(data[i] as number);
  }
  return { sum, abs };
};

describe.each(["mini-flan-t5", "mini-t5-v1_0"])("%s against Hugging Face transformers", (name) => {
  const folder = join(FIXTURES, name);
  const ref = JSON.parse(readFileSync(join(folder, "reference.json"), "utf8")) as Reference;
  const input = (n: string) => ref.inputs.find((i) => i.name === n) as Reference["inputs"][number];
  let model: T5Model;
  let tokenizer: Tokenizer;

  beforeAll(async () => {
    await useWasmBackend();
    ({ model, tokenizer } = await loadT5(folder));
  });
  afterAll(() => model?.dispose());

  it("tokenizes to Hugging Face's ids (inputs, targets, special tokens and odd whitespace)", () => {
    expect(tokenizer.size).toBe(1000);
    for (const i of ref.inputs) {
      expect(tokenizer.encode(i.text), i.name).toEqual(i.input_ids);
      expect(tokenizer.encode(i.loss.target), `${i.name} target`).toEqual(i.loss.labels);
    }
    for (const e of ref.tokenization.extra_strings)
      expect(tokenizer.encode(e.text), JSON.stringify(e.text)).toEqual(e.transformers_T5TokenizerFast);
    expect(tokenizer.encode(input("hotpotqa").text, 8)).toEqual([
      ...input("hotpotqa").input_ids.slice(0, 7),
      1,
    ]);
    expect(tokenizer.decode(input("short").input_ids)).toBe("Hello!");
  });

  it("encoder states and decoder logits match (logits within 1e-3), argmax exactly", () => {
    for (const i of ref.inputs) {
      const [encoded, logits] = tf.tidy(() => {
        const ids = tf.tensor2d([i.input_ids], undefined, "int32");
        const mask = tf.onesLike(ids);
        const enc = model.encode({ ids, mask });
        const dec = tf.tensor2d([[0, ...i.input_ids]], undefined, "int32");
        return [enc, model.decode(dec, enc, mask).logits];
      });
      const e = encoded.dataSync();
      const es = sums(e);
      near(es.sum, i.encoder_last_hidden_state.sum, `${i.name} encoder sum`, 1e-3);
      near(es.abs, i.encoder_last_hidden_state.abs_sum, `${i.name} encoder abs_sum`);
      nearEach(e, i.encoder_last_hidden_state.token0_first8, `${i.name} encoder token 0`);
      const rows = (logits.arraySync() as number[][][])[0] as number[][];
      for (const [pos, first8] of i.decoder_logits.first8_at_pos.entries())
        nearEach(rows[pos] as number[], first8, `${i.name} logits at ${pos}`, 1e-3, 0);
      expect(
        rows.map((r) => r.indexOf(Math.max(...r))),
        i.name,
      ).toEqual(i.decoder_logits.argmax_per_pos);
      near(sums(logits.dataSync()).abs / logits.size, i.decoder_logits.abs_mean, `${i.name} logits abs_mean`);
      tf.dispose([encoded, logits]);
    }
  });

  it("greedy decoding gives the same 16 tokens", () => {
    const out = decode(
      model,
      ref.inputs.map((i) => i.input_ids),
      { maxNewTokens: 16, temperature: 0 },
    );
    expect(out.map((o) => o.tokenIds)).toEqual(ref.inputs.map((i) => i.greedy.new_tokens));
  });

  it("loss per pair and over the padded batch (mean over all target tokens)", () => {
    for (const i of ref.inputs) {
      const loss = crossEntropy(model, [i.input_ids], [i.loss.labels]);
      near(loss.dataSync()[0] as number, i.loss.mean_ce, `${i.name} loss`);
      loss.dispose();
    }
    const batch = ref.batch_loss.inputs.map(input);
    const loss = crossEntropy(
      model,
      batch.map((i) => i.input_ids),
      batch.map((i) => i.loss.labels),
    );
    near(loss.dataSync()[0] as number, ref.batch_loss.mean_ce, "batch loss");
    loss.dispose();
  });

  it("gradients: loss, global norm, and sum / abs sum / first 8 of the named parameters", () => {
    const pair = input(ref.grads.pair);
    const { value, grads } = valueAndGrads(model.params, () =>
      crossEntropy(model, [pair.input_ids], [pair.loss.labels]),
    );
    near(value, ref.grads.loss, "loss");
    let squares = 0;
    for (const g of grads.values()) for (const x of g.dataSync()) squares += x * x;
    near(Math.sqrt(squares), ref.grads.global_l2_norm, "global L2 norm");
    for (const [param, stats] of Object.entries(ref.grads.params)) {
      const g = grads.get(param)?.dataSync();
      expect(g, param).toBeDefined();
      const s = sums(g as Float32Array);
      near(s.sum, stats.sum, `${param} grad sum`);
      near(s.abs, stats.abs_sum, `${param} grad abs_sum`);
      nearEach(g as Float32Array, stats.first8, `${param} grad`);
    }
    tf.dispose([...grads.values()]);
  });

  it("one AdamW step equals torch.optim.AdamW's (update sums, loss after)", async () => {
    const step = ref.optimizer_step;
    const { model: fresh } = await loadT5(folder);
    const batch = ref.batch_loss.inputs.map(input);
    const inputs = batch.map((i) => i.input_ids);
    const targets = batch.map((i) => i.loss.labels);
    const before = new Map(Object.keys(step.params_after).map((p) => [p, fresh.p(p).dataSync().slice()]));
    const optimizer = new AdamW(
      optimizerConfigSchema.parse({
        learningRate: step.lr,
        beta1: step.betas[0],
        beta2: step.betas[1],
        epsilon: step.eps,
        weightDecay: step.weight_decay,
        maxGradNorm: 0,
      }),
      fresh.params,
    );
    const { value, grads } = valueAndGrads(fresh.params, () => crossEntropy(fresh, inputs, targets));
    near(value, step.loss_before, "loss before");
    optimizer.apply(grads, step.lr);
    tf.dispose([...grads.values()]);
    for (const [param, stats] of Object.entries(step.params_after)) {
      const after = fresh.p(param).dataSync();
      const old = before.get(param) as Float32Array;
      const update = after.map((x, k) => x - (old[k] as number));
      const u = sums(update);
      near(u.sum, stats.update_sum, `${param} update sum`);
      near(u.abs, stats.update_abs_sum, `${param} update abs_sum`);
      near(sums(after).sum, stats.sum, `${param} sum after`);
      nearEach(after, stats.first8, `${param} after`);
    }
    const after = crossEntropy(fresh, inputs, targets);
    near(after.dataSync()[0] as number, step.loss_after, "loss after");
    after.dispose();
    optimizer.dispose();
    fresh.dispose();
  });
});
