import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../src/backend";
import {
  crossEntropy,
  decode,
  KdTrainer,
  loadT5,
  saveT5,
  type T5Model,
  type Tokenizer,
  useWasmBackend,
  valueAndGrads,
} from "../src/index";

/* Dropout, sharded folders and KD from a checkpoint, on the mini FLAN-T5 of model-writer's fixtures. */

const FIXTURES = join(import.meta.dirname, "../../model-writer/test/fixtures/t5");
const FLAN = join(FIXTURES, "mini-flan-t5");

let dir: string;
let model: T5Model;
let tokenizer: Tokenizer;
let input: number[];
let target: number[];
beforeAll(async () => {
  await useWasmBackend();
  dir = mkdtempSync(join(tmpdir(), "lmcot-t5-pretrained-"));
  ({ model, tokenizer } = await loadT5(FLAN));
  input = tokenizer.encode("question: Which company built the first lifts of the Eiffel Tower?");
  target = tokenizer.encode("Otis built them.");
});
afterAll(() => {
  model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const loss = (f: () => TF) => {
  const t = f();
  const v = t.dataSync()[0] as number;
  t.dispose();
  return v;
};
type TF = ReturnType<typeof crossEntropy>;

describe("dropout", () => {
  it("is on only inside withDropout, seeded: the same seed gives the same masks, rate 0 none", () => {
    const ce = () => crossEntropy(model, [input], [target]);
    const evaluation = loss(ce);
    expect(model.config.dropout_rate).toBe(0.1);
    const a = model.withDropout(5, () => loss(ce));
    expect(a).not.toBe(evaluation);
    expect(model.withDropout(5, () => loss(ce))).toBe(a);
    expect(model.withDropout(6, () => loss(ce))).not.toBe(a);
    expect(model.withDropout(5, () => loss(ce), 0)).toBe(evaluation);
    // back in evaluation mode: loss and greedy decoding are unchanged
    expect(loss(ce)).toBe(evaluation);
    const greedy = decode(model, [input], { maxNewTokens: 6, temperature: 0 });
    model.withDropout(7, () => loss(ce));
    expect(decode(model, [input], { maxNewTokens: 6, temperature: 0 })).toEqual(greedy);
  });

  it("sits where HF's modeling_t5 has it: 14 masks per stack here (embeddings, attention probabilities, sub-layer outputs, FF activation, final norm)", async () => {
    // one Floor kernel per tf.dropout call; nothing else in the model floors
    const floors = async (fn: () => void) =>
      (await tf.profile(fn)).kernels.filter((k) => k.name === "Floor").length;
    const ids = tf.tensor2d([input], undefined, "int32");
    const mask = tf.onesLike(ids);
    const dec = tf.tensor2d([[0, ...target]], undefined, "int32");
    const encoder = await floors(
      () => void model.withDropout(1, () => model.encode({ ids, mask })).dispose(),
    );
    const encoded = model.encode({ ids, mask });
    const decoder = await floors(() => {
      const out = model.withDropout(1, () => model.decode(dec, encoded, mask));
      tf.dispose([out.hidden, out.logits]);
    });
    const none = await floors(() => void model.encode({ ids, mask }).dispose());
    tf.dispose([ids, mask, dec, encoded]);
    // encoder: embeddings + 3 layers × (attention probabilities, attention output, FF activation, FF output) + final norm
    expect(encoder).toBe(1 + 3 * 4 + 1);
    // decoder: embeddings + 2 layers × (self and cross: probabilities and output; FF activation and output) + final norm
    expect(decoder).toBe(1 + 2 * 6 + 1);
    expect(none).toBe(0);
  });

  it("gradients under dropout are reproducible from the seed", () => {
    const grads = (seed: number) =>
      model.withDropout(seed, () => {
        const { value, grads } = valueAndGrads(model.params, () => crossEntropy(model, [input], [target]));
        const sum = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.abs(g)))).dataSync()[0]);
        tf.dispose([...grads.values()]);
        return [value, sum];
      });
    expect(grads(3)).toEqual(grads(3));
    expect(grads(3)).not.toEqual(grads(4));
  });
});

describe("checkpoint folders", () => {
  it.each(["mini-flan-t5", "mini-t5-v1_0"])(
    "%s: load and save give back every file byte for byte",
    async (name) => {
      const source = join(FIXTURES, name);
      const { model: loaded, tokenizer: t } = await loadT5(source);
      const out = join(dir, `saved-${name}`);
      try {
        await saveT5(out, loaded, t);
      } finally {
        loaded.dispose();
      }
      const files = [
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
      ];
      for (const f of files)
        expect(readFileSync(join(out, f)).equals(readFileSync(join(source, f))), f).toBe(true);
      const config = (folder: string) => JSON.parse(readFileSync(join(folder, "config.json"), "utf8"));
      expect(config(out)).toEqual(config(source));
    },
  );

  it("a sharded copy loads to the same weights as model.safetensors", async () => {
    const sharded = join(dir, "sharded");
    cpSync(join(FIXTURES, "mini-flan-t5-sharded"), sharded, { recursive: true });
    for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
      cpSync(join(FLAN, f), join(sharded, f));
    const { model: other } = await loadT5(sharded);
    try {
      expect([...other.params.keys()].sort()).toEqual([...model.params.keys()].sort());
      for (const [name, v] of model.params) expect(other.p(name).dataSync(), name).toEqual(v.dataSync());
    } finally {
      other.dispose();
    }
  });

  it("KD from the checkpoint: its tokenizer, the starting eval loss without dropout, training lowers the loss", async () => {
    // identical pairs: whatever the seeded split holds out, its loss is this pair's
    const pair = { input: "question: Which company built the first lifts?", target: "Otis built them." };
    const expected = loss(() =>
      crossEntropy(model, [tokenizer.encode(pair.input)], [tokenizer.encode(pair.target)]),
    );
    const result = await new KdTrainer({
      model: FLAN,
      maxSteps: 6,
      batchSize: 4,
      evalFraction: 0.2,
      optimizer: { learningRate: 3e-3, schedule: "constant" },
    }).train(Array(10).fill(pair), join(dir, "kd"), { exportOnnx: false });
    expect(result.startEvalLoss).toBeCloseTo(expected, 4);
    expect(result.parameters).toBe(232_864); // the fixture's count (README), lm_head included
    expect(result.evalLoss).toBeLessThan(expected);
    const { model: trained, tokenizer: saved } = await loadT5(join(dir, "kd"));
    try {
      expect(saved.encode(pair.target)).toEqual(tokenizer.encode(pair.target));
      expect(trained.config).toEqual(model.config);
    } finally {
      trained.dispose();
    }
  });
});
