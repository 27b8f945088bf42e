import { join } from "node:path";
import { fixtureVocab, type Gpt2Config, randomGpt2Weights, writeGpt2ModelFolder } from "@lmcot/model-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CausalRunner } from "../src/transformers/causal";
import { TransformersRationaleModel } from "../src/transformers/model";
import { tempDir } from "./helpers/fixtures";
import { referenceGpt2 } from "./helpers/reference-gpt2";

const INPUTS = ["who directed the film ?", "the city is paris , in france . which country", "born in"];

let temp: Awaited<ReturnType<typeof tempDir>>;
let model: TransformersRationaleModel;
let folder: string;
const config: Gpt2Config = {
  vocab_size: fixtureVocab().length,
  n_embd: 24,
  n_head: 3,
  n_layer: 2,
  n_positions: 64,
};
const weights = randomGpt2Weights(config, 5);

beforeAll(async () => {
  temp = await tempDir();
  folder = join(temp.dir, "tiny-gpt2");
  await writeGpt2ModelFolder(folder, { config, weights, vocab: fixtureVocab() });
  model = new TransformersRationaleModel(folder, { allowRemoteModels: false });
}, 60_000);

afterAll(async () => {
  await model?.dispose();
  await temp?.cleanup();
});

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 2e-4) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThan(tol);
};

describe("decoder-only (GPT-2 layout) on transformers.js", () => {
  it("the ONNX graph matches the reference GPT-2, for left-padded rows too", async () => {
    const loaded = await model.load();
    expect(loaded.kind).toBe("causal");
    const ids = INPUTS.map((t) => loaded.tokenizer.encode(t));
    expect(ids[2]).toEqual([fixtureVocab().indexOf("born"), fixtureVocab().indexOf("in")]);
    const runner = new CausalRunner(loaded);
    const { data, vocab, offset } = await runner.teacherForced(
      ids,
      ids.map(() => [0]),
    );
    ids.forEach((row, r) => {
      const ref = referenceGpt2(config, weights, row);
      // offset(r, 0) is the last prompt position
      close(data.subarray(offset(r, 0), offset(r, 0) + vocab), ref[row.length - 1] as Float64Array);
    });
  });

  it("generates the same tokens batched or alone, with or without the KV cache", async () => {
    const batch = await model.generate(INPUTS, { maxNewTokens: 8, returnLogprobs: true });
    const noCache = new TransformersRationaleModel(folder, { useCache: false });
    const uncached = await noCache.generate(INPUTS, { maxNewTokens: 8, returnLogprobs: true });
    await noCache.dispose();
    for (const [i, input] of INPUTS.entries()) {
      const [alone] = await model.generate([input], { maxNewTokens: 8, returnLogprobs: true });
      expect(alone?.tokenIds).toEqual(batch[i]?.tokenIds);
      expect(uncached[i]?.tokenIds).toEqual(batch[i]?.tokenIds);
      close(alone?.logprobs ?? [], batch[i]?.logprobs ?? []);
      close(uncached[i]?.logprobs ?? [], batch[i]?.logprobs ?? []);
    }
    const sampled = await model.generate(INPUTS, {
      maxNewTokens: 8,
      temperature: 1,
      seed: 3,
      numReturnSequences: 2,
    });
    const again = await model.generate(INPUTS, {
      maxNewTokens: 8,
      temperature: 1,
      seed: 3,
      numReturnSequences: 2,
    });
    expect(again.map((o) => o.tokenIds)).toEqual(sampled.map((o) => o.tokenIds));
  });

  it("scoreLogprobs equals the log-probs generation reported (EOS appended to the scored output)", async () => {
    const [g] = await model.generate([INPUTS[0] as string], { maxNewTokens: 6, returnLogprobs: true });
    const ids = g?.tokenIds ?? [];
    expect(ids.some((t) => t < 3)).toBe(false); // no specials, so the text round-trips
    const [scored] = await model.scoreLogprobs([{ input: INPUTS[0] as string, output: g?.text ?? "" }]);
    expect(scored?.tokenIds).toEqual([...ids, 1]);
    close(scored?.logprobs.slice(0, ids.length) ?? [], g?.logprobs ?? []);
  });
});
