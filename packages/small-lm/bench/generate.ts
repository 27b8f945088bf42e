// Generation speed of the transformers.js backend: tokens/s at batch 1, 4, 16, and the KV cache's
// speed-up over recomputing the prefix, on fixture models (and a real FLAN-T5 export when present).
//   npx tsx bench/generate.ts [--new-tokens 32] [--repeats 3]
// A real model is looked for in $LMCOT_FLAN_T5 or <models dir>/{Xenova,google}/flan-t5-small.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { smallLmEnv, TransformersRationaleModel, writeFixtureT5 } from "../src/index";

const { values } = parseArgs({
  options: { "new-tokens": { type: "string", default: "32" }, repeats: { type: "string", default: "3" } },
});
const NEW_TOKENS = Number(values["new-tokens"]);
const REPEATS = Number(values.repeats);

const PROMPT =
  "question : who directed the film that was released in the same year as the album ? context : the film was " +
  "directed by a french director and released in 1 9 9 5 . the album was written by an american singer . let us think step by step .";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function tokensPerSecond(
  model: TransformersRationaleModel,
  batch: number,
  prompt: string,
): Promise<number> {
  const inputs = Array.from({ length: batch }, (_, i) => `${prompt} ${i}`);
  const options = { maxNewTokens: NEW_TOKENS, temperature: 1, seed: 1 };
  await model.generate(inputs, options); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const start = performance.now();
    const out = await model.generate(inputs, options);
    const seconds = (performance.now() - start) / 1000;
    rates.push(out.reduce((n, o) => n + (o.tokenIds?.length ?? 0), 0) / seconds);
  }
  return median(rates);
}

async function benchModel(label: string, folder: string, prompt = PROMPT): Promise<void> {
  console.log(`\n## ${label}\n`);
  console.log("| batch | tokens/s (KV cache) | tokens/s (no cache) | cache speed-up |");
  console.log("|---:|---:|---:|---:|");
  const cached = new TransformersRationaleModel(folder, { batchSize: 16, allowRemoteModels: false });
  const uncached = new TransformersRationaleModel(folder, {
    batchSize: 16,
    allowRemoteModels: false,
    useCache: false,
  });
  for (const batch of [1, 4, 16]) {
    const withCache = await tokensPerSecond(cached, batch, prompt);
    const without = await tokensPerSecond(uncached, batch, prompt);
    console.log(
      `| ${batch} | ${withCache.toFixed(0)} | ${without.toFixed(0)} | ${(withCache / without).toFixed(2)}× |`,
    );
  }
  await cached.dispose();
  await uncached.dispose();
}

const dir = await mkdtemp(join(tmpdir(), "lmcot-small-lm-bench-"));
try {
  console.log(`# small-lm generation benchmark (${NEW_TOKENS} new tokens, sampling, median of ${REPEATS})`);
  await writeFixtureT5(join(dir, "tiny"), { seed: 1 });
  await benchModel("fixture T5, tiny (d_model 32, 2+2 layers)", join(dir, "tiny"));
  await writeFixtureT5(join(dir, "small"), {
    seed: 1,
    d_model: 256,
    d_kv: 32,
    num_heads: 8,
    d_ff: 1024,
    num_layers: 4,
  });
  await benchModel("fixture T5, small (d_model 256, d_ff 1024, 8 heads, 4+4 layers)", join(dir, "small"));
  // HotpotQA-sized inputs: the cache also saves re-projecting the encoder output every step
  const long = Array.from({ length: 10 }, () => PROMPT).join(" ");
  await benchModel("fixture T5, small, ~500-token inputs", join(dir, "small"), long);
  const candidates = [
    process.env.LMCOT_FLAN_T5,
    join(smallLmEnv.localModelPath, "Xenova", "flan-t5-small"),
    join(smallLmEnv.localModelPath, "google", "flan-t5-small"),
  ].filter((p): p is string => p !== undefined);
  const real = candidates.find((p) => existsSync(join(p, "onnx", "decoder_model_merged.onnx")));
  if (real) await benchModel(`FLAN-T5 export at ${real}`, real);
  else
    console.log(
      `\nskipped: no FLAN-T5 ONNX export found (looked in ${candidates.join(", ")}); set LMCOT_FLAN_T5=<folder>`,
    );
} finally {
  await rm(dir, { recursive: true, force: true });
}
