// Our decoding loop against transformers.js 4's own generate() on the same fixture folder: greedy,
// same inputs and token budget, measured in interleaved rounds (ours, theirs, ours, …) so outside
// load hits both alike; min / median / max ms per call and the ratio of medians. Checks both
// produce the same tokens.  npx tsx bench/versus-generate.ts [--rounds 7] [--new-tokens 32]
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { AutoModelForSeq2SeqLM, AutoTokenizer, env } from "@huggingface/transformers";
import { writeFixtureT5 } from "@lmcot/model-writer";
import { TransformersRationaleModel } from "../src/index";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "7" }, "new-tokens": { type: "string", default: "32" } },
});
const ROUNDS = Number(values.rounds);
const NEW_TOKENS = Number(values["new-tokens"]);
const PROMPT =
  "question : who directed the film that was released in the same year as the album ? context : the film was " +
  "directed by a french director and released in 1 9 9 5 . the album was written by an american singer .";

const dir = await mkdtemp(join(tmpdir(), "lmcot-versus-"));
const folder = join(dir, "small");
await writeFixtureT5(folder, { seed: 1, d_model: 256, d_kv: 32, num_heads: 8, d_ff: 1024, num_layers: 4 });
env.localModelPath = `${dirname(folder)}/`;
env.allowRemoteModels = false;
const options = { local_files_only: true, dtype: "fp32", device: "cpu" } as const;
const tokenizer = await AutoTokenizer.from_pretrained(basename(folder), options);
const theirs = await AutoModelForSeq2SeqLM.from_pretrained(basename(folder), options);
const ours = new TransformersRationaleModel(folder, { batchSize: 16, allowRemoteModels: false });

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    min: s[0] as number,
    median: s[Math.floor(s.length / 2)] as number,
    max: s[s.length - 1] as number,
  };
};
const fmt = (x: { min: number; median: number; max: number }) =>
  `${x.min.toFixed(0)} / ${x.median.toFixed(0)} / ${x.max.toFixed(0)}`;

console.log(
  `# our loop vs transformers.js generate(): greedy, ${NEW_TOKENS} new tokens, ${ROUNDS} interleaved rounds`,
);
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}\n`,
);
console.log(
  "| batch | ours ms (min / median / max) | generate() ms (min / median / max) | generate() ÷ ours (medians) | same tokens |",
);
console.log("|---:|---:|---:|---:|---|");
for (const batch of [1, 4, 16]) {
  const inputs = Array.from({ length: batch }, (_, i) => `${PROMPT} ${i}`);
  const runOurs = async () =>
    (await ours.generate(inputs, { maxNewTokens: NEW_TOKENS })).map((o) => o.tokenIds ?? []);
  const runTheirs = async () => {
    const encoded = tokenizer(inputs, { padding: true });
    const out = (await theirs.generate({ ...encoded, max_new_tokens: NEW_TOKENS, do_sample: false })) as {
      tolist(): bigint[][];
    };
    // generate() rows start with the decoder start token and pad after EOS
    return out.tolist().map((row) => {
      const ids = row.slice(1).map(Number);
      const eos = ids.indexOf(1);
      return eos < 0 ? ids : ids.slice(0, eos + 1);
    });
  };
  const [a, b] = [await runOurs(), await runTheirs()]; // warm-up, and the tokens compared
  const timesOurs: number[] = [];
  const timesTheirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [run, times] of [
      [runOurs, timesOurs],
      [runTheirs, timesTheirs],
    ] as const) {
      const started = performance.now();
      await run();
      times.push(performance.now() - started);
    }
  }
  const [o, t] = [stats(timesOurs), stats(timesTheirs)];
  console.log(
    `| ${batch} | ${fmt(o)} | ${fmt(t)} | ${(t.median / o.median).toFixed(2)}× | ${JSON.stringify(a) === JSON.stringify(b) ? "yes" : "NO"} |`,
  );
}
await ours.dispose();
await theirs.dispose();
await rm(dir, { recursive: true, force: true });
console.log(`\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
