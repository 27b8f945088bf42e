import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRationaleModel } from "@lmcot/small-lm";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useWasmBackend } from "../src/backend";
import { exportModel } from "../src/export";
import { TrainedRationaleModel } from "../src/rationale-model";
import { t5ConfigFor } from "../src/t5/config";
import { T5Model } from "../src/t5/model";
import { WordTokenizer } from "../src/tokenizer";

let dir: string;
beforeAll(async () => {
  await useWasmBackend();
  dir = await mkdtemp(join(tmpdir(), "lmcot-train-export-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const texts = [
  "question : who wrote the novel ? context : the novel was written by ada lovelace in london .",
  "question : where is the bridge ? context : the bridge is in paris , near the river .",
  "ada lovelace wrote it . the bridge is in paris .",
];

test("the exported ONNX folder gives the tfjs model's log-probs (to 1e-4) through transformers.js", async () => {
  const tokenizer = WordTokenizer.fromTexts(texts);
  const config = t5ConfigFor(
    {
      d_model: 32,
      d_kv: 8,
      d_ff: 48,
      num_heads: 4,
      num_layers: 2,
      relative_attention_num_buckets: 8,
      relative_attention_max_distance: 16,
    },
    tokenizer.size,
  );
  const model = T5Model.random(config, 7);
  const ours = new TrainedRationaleModel("train:test", model, tokenizer);
  const folder = join(dir, "exported");
  await exportModel(folder, model, tokenizer);
  const onnx = await getRationaleModel(`transformers:${folder}`);
  try {
    // Long enough to reach the log-spaced relative-position buckets (distance > 4 with 8 buckets).
    const items = [
      { input: texts[0] as string, output: "ada lovelace wrote it ." },
      { input: texts[1] as string, output: "the bridge is in paris , near the river ." },
    ];
    const expected = await ours.scoreLogprobs(items);
    const actual = await onnx.scoreLogprobs(items);
    expect(actual.map((s) => s.tokenIds)).toEqual(expected.map((s) => s.tokenIds));
    for (let i = 0; i < items.length; i++) {
      const a = actual[i]?.logprobs ?? [];
      const e = expected[i]?.logprobs ?? [];
      expect(a).toHaveLength(e.length);
      for (const [j, x] of a.entries()) expect(Math.abs(x - (e[j] as number))).toBeLessThan(1e-4);
    }
    const greedyOurs = await ours.generate([texts[0] as string], { maxNewTokens: 8, returnLogprobs: true });
    const greedyOnnx = await onnx.generate([texts[0] as string], { maxNewTokens: 8, returnLogprobs: true });
    expect(greedyOnnx[0]?.tokenIds).toEqual(greedyOurs[0]?.tokenIds);
  } finally {
    await onnx.dispose?.();
  }
});
