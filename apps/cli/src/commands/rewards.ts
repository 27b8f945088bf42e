import { createWriteStream, existsSync } from "node:fs";
import { basename } from "node:path";
import { DataValidationError, type Example, type LanguageModel } from "@lmcot/core";
import { loadSample, readAll, readLines } from "@lmcot/datasets";
import { createModel } from "@lmcot/llm";
import {
  ASPECTS,
  type AspectName,
  type ItemReward,
  isAspect,
  type RewardConfig,
  type RewardItem,
  type RewardPresetName,
  RewardScorer,
  rewardConfig,
  rewardPresets,
  startRewardServer,
} from "@lmcot/rewards";
import { type Command, Option } from "commander";
import { z } from "zod";
import { UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

export interface RewardFlags {
  judge?: string;
  large?: string;
  preset: RewardPresetName;
  aspects?: string;
  aspectWeight?: string;
  taskWeight?: string;
  metric?: string;
  judgeMode?: "per-aspect" | "one-call";
  onJudgeFailure?: string;
  normalize?: RewardConfig["normalization"];
  concurrency: string;
  cacheDir: string;
  cache: boolean;
}

function number(flag: string, value: string, min = Number.NEGATIVE_INFINITY): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min)
    throw new UsageError(
      `${flag} must be a number${min > Number.NEGATIVE_INFINITY ? ` ≥ ${min}` : ""}, got "${value}"`,
    );
  return n;
}

/** `factuality,relevance` or `factuality=2,fluency=0.5` → aspect weights. */
function parseAspects(value: string): Partial<Record<AspectName, number>> {
  if (value === "all") return Object.fromEntries(ASPECTS.map((a) => [a, 1]));
  if (value === "none") return {};
  const out: Partial<Record<AspectName, number>> = {};
  for (const part of value.split(",").map((p) => p.trim())) {
    const [name = "", weight] = part.split("=");
    if (!isAspect(name))
      throw new UsageError(`--aspects: unknown aspect "${name}" (known: ${ASPECTS.join(", ")})`);
    out[name] = weight === undefined ? 1 : number(`--aspects ${name}`, weight);
  }
  return out;
}

/** The reward config: the preset, with each given flag replacing its field. */
export function configFromFlags(flags: RewardFlags): RewardConfig {
  const overrides: Partial<RewardConfig> = {};
  if (flags.aspects) overrides.aspects = parseAspects(flags.aspects);
  if (flags.aspectWeight) overrides.aspectWeight = number("--aspect-weight", flags.aspectWeight);
  if (flags.taskWeight) overrides.taskWeight = number("--task-weight", flags.taskWeight);
  if (flags.metric) {
    const mix = /^mix:(.+)$/.exec(flags.metric);
    if (flags.metric === "em" || flags.metric === "f1") overrides.taskMetric = flags.metric;
    else if (mix) {
      const em = number("--metric mix:<em share>", mix[1]!, 0);
      if (em > 1) throw new UsageError(`--metric mix:<em share> must be in [0, 1], got ${em}`);
      overrides.taskMetric = { em, f1: 1 - em };
    } else throw new UsageError(`--metric must be em, f1 or mix:<em share>, got "${flags.metric}"`);
  }
  if (flags.judgeMode) overrides.judgeMode = flags.judgeMode;
  if (flags.onJudgeFailure) {
    const f = flags.onJudgeFailure;
    if (f === "zero" || f === "exclude") overrides.onJudgeFailure = f;
    else {
      const d = number("--on-judge-failure", f, 0);
      if (d > 1) throw new UsageError(`--on-judge-failure: a default score must be in [0, 1], got ${d}`);
      overrides.onJudgeFailure = { default: d };
    }
  }
  if (flags.normalize) overrides.normalization = flags.normalize;
  return rewardConfig(flags.preset, overrides);
}

function model(id: string, flags: RewardFlags): LanguageModel {
  // Offline stand-ins are free and instant: nothing to cache or retry.
  if (id.startsWith("extractive:")) return createModel(id, { retry: false });
  return createModel(id, flags.cache ? { cacheDir: flags.cacheDir } : {});
}

