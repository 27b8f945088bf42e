import { cp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { AbortError, BadRequestError, ModelNotFoundError, type RationaleModel } from "@lmcot/core";
import { writeFixtureT5 } from "@lmcot/model-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRationaleModel, TransformersRationaleModel } from "../src/index";
import { Seq2SeqRunner } from "../src/transformers/seq2seq";
import { tempDir } from "./helpers/fixtures";

const INPUTS = [
  "question : who directed the film ? context : the film was directed by a french director .",
  "which city is the capital of france ?",
  "was he born in new york or london ?",
];

let temp: Awaited<ReturnType<typeof tempDir>>;
let folder: string;
let model: TransformersRationaleModel;

beforeAll(async () => {
  temp = await tempDir();
  folder = join(temp.dir, "tiny-t5");
  await writeFixtureT5(folder, { seed: 11 });
  model = (await getRationaleModel(`transformers:${folder}`, {
    allowRemoteModels: false,
  })) as TransformersRationaleModel;
}, 60_000);

afterAll(async () => {
  await model?.dispose();
  await temp?.cleanup();
});

function expectCloseArrays(a: number[] | undefined, b: number[] | undefined, tol = 1e-4) {
  expect(a?.length).toBe(b?.length);
  for (const [i, x] of (a ?? []).entries()) expect(Math.abs(x - (b?.[i] as number))).toBeLessThan(tol);
}

describe("transformers backend: generation", () => {
  it("returns inputs × numReturnSequences outputs, input-major, with usage and finish reasons", async () => {
    const out = await model.generate(INPUTS, {
      maxNewTokens: 6,
      temperature: 0.8,
      seed: 1,
      numReturnSequences: 2,
    });
    expect(out.map((o) => o.inputIndex)).toEqual([0, 0, 1, 1, 2, 2]);
    for (const o of out) {
      expect(typeof o.text).toBe("string");
      expect(o.tokenIds?.length).toBeLessThanOrEqual(6);
      expect(o.usage?.outputTokens).toBe(o.tokenIds?.length);
      expect(o.finishReason === "length" ? o.tokenIds?.length : 6).toBe(6);
    }
    const loaded = await model.load();
    expect(out[0]?.usage?.inputTokens).toBe(loaded.tokenizer.encode(INPUTS[0] as string).length);
  });

  it("greedy: deterministic, and a padded batch gives what each input gives alone", async () => {
    const batch = await model.generate(INPUTS, { maxNewTokens: 10, returnLogprobs: true });
    const again = await model.generate(INPUTS, { maxNewTokens: 10, returnLogprobs: true });
    expect(again).toEqual(batch);
    expect(batch[0]?.text.length).toBeGreaterThan(0);
    for (let i = 0; i < INPUTS.length; i++) {
      const [alone] = await model.generate([INPUTS[i] as string], { maxNewTokens: 10, returnLogprobs: true });
      expect(alone?.tokenIds).toEqual(batch[i]?.tokenIds);
      expectCloseArrays(alone?.logprobs, batch[i]?.logprobs);
    }
  });

  it("the KV cache changes speed, not results", async () => {
    const noCache = new TransformersRationaleModel(folder, { useCache: false, allowRemoteModels: false });
    const a = await model.generate(INPUTS, { maxNewTokens: 10, returnLogprobs: true });
    const b = await noCache.generate(INPUTS, { maxNewTokens: 10, returnLogprobs: true });
    a.forEach((o, i) => {
      expect(b[i]?.tokenIds).toEqual(o.tokenIds);
      expectCloseArrays(b[i]?.logprobs, o.logprobs);
    });
    await noCache.dispose();
  });

  it("seeded sampling is reproducible, independent of batch size, and varies with the seed", async () => {
    const opts = { maxNewTokens: 8, temperature: 1, topP: 0.95, seed: 42, numReturnSequences: 3 };
    const a = await model.generate(INPUTS, opts);
    const b = await model.generate(INPUTS, opts);
    const small = new TransformersRationaleModel(folder, { batchSize: 1, allowRemoteModels: false });
    const c = await small.generate(INPUTS, opts);
    await small.dispose();
    expect(b.map((o) => o.tokenIds)).toEqual(a.map((o) => o.tokenIds));
    expect(c.map((o) => o.tokenIds)).toEqual(a.map((o) => o.tokenIds));
    const d = await model.generate(INPUTS, { ...opts, seed: 43 });
    expect(d.map((o) => o.tokenIds)).not.toEqual(a.map((o) => o.tokenIds));
    // sequences of one input differ from each other
    expect(new Set(a.slice(0, 3).map((o) => o.text)).size).toBeGreaterThan(1);
  });

  it("top-k 1 and a tiny top-p reduce sampling to greedy", async () => {
    const greedy = await model.generate(INPUTS, { maxNewTokens: 8 });
    const k1 = await model.generate(INPUTS, { maxNewTokens: 8, temperature: 1.5, topK: 1, seed: 5 });
    const p0 = await model.generate(INPUTS, { maxNewTokens: 8, temperature: 1.5, topP: 1e-9, seed: 5 });
    expect(k1.map((o) => o.tokenIds)).toEqual(greedy.map((o) => o.tokenIds));
    expect(p0.map((o) => o.tokenIds)).toEqual(greedy.map((o) => o.tokenIds));
  });

  it("stops at EOS (kept in tokenIds, dropped from text) and at maxNewTokens", async () => {
    const [greedy] = await model.generate([INPUTS[0] as string], { maxNewTokens: 6 });
    const ids = greedy?.tokenIds ?? [];
    // the first token (after the first) that greedy has not produced before
    const at = ids.findIndex((t, i) => i > 0 && !ids.slice(0, i).includes(t));
    expect(at).toBeGreaterThan(0);
    const third = ids[at] as number;
    // same weights, but the token greedy picks third is declared the EOS token
    const copy = join(temp.dir, "eos-copy");
    await cp(folder, copy, { recursive: true });
    const config = JSON.parse(await readFile(join(copy, "config.json"), "utf8"));
    await writeFile(join(copy, "config.json"), JSON.stringify({ ...config, eos_token_id: third }));
    const stopping = new TransformersRationaleModel(copy, { allowRemoteModels: false });
    const [stopped] = await stopping.generate([INPUTS[0] as string], { maxNewTokens: 6 });
    await stopping.dispose();
    expect(stopped?.finishReason).toBe("stop");
    expect(stopped?.tokenIds).toEqual(ids.slice(0, at + 1));
    const loaded = await model.load();
    expect(stopped?.text).toBe(
      loaded.tokenizer.decode(ids.slice(0, at), { skip_special_tokens: true }).trim(),
    );
    expect(greedy?.finishReason).toBe("length");
    // EOS as the very first token: an empty rationale that stopped
    await writeFile(join(copy, "config.json"), JSON.stringify({ ...config, eos_token_id: ids[0] }));
    const immediate = new TransformersRationaleModel(copy, { allowRemoteModels: false });
    const [empty] = await immediate.generate([INPUTS[0] as string], { maxNewTokens: 6 });
    await immediate.dispose();
    expect(empty).toMatchObject({ text: "", finishReason: "stop", tokenIds: [ids[0]] });
  });

  it("honours an aborted signal and rejects bad options", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(model.generate(INPUTS, { signal: controller.signal })).rejects.toSatisfy((e) =>
      AbortError.isInstance(e),
    );
    await expect(model.generate(INPUTS, { temperature: -1 })).rejects.toSatisfy((e) =>
      BadRequestError.isInstance(e),
    );
    await expect(model.generate(INPUTS, { topP: 0 })).rejects.toThrow(/topP must be in \(0, 1\]/);
    await expect(model.generate(INPUTS, { numReturnSequences: 0 })).rejects.toThrow(/numReturnSequences/);
  });
});

