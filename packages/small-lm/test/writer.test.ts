import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  checkT5Weights,
  decodeSafetensors,
  encodeSafetensors,
  fixtureT5Config,
  fixtureVocab,
  randomT5Weights,
  readSafetensors,
  type T5ConfigInput,
  type T5Weights,
  t5RelativePositionBucket,
  writeFixtureT5,
  writeT5ModelFolder,
} from "@lmcot/model-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoadedModel, loadModel } from "../src/transformers/load";
import { Seq2SeqRunner } from "../src/transformers/seq2seq";
import { smallLmEnv } from "../src/transformers/settings";
import { tempDir } from "./helpers/fixtures";
import { referenceDecoder, referenceEncoder } from "./helpers/reference-t5";

const TOL = 2e-4;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++)
    worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  expect(worst, what).toBeLessThan(TOL);
}

interface Built {
  config: T5ConfigInput;
  weights: T5Weights;
  loaded: LoadedModel;
  runner: Seq2SeqRunner;
}

let temp: Awaited<ReturnType<typeof tempDir>>;
type Variant = "tied" | "untied" | "gated";
const built: Record<Variant, Built> = {} as never;

beforeAll(async () => {
  temp = await tempDir();
  const variants = {
    tied: { ...fixtureT5Config(), tie_word_embeddings: true },
    // inner dim (heads × d_kv) ≠ d_model, more decoder than encoder layers, separate lm_head
    untied: {
      ...fixtureT5Config(),
      d_model: 24,
      num_heads: 3,
      d_kv: 10,
      d_ff: 40,
      num_layers: 1,
      num_decoder_layers: 3,
      tie_word_embeddings: false,
    },
    // v1.1 / FLAN-T5: gated-gelu, and buckets, distance and epsilon off their defaults
    gated: {
      ...fixtureT5Config(),
      feed_forward_proj: "gated-gelu",
      relative_attention_num_buckets: 16,
      relative_attention_max_distance: 20,
      layer_norm_epsilon: 1e-3,
      num_layers: 2,
      num_decoder_layers: 1,
      tie_word_embeddings: false,
    },
  };
  for (const [name, config] of Object.entries(variants) as [Variant, T5ConfigInput][]) {
    const weights = randomT5Weights(config, { tied: 3, untied: 4, gated: 5 }[name]);
    const folder = join(temp.dir, name);
    await writeT5ModelFolder(folder, { config, weights, vocab: fixtureVocab() });
    const loaded = await loadModel(folder, { ...smallLmEnv, allowRemoteModels: false });
    built[name] = { config, weights, loaded, runner: new Seq2SeqRunner(loaded) };
  }
}, 60_000);

afterAll(async () => {
  await temp?.cleanup();
});

describe.each(["tied", "untied", "gated"] as const)(
  "ONNX T5 (%s) matches the reference implementation",
  (variant) => {
    it("encoder: every unpadded position of a padded batch", async () => {
      const { config, weights, runner } = built[variant];
      const inputs = [
        [5, 9, 14, 3, 22, 1],
        [7, 1],
        Array.from({ length: 150 }, (_, i) => 3 + ((i * 7) % 50)),
      ];
      const encoded = await runner.encode(inputs);
      const d = encoded.hidden.dims[2] as number;
      const width = encoded.hidden.dims[1] as number;
      const data = encoded.hidden.data as Float32Array;
      inputs.forEach((ids, r) => {
        const ref = referenceEncoder(config, weights, ids);
        ids.forEach((_, p) => {
          expectClose(
            data.subarray((r * width + p) * d, (r * width + p + 1) * d),
            ref[p] as Float64Array,
            `row ${r} pos ${p}`,
          );
        });
      });
    });

    it("decoder: full pass and step-by-step with the KV cache give the reference logits", async () => {
      const { config, weights, runner } = built[variant];
      const input = [5, 9, 14, 3, 22, 1];
      const target = [0, ...Array.from({ length: 135 }, (_, i) => 3 + ((i * 11) % 60))];
      const encoded = await runner.encode([input]);
      const ref = referenceDecoder(config, weights, referenceEncoder(config, weights, input), target);
      const full = await runner.decode(encoded, [target], undefined);
      const V = full.vocab;
      for (const t of [0, 1, 5, 64, 129, 135]) {
        expectClose(
          full.logits.subarray(t * V, (t + 1) * V),
          ref[t] as Float64Array,
          `full pass, position ${t}`,
        );
      }
      let cache: Awaited<ReturnType<Seq2SeqRunner["decode"]>>["cache"] | undefined;
      for (let t = 0; t < 8; t++) {
        const step = await runner.decode(encoded, [[target[t] as number]], cache);
        cache = step.cache;
        expectClose(step.logits, ref[t] as Float64Array, `cached step ${t}`);
      }
      // the cache grows by one position per step
      expect(cache?.["past_key_values.0.decoder.key"]?.dims[2]).toBe(8);
      // with use_cache_branch set, cross-attention reads the cached encoder keys/values (not encoder_hidden_states)
      const zeroed = { ...cache };
      for (const name of Object.keys(zeroed).filter((n) => n.includes(".encoder."))) {
        const t = zeroed[name] as NonNullable<typeof cache>[string];
        zeroed[name] = runner.sessions.tensor("float32", new Float32Array(t.data.length), [...t.dims]);
      }
      const withZeros = await runner.decode(encoded, [[target[8] as number]], zeroed);
      const normal = await runner.decode(encoded, [[target[8] as number]], cache);
      expectClose(normal.logits, ref[8] as Float64Array, "cached step 8");
      expect(
        Math.max(...withZeros.logits.map((x, i) => Math.abs(x - (normal.logits[i] as number)))),
      ).toBeGreaterThan(1e-3);
    });
  },
);