export function scorerFrom(flags: RewardFlags, config: RewardConfig, needLarge: boolean): RewardScorer {
  const scoresAspects = config.aspectWeight !== 0 && Object.values(config.aspects).some((w) => w !== 0);
  if (scoresAspects && !flags.judge)
    throw new UsageError(
      "this reward scores rationale aspects: give --judge <model id> (or --preset task-only)",
    );
  if (needLarge && config.taskWeight !== 0 && !flags.large)
    throw new UsageError(
      "the task reward needs the large LM: give --large <model id> (or --preset aspects-only)",
    );
  return new RewardScorer({
    config,
    concurrency: number("--concurrency", flags.concurrency, 1),
    ...(scoresAspects && flags.judge ? { judge: model(flags.judge, flags) } : {}),
    ...(flags.large ? { large: model(flags.large, flags) } : {}),
  });
}

export function rewardOptions(command: Command): Command {
  return command
    .option("--judge <id>", "judge LM for the aspect rewards, e.g. openai:gpt-4o-mini")
    .addOption(
      new Option("--preset <name>", "reward setting (every field below overrides it)")
        .choices(Object.keys(rewardPresets))
        .default("paper"),
    )
    .option("--aspects <list>", "aspects and weights: all, none, or e.g. factuality,relevance=2")
    .option("--aspect-weight <w>", "w_aspect, the weight of R_aspect")
    .option("--task-weight <w>", "w_task, the weight of R_task")
    .option("--metric <m>", "task reward metric: em, f1, or mix:<em share>")
    .addOption(new Option("--judge-mode <mode>", "judge calls").choices(["per-aspect", "one-call"]))
    .option(
      "--on-judge-failure <p>",
      "score of an unreadable judge reply: zero, exclude, or a number in [0, 1]",
    )
    .addOption(
      new Option("--normalize <n>", "reward normalisation").choices(["none", "running", "batch-minmax"]),
    )
    .option("--concurrency <n>", "model calls in flight", "8")
    .option(
      "--cache-dir <dir>",
      "disk cache of judge and large-LM calls (a re-score costs nothing)",
      ".lmcot/cache",
    )
    .option("--no-cache", "do not read or write the disk cache");
}

interface ServeFlags extends RewardFlags {
  port: string;
  host: string;
  tokenEnv: string;
  maxBodyMb: string;
  maxItems: string;
}