describe("transformers backend: scoreLogprobs", () => {
  it("equals log-softmax computed by hand from the same decoder logits", async () => {
    const loaded = await model.load();
    const items = [
      { input: INPUTS[0] as string, output: "the director was french ." },
      { input: INPUTS[1] as string, output: "paris" },
      { input: INPUTS[2] as string, output: "he was born in london , not new york ." },
    ];
    const scored = await model.scoreLogprobs(items);
    const runner = new Seq2SeqRunner(loaded);
    for (const [i, item] of items.entries()) {
      const input = loaded.tokenizer.encode(item.input);
      const target = loaded.tokenizer.encode(item.output);
      expect(target[target.length - 1]).toBe(1);
      expect(scored[i]?.tokenIds).toEqual(target);
      const out = await runner.decode(await runner.encode([input]), [[0, ...target.slice(0, -1)]], undefined);
      const byHand = target.map((token, t) => {
        const row = Array.from(out.logits.subarray(t * out.vocab, (t + 1) * out.vocab));
        const max = Math.max(...row);
        const logZ = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
        return (row[token] as number) - logZ;
      });
      expectCloseArrays(scored[i]?.logprobs, byHand);
      expect(scored[i]?.total).toBeCloseTo(
        byHand.reduce((a, b) => a + b, 0),
        4,
      );
    }
  });

  it("matches the log-probs generation reported for the same tokens", async () => {
    const generated = await model.generate(INPUTS, {
      maxNewTokens: 12,
      temperature: 1,
      seed: 9,
      returnLogprobs: true,
    });
    const loaded = await model.load();
    const scored = await model.scoreLogprobs(
      generated.map((g) => ({ input: INPUTS[g.inputIndex] as string, output: g.text })),
    );
    generated.forEach((g, i) => {
      // the text round-trips to the same tokens when generation produced no special tokens
      const ids = g.finishReason === "stop" ? g.tokenIds : [...(g.tokenIds ?? []), 1];
      if (ids?.slice(0, -1).some((t) => t < 3)) return;
      expect(scored[i]?.tokenIds).toEqual(ids);
      expectCloseArrays(scored[i]?.logprobs.slice(0, g.logprobs?.length), g.logprobs);
      expect(loaded.tokenizer.decode(ids as number[], { skip_special_tokens: true }).trim()).toBe(g.text);
    });
  });
});

