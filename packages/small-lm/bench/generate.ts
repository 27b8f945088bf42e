// Generation speed of the transformers.js backend: tokens/s at batch 1, 4, 16, and the KV cache's
// speed-up over recomputing the prefix, on fixture models (and a real FLAN-T5 export when present).
//   npx tsx bench/generate.ts [--new-tokens 32] [--repeats 3]
// A real model is looked for in $LMCOT_FLAN_T5 or <models dir>/{Xenova,google}/flan-t5-small.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeFixtureT5 } from "@lmcot/model-writer";
import { smallLmEnv, type TransformersModelOptions, TransformersRationaleModel } from "../src/index";

const { values } = parseArgs({
  options: { "new-tokens": { type: "string", default: "32" }, repeats: { type: "string", default: "3" } },
});
const NEW_TOKENS = Number(values["new-tokens"]);
const REPEATS = Number(values.repeats);

const PROMPT =
  "question : who directed the film that was released in the same year as the album ? context : the film was " +
  "directed by a french director and released in 1 9 9 5 . the album was written by an american singer . let us think step by step .";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function rate(model: TransformersRationaleModel, inputs: string[]): Promise<number> {
  const started = performance.now();
  const out = await model.generate(inputs, { maxNewTokens: NEW_TOKENS, temperature: 1, seed: 1 });
  return out.reduce((n, o) => n + (o.tokenIds?.length ?? 0), 0) / ((performance.now() - started) / 1000);
}

/**
 * tokens/s of `model` and of `reference` (e.g. the same model without the KV cache) per batch size,
 * measured alternately so that load from other processes hits both alike.
 */
async function compare(
  label: string,
  folder: string,
  variants: { name: string; options: TransformersModelOptions }[],
  prompt = PROMPT,
): Promise<void> {
  const [a, b] = variants.map(
    (v) => new TransformersRationaleModel(folder, { batchSize: 16, allowRemoteModels: false, ...v.options }),
  ) as [TransformersRationaleModel, TransformersRationaleModel];
  const [nameA, nameB] = variants.map((v) => v.name) as [string, string];
  console.log(`\n## ${label}\n`);
  console.log(`| batch | tokens/s (${nameA}) | tokens/s (${nameB}) | ${nameA} ÷ ${nameB} |`);
  console.log("|---:|---:|---:|---:|");
  for (const batch of [1, 4, 16]) {
    const inputs = Array.from({ length: batch }, (_, i) => `${prompt} ${i}`);
    await rate(a, inputs); // warm-up
    await rate(b, inputs);
    const ra: number[] = [];
    const rb: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      ra.push(await rate(a, inputs));
      rb.push(await rate(b, inputs));
    }
    const [x, y] = [median(ra), median(rb)];
    console.log(`| ${batch} | ${x.toFixed(0)} | ${y.toFixed(0)} | ${(x / y).toFixed(2)}× |`);
  }
  await a.dispose();
  await b.dispose();
}

const CACHE = [
  { name: "KV cache", options: {} },
  { name: "no cache", options: { useCache: false } },
];

const dir = await mkdtemp(join(tmpdir(), "lmcot-small-lm-bench-"));
try {
  console.log(`# small-lm generation benchmark (${NEW_TOKENS} new tokens, sampling, median of ${REPEATS})`);
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
  await writeFixtureT5(join(dir, "tiny"), { seed: 1 });
  await compare("fixture T5, tiny (d_model 32, 2+2 layers)", join(dir, "tiny"), CACHE);
  await writeFixtureT5(join(dir, "small"), {
    seed: 1,
    d_model: 256,
    d_kv: 32,
    num_heads: 8,
    d_ff: 1024,
    num_layers: 4,
    quantized: true,
  });
  await compare("fixture T5, small (d_model 256, d_ff 1024, 8 heads, 4+4 layers)", join(dir, "small"), CACHE);
  // HotpotQA-sized inputs: the cache also saves re-projecting the encoder output every step
  const long = Array.from({ length: 10 }, () => PROMPT).join(" ");
  await compare("fixture T5, small, ~500-token inputs", join(dir, "small"), CACHE, long);
  await compare("fixture T5, small: q8 vs fp32 weights (KV cache)", join(dir, "small"), [
    { name: "q8", options: { dtype: "q8" } },
    { name: "fp32", options: {} },
  ]);
  const candidates = [
    process.env.LMCOT_FLAN_T5,
    join(smallLmEnv.localModelPath, "Xenova", "flan-t5-small"),
    join(smallLmEnv.localModelPath, "google", "flan-t5-small"),
  ].filter((p): p is string => p !== undefined);
  const real = candidates.find((p) => existsSync(join(p, "onnx", "decoder_model_merged.onnx")));
  if (real) await compare(`FLAN-T5 export at ${real}`, real, CACHE);
  else
    console.log(
      `\nskipped: no FLAN-T5 ONNX export found (looked in ${candidates.join(", ")}); set LMCOT_FLAN_T5=<folder>`,
    );
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(`\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