describe("relative position buckets", () => {
  it("match HF T5's values for the default 32 buckets / distance 128", () => {
    const bi = (r: number) => t5RelativePositionBucket(r, true, 32, 128);
    const uni = (r: number) => t5RelativePositionBucket(r, false, 32, 128);
    expect([0, -1, 1, -7, 7, -8, 8, -16, 16, -127, 127, -1000, 1000].map(bi)).toEqual([
      0, 1, 17, 7, 23, 8, 24, 10, 26, 15, 31, 15, 31,
    ]);
    expect([0, 1, 5, -1, -15, -16, -32, -64, -127, -128, -500].map(uni)).toEqual([
      0, 0, 0, 1, 15, 16, 21, 26, 31, 31, 31,
    ]);
  });
});

describe("model folder", () => {
  it("is byte-identical for the same seed and differs for another seed", async () => {
    const a = join(temp.dir, "seed-a");
    const b = join(temp.dir, "seed-b");
    const c = join(temp.dir, "seed-c");
    await writeFixtureT5(a, { seed: 7 });
    await writeFixtureT5(b, { seed: 7 });
    await writeFixtureT5(c, { seed: 8 });
    for (const f of [
      "onnx/encoder_model.onnx",
      "onnx/decoder_model_merged.onnx",
      "model.safetensors",
      "tokenizer.json",
    ]) {
      expect(Buffer.compare(await readFile(join(a, f)), await readFile(join(b, f))), f).toBe(0);
    }
    expect(
      Buffer.compare(
        await readFile(join(a, "model.safetensors")),
        await readFile(join(c, "model.safetensors")),
      ),
    ).not.toBe(0);
    const config = JSON.parse(await readFile(join(a, "config.json"), "utf8"));
    expect(config).toMatchObject({
      model_type: "t5",
      decoder_start_token_id: 0,
      pad_token_id: 0,
      eos_token_id: 1,
      feed_forward_proj: "relu",
    });
  });

  it("model.safetensors holds exactly the HF-named weights", async () => {
    const { weights, loaded } = built.untied;
    const read = await readSafetensors(join(loaded.folder as string, "model.safetensors"));
    expect([...read.keys()].sort()).toEqual([...weights.keys()].sort());
    expect(read.has("lm_head.weight")).toBe(true);
    expect(built.tied.weights.has("lm_head.weight")).toBe(false);
    for (const [name, t] of weights) {
      expect(read.get(name)?.shape, name).toEqual(t.shape);
      expect(read.get(name)?.data, name).toEqual(t.data);
    }
  });

  it("the tokenizer loads in transformers.js with T5 specials and a closing </s>", async () => {
    const { loaded } = built.tied;
    const vocab = fixtureVocab();
    const ids = loaded.tokenizer.encode("Who directed the FILM? zyzzyva");
    expect(ids).toEqual([
      vocab.indexOf("who"),
      vocab.indexOf("directed"),
      vocab.indexOf("the"),
      vocab.indexOf("film"),
      vocab.indexOf("?"),
      2,
      1,
    ]);
    expect(vocab.slice(0, 3)).toEqual(["<pad>", "</s>", "<unk>"]);
    expect(loaded.tokenizer.decode(ids, { skip_special_tokens: true })).toBe("who directed the film?");
  });
});

describe("writer input checks", () => {
  it("name the missing or mis-shaped parameter", () => {
    const config = fixtureT5Config();
    const weights = randomT5Weights(config, 1);
    const missing = new Map(weights);
    missing.delete("decoder.block.1.layer.1.EncDecAttention.k.weight");
    expect(() => checkT5Weights(config, missing)).toThrow(
      /missing decoder\.block\.1\.layer\.1\.EncDecAttention\.k\.weight/,
    );
    const wrong = new Map(weights);
    wrong.set("shared.weight", { data: new Float32Array(4), shape: [2, 2] });
    expect(() => checkT5Weights(config, wrong)).toThrow(/shared\.weight has shape \[2,2\]/);
  });

  it("safetensors: F16/BF16 decode, bad headers are reported", () => {
    const bytes = encodeSafetensors(
      new Map([["x", { data: Float32Array.from([1.5, -2, 0.25]), shape: [3] }]]),
    );
    expect(decodeSafetensors(bytes).get("x")?.data).toEqual(Float32Array.from([1.5, -2, 0.25]));
    const header = new TextEncoder().encode(
      JSON.stringify({
        h: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
        b: { dtype: "BF16", shape: [1], data_offsets: [4, 6] },
      }),
    );
    const buf = new Uint8Array(8 + header.length + 6);
    new DataView(buf.buffer).setBigUint64(0, BigInt(header.length), true);
    buf.set(header, 8);
    const dv = new DataView(buf.buffer, 8 + header.length);
    dv.setUint16(0, 0x3c00, true); // 1.0
    dv.setUint16(2, 0xc000, true); // -2.0
    dv.setUint16(4, 0x3fc0, true); // bf16 1.5
    const t = decodeSafetensors(buf);
    expect(t.get("h")?.data).toEqual(Float32Array.from([1, -2]));
    expect(t.get("b")?.data).toEqual(Float32Array.from([1.5]));
    expect(() => decodeSafetensors(new Uint8Array(4), "w.safetensors")).toThrow(/w\.safetensors: too short/);
  });
});