describe("transformers backend: q8 weights", () => {
  it("dtype q8 loads the *_quantized.onnx pair, smaller, with log-probs close to fp32", async () => {
    const q8Folder = join(temp.dir, "tiny-t5-q8");
    await writeFixtureT5(q8Folder, { seed: 11, d_model: 64, d_ff: 256, quantized: true });
    const size = async (f: string) => (await readFile(join(q8Folder, "onnx", f))).length;
    // int8 matrices; embeddings and position-bias tables stay float32 (they dominate at this tiny size)
    expect(await size("decoder_model_merged_quantized.onnx")).toBeLessThan(
      (await size("decoder_model_merged.onnx")) / 2,
    );
    const fp32 = new TransformersRationaleModel(q8Folder, { allowRemoteModels: false });
    const q8 = new TransformersRationaleModel(q8Folder, { allowRemoteModels: false, dtype: "q8" });
    const items = INPUTS.map((input) => ({ input, output: "the film was directed by a french director ." }));
    const [a, b] = [await fp32.scoreLogprobs(items), await q8.scoreLogprobs(items)];
    a.forEach((s, i) => {
      expect(b[i]?.tokenIds).toEqual(s.tokenIds);
      expect(Math.abs((b[i]?.total as number) - s.total) / Math.abs(s.total)).toBeLessThan(0.05);
      expect(b[i]?.logprobs).not.toEqual(s.logprobs); // really a different (quantized) graph
    });
    await fp32.dispose();
    await q8.dispose();
  });
});

