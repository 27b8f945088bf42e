import type { LanguageModel } from "@lmcot/core";
import { type BatchSession, batchUnsupported, createModel, getModel } from "@lmcot/llm";
import {
  ASPECTS,
  type AspectName,
  chosenAspects,
  isAspect,
  type JudgeFailurePolicy,
  type RewardConfig,
  type RewardPresetName,
  RewardScorer,
  rewardConfig,
  rewardPresets,
} from "@lmcot/rewards";
import { type Command, Option } from "commander";
import { batchOptions } from "../batch-flags";
import { type CallFlags, callPolicyFrom } from "../call-flags";
import { UsageError } from "../usage-error";

/** The reward flags (and the call policy flags, where the command takes them). */
export interface RewardFlags extends CallFlags {
  judge?: string;
  large?: string;
  preset: RewardPresetName;
  aspects?: string;
  aspectWeight?: string;
  taskWeight?: string;
  metric?: string;
  judgeMode?: "per-aspect" | "one-call";
  onJudgeFailure?: string;
  onCallFailure?: string;
  normalize?: RewardConfig["normalization"];
  concurrency: string;
  cacheDir: string;
  cache: boolean;
}

export function number(flag: string, value: string, min = Number.NEGATIVE_INFINITY): number {
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

/** `zero`, `exclude`, `error` or a default score in [0, 1]. */
function failurePolicy(flag: string, value: string): JudgeFailurePolicy {
  if (value === "zero" || value === "exclude" || value === "error") return value;
  const d = number(flag, value, 0);
  if (d > 1) throw new UsageError(`${flag}: a default score must be in [0, 1], got ${d}`);
  return { default: d };
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
  if (flags.onJudgeFailure)
    overrides.onJudgeFailure = failurePolicy("--on-judge-failure", flags.onJudgeFailure);
  if (flags.onCallFailure) overrides.onCallFailure = failurePolicy("--on-call-failure", flags.onCallFailure);
  if (flags.normalize) overrides.normalization = flags.normalize;
  return rewardConfig(flags.preset, overrides);
}

function model(id: string, flags: RewardFlags, batch?: BatchSession): LanguageModel {
  // Offline stand-ins are free and instant: nothing to cache or retry.
  if (id.startsWith("extractive:") && !batch) return createModel(id, { retry: false });
  return createModel(id, {
    ...callPolicyFrom(flags),
    ...(flags.cache ? { cacheDir: flags.cacheDir } : {}),
    ...(batch ? { batch } : {}),
  });
}

const scoresAspects = (config: RewardConfig) =>
  config.aspectWeight !== 0 && Object.values(config.aspects).some((w) => w !== 0);

/** The judge and large-LM calls of scoring `items` rationales: at most this many (first round). */
export function callsPerRun(flags: RewardFlags, config: RewardConfig, items: number): number {
  const judge = !scoresAspects(config)
    ? 0
    : config.judgeMode === "one-call"
      ? 1
      : chosenAspects(config).length;
  return Math.max(1, items * (judge + (flags.large && config.taskWeight !== 0 ? 1 : 0)));
}

/** With --batch: a usage error for a model the scorer would call that has no batch API. */
export function checkBatchable(flags: RewardFlags, config: RewardConfig): void {
  const ids = [scoresAspects(config) ? flags.judge : undefined, flags.large];
  for (const id of ids) {
    const why = id ? batchUnsupported(getModel(id)) : undefined;
    if (why) throw new UsageError(why);
  }
}

/**
 * The scorer of these flags. With `batch`, its models' calls go through the session, and the
 * scorer's own limit is `batch.calls`, so it never keeps a call out of a batch.
 */
export function scorerFrom(
  flags: RewardFlags,
  config: RewardConfig,
  needLarge: boolean,
  batch?: { session: BatchSession; calls: number },
): RewardScorer {
  const aspects = scoresAspects(config);
  if (aspects && !flags.judge)
    throw new UsageError(
      "this reward scores rationale aspects: give --judge <model id> (or --preset task-only)",
    );
  if (needLarge && config.taskWeight !== 0 && !flags.large)
    throw new UsageError(
      "the task reward needs the large LM: give --large <model id> (or --preset aspects-only)",
    );
  return new RewardScorer({
    config,
    concurrency: batch ? batch.calls : number("--concurrency", flags.concurrency, 1),
    ...(aspects && flags.judge ? { judge: model(flags.judge, flags, batch?.session) } : {}),
    ...(flags.large ? { large: model(flags.large, flags, batch?.session) } : {}),
  });
}

export function rewardOptions(command: Command): Command {
  // Only `rewards score` takes --batch: serve and train need each reward at once.
  if (command.name() === "score") batchOptions(command);
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
      "score of an unreadable judge reply: zero (default), exclude, a number in [0, 1], or error (the item fails)",
    )
    .option(
      "--on-call-failure <p>",
      "score of a judge or large-LM call that failed after its retries: error (default: the item fails), zero, exclude, or a number in [0, 1]",
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
