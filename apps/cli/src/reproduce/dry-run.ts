import { existsSync } from "node:fs";
import { type BenchConfig, benchConfigSchema, checkBench, estimateBench, totalEstimate } from "@lmcot/bench";
import { batchPriceOf, priceOf } from "@lmcot/llm";
import { chosenAspects, type RewardPresetName, rewardConfig } from "@lmcot/rewards";
import { ppoConfigSchema } from "@lmcot/train";
import type { ReproduceConfig } from "./config";

type Price = { input: number; output: number } | undefined;
type PriceOf = (id: string) => Price;

interface Line {
  stage: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  online: number;
  batch: number;
  note?: string;
}

/** Tokens of a judge's reply: `Score: n` per aspect. */
const JUDGE_REPLY_TOKENS = 4;
/** The aspect's definition and the scale, besides question, context and rationale. */
const JUDGE_PROMPT_TOKENS = 120;

const free = (id: string) => id.startsWith("extractive:");
const usd = (price: Price, id: string, input: number, output: number) =>
  free(id) || !price ? 0 : (input * price.input + output * price.output) / 1e6;

/** The bench dataset entry that stands for the distillation input. */
function distillDataset(c: ReproduceConfig) {
  const { input, dataset, evalSize } = c.distill;
  if (input === "sample") return { name: dataset, split: "train" as const, evalSize };
  if (existsSync(input)) return { name: dataset, file: input };
  const [name, source, sample] = input.split(":");
  return { name: name as "hotpotqa", source, ...(sample ? { sample: Number(sample) } : {}) };
}

/** The examples (and their scale, for a split not downloaded) a dataset list stands for, as bench --dry-run has them. */
async function examplesOf(c: ReproduceConfig, datasets: unknown[], warnings: string[]) {
  const probe = benchConfigSchema.parse({ datasets, methods: ["standard"], large: [c.large] });
  const check = await checkBench(probe, { dryRun: true });
  for (const w of check.warnings) warnings.push(w);
  for (const e of check.errors) if (!check.examples.size || !e.startsWith("datasets:")) warnings.push(e);
  return { config: probe, check };
}

async function estimate(config: BenchConfig, price: PriceOf, check: Awaited<ReturnType<typeof checkBench>>) {
  return totalEstimate(await estimateBench(config, price, check.examples, check.scale));
}

/**
 * `lmcot reproduce --dry-run`: calls, tokens and cost of every stage, online and with provider
 * batches, from the same estimator as `lmcot bench --dry-run` (a split not downloaded is priced from
 * the bundled sample, scaled to its size). PPO needs each reward at once, so it is online in both.
 */