async function serve(flags: ServeFlags): Promise<void> {
  const config = configFromFlags(flags);
  const scorer = scorerFrom(flags, config, true);
  const token = process.env[flags.tokenEnv] || undefined;
  const loopback = ["127.0.0.1", "localhost", "::1"].includes(flags.host);
  if (!loopback && !token)
    process.stderr.write(
      `warning: listening on ${flags.host} without a token; anyone who can reach it spends your judge budget (set ${flags.tokenEnv})\n`,
    );
  const server = await startRewardServer({
    scorer,
    port: number("--port", flags.port, 0),
    host: flags.host,
    ...(token ? { token } : {}),
    maxBodyBytes: Math.round(number("--max-body-mb", flags.maxBodyMb, 0) * 1024 * 1024),
    maxItems: number("--max-items", flags.maxItems, 1),
    info: { judge: flags.judge ?? null, large: flags.large ?? null, preset: flags.preset },
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(
    `reward server on ${server.url} — POST ${server.url}/get_reward, GET ${server.url}/health${token ? " (bearer token required)" : ""}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      process.stderr.write(`shutting down: finishing ${server.inFlight} request(s) in flight\n`);
      server.close().then(resolve, resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  const t = scorer.totals;
  process.stdout.write(
    `served ${t.items} items, ${t.judgeFailures} unreadable judge replies, $${t.usage.costUsd.toFixed(4)}, ${t.usage.cachedCalls} cached calls\n`,
  );
}

/** A run line: a core `Prediction` or a bench record (both carry exampleId, answer, rationale). */
const runLine = z.looseObject({
  key: z.string().optional(),
  exampleId: z.string(),
  dataset: z.string().optional(),
  cell: z.looseObject({ dataset: z.string(), method: z.string().optional() }).optional(),
  method: z.string().optional(),
  answer: z.string(),
  rationale: z.string().optional(),
});

interface ScoreFlags extends RewardFlags {
  run: string;
  data?: string;
  out?: string;
  json?: boolean;
}

async function examplesFor(dataset: string, flags: ScoreFlags, cache: Map<string, Map<string, Example>>) {
  let table = cache.get(dataset);
  if (!table) {
    let list: Example[];
    if (flags.data) list = await readAll(flags.data, { dataset });
    else if (dataset === "hotpotqa" || dataset === "2wikimultihopqa") list = await loadSample(dataset);
    else throw new UsageError(`the run is on dataset "${dataset}": give its file with --data`);
    table = new Map(list.map((e) => [e.id, e]));
    cache.set(dataset, table);
  }
  return table;
}

async function score(flags: ScoreFlags): Promise<void> {
  if (!existsSync(flags.run)) throw new UsageError(`--run: no such file: ${flags.run}`);
  if (flags.data && !existsSync(flags.data)) throw new UsageError(`--data: no such file: ${flags.data}`);
  const config = configFromFlags(flags);
  const scorer = scorerFrom(flags, config, false);
  const file = basename(flags.run);
  const tables = new Map<string, Map<string, Example>>();
  const items: (RewardItem & { line: number; key?: string; method?: string })[] = [];
  let withoutRationale = 0;
  for await (const { text, line } of readLines(flags.run)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new DataValidationError("is not valid JSON", { file, line });
    }
    const parsed = runLine.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DataValidationError(issue.message, { file, line, field: issue.path.join(".") });
    }
    const r = parsed.data;
    if (r.rationale === undefined || r.rationale.trim() === "") {
      withoutRationale++;
      continue;
    }
    const dataset = r.dataset ?? r.cell?.dataset;
    if (!dataset) throw new DataValidationError("has no dataset (dataset or cell.dataset)", { file, line });
    const example = (await examplesFor(dataset, flags, tables)).get(r.exampleId);
    if (!example)
      throw new DataValidationError(
        `names example "${r.exampleId}", which is not in ${flags.data ?? `the bundled ${dataset} sample`}`,
        {
          file,
          line,
          field: "exampleId",
        },
      );
    // Without --large the task reward scores the answer the run recorded (no new large-LM call).
    items.push({
      example,
      rationale: r.rationale,
      ...(flags.large ? {} : { answer: r.answer }),
      line,
      ...(r.key ? { key: r.key } : {}),
      ...((r.method ?? r.cell?.method) ? { method: r.method ?? r.cell?.method } : {}),
    });
  }
  if (items.length === 0)
    throw new Error(
      `${file} has no predictions with a rationale to reward (${withoutRationale} without one)`,
    );
  const out = flags.out ? createWriteStream(flags.out) : undefined;
  const result = await scorer.scoreBatch(items);
  result.items.forEach((r, i) => {
    const item = items[i]!;
    out?.write(
      `${JSON.stringify({
        ...(item.key ? { key: item.key } : {}),
        exampleId: item.example.id,
        dataset: item.example.dataset,
        ...(item.method ? { method: item.method } : {}),
        reward: result.rewards[i],
        ...rowOf(r),
      })}\n`,
    );
  });
  if (out)
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  const summary = summarise(result.items, result.rewards, config, scorer);
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ ...summary, skippedWithoutRationale: withoutRationale }, null, 2)}\n`,
    );
  else {
    const lines = [
      `${summary.items} rationales: mean reward ${summary.meanReward.toFixed(4)} (preset ${flags.preset})`,
      ...(summary.meanTaskReward !== undefined
        ? [`  task reward (${JSON.stringify(config.taskMetric)}): ${summary.meanTaskReward.toFixed(4)}`]
        : []),
      ...(summary.meanAspectReward !== undefined
        ? [
            `  aspect reward: ${summary.meanAspectReward.toFixed(4)} of ${Object.values(config.aspects).reduce((a, b) => a + (b ?? 0), 0)}`,
            ...Object.entries(summary.aspects).map(([a, m]) => `    ${a}: ${m.toFixed(4)}`),
          ]
        : []),
      `  unreadable judge replies: ${summary.judgeFailures}; cost $${summary.costUsd.toFixed(4)}; cached calls ${summary.cachedCalls}`,
      ...(withoutRationale ? [`  skipped ${withoutRationale} predictions without a rationale`] : []),
      ...(flags.out ? [`per-item rewards: ${flags.out}`] : []),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}

function rowOf(r: ItemReward) {
  const clean = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? null : x);
  return {
    rawReward: r.reward,
    ...(r.taskReward !== undefined ? { taskReward: r.taskReward, answer: r.answer, em: r.em, f1: r.f1 } : {}),
    ...(r.aspectReward !== undefined
      ? {
          aspectReward: clean(r.aspectReward),
          aspects: Object.fromEntries(Object.entries(r.aspects).map(([k, v]) => [k, clean(v)])),
        }
      : {}),
    ...(r.failures.length ? { judgeFailures: r.failures } : {}),
    costUsd: r.usage.costUsd,
  };
}

function summarise(items: ItemReward[], rewards: number[], config: RewardConfig, scorer: RewardScorer) {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const defined = (xs: (number | undefined)[]) =>
    xs.filter((x): x is number => x !== undefined && !Number.isNaN(x));
  const aspects: Record<string, number> = {};
  for (const a of ASPECTS)
    if ((config.aspects[a] ?? 0) !== 0 && config.aspectWeight !== 0)
      aspects[a] = mean(defined(items.map((i) => i.aspects[a])));
  const task = defined(items.map((i) => i.taskReward));
  const aspect = defined(items.map((i) => i.aspectReward));
  return {
    items: items.length,
    meanReward: mean(rewards),
    ...(task.length ? { meanTaskReward: mean(task) } : {}),
    ...(aspect.length ? { meanAspectReward: mean(aspect) } : {}),
    aspects,
    judgeFailures: scorer.totals.judgeFailures,
    costUsd: scorer.totals.usage.costUsd,
    cachedCalls: scorer.totals.usage.cachedCalls,
    calls: scorer.totals.usage.calls,
  };
}

export const registerRewards: RegisterCommand = (program: Command) => {
  const rewards = program
    .command("rewards")
    .description(
      "the paper's rewards: task reward + eight rationale aspect rewards; a reward server for PPO engines",
    );
  rewardOptions(
    rewards
      .command("serve")
      .description("serve POST /get_reward (OpenRLHF --remote_rm_url shape) and GET /health")
      .option("--port <n>", "port", "5000")
      .option("--host <addr>", "address to bind (loopback by default)", "127.0.0.1")
      .option("--large <id>", "frozen large LM that answers from the rationale (task reward)")
      .option(
        "--token-env <NAME>",
        "environment variable holding the bearer token to require",
        "LMCOT_REWARD_TOKEN",
      )
      .option("--max-body-mb <n>", "largest request body", "16")
      .option("--max-items <n>", "most items in one request", "4096"),
  ).action((flags: ServeFlags) => serve(flags));
  rewardOptions(
    rewards
      .command("score")
      .description("compute the reward of a run's predictions (lmcot run / bench JSONL)")
      .requiredOption(
        "--run <file>",
        "run JSONL: Prediction records or bench records with rationale and answer",
      )
      .option("--data <file>", "dataset file the run's example ids come from (default: the bundled sample)")
      .option(
        "--large <id>",
        "re-ask this large LM for the task reward (default: score the run's recorded answer)",
      )
      .option("--out <file>", "write per-item rewards as JSONL")
      .option("--json", "print the summary as JSON"),
  ).action((flags: ScoreFlags) => score(flags));
};