/** A hub id that is not under the models dir, downloaded (if at all) from a loopback "hub" on `port`. */
function missingHubModel(port: number, loadTimeoutMs: number): Promise<RationaleModel> {
  return getRationaleModel("transformers:nobody/no-model", {
    allowRemoteModels: true,
    localModelPath: temp.dir,
    cacheDir: join(temp.dir, "cache"),
    remoteHost: `http://127.0.0.1:${port}/`,
    loadTimeoutMs,
  });
}

describe("transformers backend: loading", () => {
  it("a missing local folder is a ModelNotFoundError naming the folder", async () => {
    const missing = await getRationaleModel(`transformers:${join(temp.dir, "nope")}`);
    await expect(missing.generate(["x"])).rejects.toSatisfy(
      (e) =>
        ModelNotFoundError.isInstance(e) && /model .*nope not found in .*nope/.test((e as Error).message),
    );
  });

  it("a hub id missing locally with downloads off says where it looked and how to fix it", async () => {
    const m = await getRationaleModel("transformers:Xenova/flan-t5-small", {
      allowRemoteModels: false,
      localModelPath: temp.dir,
    });
    await expect(m.generate(["x"])).rejects.toThrow(
      /model Xenova\/flan-t5-small not found in .*Xenova\/flan-t5-small \(downloads are off\); download it with `git clone https:\/\/huggingface\.co\/Xenova\/flan-t5-small/,
    );
  });

  it("an unreachable hub fails within loadTimeoutMs instead of hanging", async () => {
    const server: Server = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const m = await missingHubModel(port, 400);
      await expect(m.generate(["x"])).rejects.toThrow(/not found in .*loading did not finish within 400 ms/);
      // the stuck download neither blocks later loads nor leaks its remote host into them
      const local = await getRationaleModel(`transformers:${folder}`, { loadTimeoutMs: 5000 });
      expect((await local.generate(["x"], { maxNewTokens: 2 })).length).toBe(1);
      const { env } = await import("@huggingface/transformers");
      expect(env.remoteHost).not.toContain("127.0.0.1");
      await local.dispose?.();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("an unreachable hub (connection refused) fails at once with the fix in the message", async () => {
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const m = await missingHubModel(port, 30_000);
    const started = performance.now();
    await expect(m.generate(["x"])).rejects.toSatisfy(
      (e) =>
        ModelNotFoundError.isInstance(e) &&
        /^model nobody\/no-model not found in .*nobody\/no-model \(download failed: .*\); download it with `git clone https:\/\/huggingface\.co\/nobody\/no-model .*or set LMCOT_MODELS_DIR/.test(
          (e as Error).message,
        ),
    );
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("a folder without the ONNX files for the chosen dtype names what is missing", async () => {
    const m = await getRationaleModel(`transformers:${folder}`, { dtype: "q8" });
    await expect(m.generate(["x"])).rejects.toThrow(/missing onnx\/encoder_model_quantized\.onnx/);
    const q4 = await getRationaleModel(`transformers:${folder}`, { dtype: "q4" });
    await expect(q4.generate(["x"])).rejects.toThrow(
      /missing onnx\/encoder_model_q4\.onnx, onnx\/decoder_model_merged_q4\.onnx \(dtype q4; use dtype fp32/,
    );
  });

  it("an unknown dtype is a BadRequestError listing the ones there are", async () => {
    const m = await getRationaleModel(`transformers:${folder}`, { dtype: "int8" });
    await expect(m.generate(["x"])).rejects.toSatisfy(
      (e) =>
        BadRequestError.isInstance(e) &&
        /dtype "int8" is not one of fp32, fp16, q8, q4/.test((e as Error).message),
    );
  });

  it("unknown backends are listed, with the nearest one", async () => {
    await expect(getRationaleModel("nope:x")).rejects.toThrow(
      /unknown rationale backend "nope".*transformers/,
    );
    await expect(getRationaleModel("transformer:./m")).rejects.toThrow(/did you mean transformers\?/);
  });
});

export type { RationaleModel };