export async function priceReproduce(c: ReproduceConfig): Promise<{ lines: string[]; warnings: string[] }> {
  const warnings: string[] = [];
  const rows: Line[] = [];
  const small = [
    { id: "extractive:selector", label: "kd" },
    { id: "extractive:selector", label: "kd+rl" },
  ];
  const both = async (config: BenchConfig, check: Awaited<ReturnType<typeof checkBench>>) => ({
    online: await estimate(config, (id) => priceOf(id), check),
    batch: await estimate(config, (id) => batchPriceOf(id), check),
  });

  const teach = await examplesOf(c, [distillDataset(c)], warnings);
  const cot = benchConfigSchema.parse({ ...teach.config, methods: ["cot"] });
  const t = await both(cot, teach.check);
  const k = c.distill.samples;
  rows.push({
    stage: "distill",
    calls: t.online.calls * k,
    inputTokens: t.online.inputTokens * k,
    outputTokens: t.online.outputTokens * k,
    online: (t.online.costUsd ?? 0) * k,
    batch: (t.batch.costUsd ?? 0) * k,
  });
  rows.push({
    stage: "kd",
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    online: 0,
    batch: 0,
    note: "local training",
  });

  // PPO: each rollout is one large-LM answer from the rationale (the task reward) and the judge's calls.
  const guidedTeach = benchConfigSchema.parse({ ...teach.config, methods: ["lm-guided"], small: [small[0]] });
  const perQuestion =
    (await estimate(guidedTeach, (id) => priceOf(id), teach.check)).inputTokens /
    Math.max(1, t.online.examples);
  const ppo = ppoConfigSchema.parse(
    Object.fromEntries(Object.entries(c.train.rl).filter(([key]) => key === "steps" || key === "batchSize")),
  );
  const reward = rewardConfig(String(c.train.rl.preset ?? "paper") as RewardPresetName);
  const rollouts = ppo.steps * ppo.batchSize;
  const judgeCalls = (preset: RewardPresetName, mode: string) =>
    chosenAspects(rewardConfig(preset)).length === 0
      ? 0
      : mode === "one-call"
        ? 1
        : chosenAspects(rewardConfig(preset)).length;
  const ppoJudge = judgeCalls(
    String(c.train.rl.preset ?? "paper") as RewardPresetName,
    String(c.train.rl.judgeMode ?? "per-aspect"),
  );
  const task = reward.taskWeight !== 0 ? 1 : 0;
  const ppoIn = rollouts * (task * perQuestion + ppoJudge * (perQuestion + JUDGE_PROMPT_TOKENS));
  const ppoOut = rollouts * (task * 8 + ppoJudge * JUDGE_REPLY_TOKENS);
  const ppoUsd =
    usd(priceOf(c.large), c.large, rollouts * task * perQuestion, rollouts * task * 8) +
    usd(priceOf(c.judge), c.judge, ppoIn - rollouts * task * perQuestion, ppoOut - rollouts * task * 8);
  rows.push({
    stage: "rl",
    calls: rollouts * (task + ppoJudge),
    inputTokens: Math.round(ppoIn),
    outputTokens: Math.round(ppoOut),
    online: ppoUsd,
    batch: ppoUsd,
    note: `${ppo.steps} steps × ${ppo.batchSize} rollouts, online in both: PPO needs each reward at once`,
  });

  const evalSet = await examplesOf(c, c.bench.datasets, warnings);
  const { selfConsistency, ...grid } = c.bench;
  const gridConfig = benchConfigSchema.parse({ ...evalSet.config, ...grid, large: [c.large], small });
  const g = await both(gridConfig, evalSet.check);
  const runs = [g];
  if (selfConsistency > 1 && c.bench.methods.includes("lm-guided"))
    runs.push(await both({ ...gridConfig, methods: ["lm-guided"], selfConsistency }, evalSet.check));
  const sum = (f: (x: typeof g) => number) => runs.reduce((s, x) => s + f(x), 0);
  rows.push({
    stage: "bench",
    calls: sum((x) => x.online.calls),
    inputTokens: sum((x) => x.online.inputTokens),
    outputTokens: sum((x) => x.online.outputTokens),
    online: sum((x) => x.online.costUsd ?? 0),
    batch: sum((x) => x.batch.costUsd ?? 0),
    note: runs.length > 1 ? `with the self-consistency run (k = ${selfConsistency})` : undefined,
  });

  // Rationale scoring: every LM-guided item of the grid (and of the self-consistency run).
  const guided = benchConfigSchema.parse({ ...gridConfig, methods: ["lm-guided"], selfConsistency: 1 });
  const items = await estimate(guided, (id) => priceOf(id), evalSet.check);
  const perItem = items.inputTokens / Math.max(1, items.examples);
  const scored = items.examples * runs.length;
  const calls = scored * judgeCalls(c.scores.preset, c.scores.judgeMode);
  const [sIn, sOut] = [calls * (perItem + JUDGE_PROMPT_TOKENS), calls * JUDGE_REPLY_TOKENS];
  rows.push({
    stage: "scores",
    calls,
    inputTokens: Math.round(sIn),
    outputTokens: Math.round(sOut),
    online: usd(priceOf(c.judge), c.judge, sIn, sOut),
    batch: usd(batchPriceOf(c.judge), c.judge, sIn, sOut),
  });
  rows.push({ stage: "report", calls: 0, inputTokens: 0, outputTokens: 0, online: 0, batch: 0 });
  for (const id of new Set([c.large, c.judge]))
    if (!free(id) && !priceOf(id)) warnings.push(`no price known for ${id}: its calls are counted at $0`);
  return { lines: format(rows), warnings };
}

function format(rows: Line[]): string[] {
  const sum = (f: (r: Line) => number) => rows.reduce((s, r) => s + f(r), 0);
  const total: Line = {
    stage: "TOTAL",
    calls: sum((r) => r.calls),
    inputTokens: sum((r) => r.inputTokens),
    outputTokens: sum((r) => r.outputTokens),
    online: sum((r) => r.online),
    batch: sum((r) => r.batch),
  };
  const line = (r: Line) =>
    `${r.stage}: ${r.calls} calls, ~${Math.round(r.inputTokens)} input + ~${Math.round(r.outputTokens)} output tokens, ~$${r.online.toFixed(4)} online, ~$${r.batch.toFixed(4)} with --batch${r.note ? ` (${r.note})` : ""}`;
  return [...rows.map(line), line(total)];
}
