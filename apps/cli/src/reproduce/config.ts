import { existsSync } from "node:fs";
import { basename } from "node:path";
import { benchConfigSchema, readConfigValue, unknownKeys } from "@lmcot/bench";
import { LmcotError } from "@lmcot/core";
import { describeIssue, fieldPath } from "@lmcot/datasets";
import { rewardPresets } from "@lmcot/rewards";
import { z } from "zod";
import { UsageError } from "../usage-error";
import { PRESETS } from "./presets";

const dataset = benchConfigSchema.shape.datasets.unwrap().element;
const presetNames = Object.keys(rewardPresets) as [
  keyof typeof rewardPresets,
  ...(keyof typeof rewardPresets)[],
];
/** A trainer's settings, handed to `lmcot train kd|rl --config` as they are (that command checks them). */
const trainerSettings = z.record(z.string(), z.unknown()).default({});

/**
 * `lmcot reproduce --config`: the paper's pipeline in one file. Stages: distill → kd → rl → bench →
 * scores → report; each section sets its stage (and nothing else), so a change reruns that stage and
 * the ones after it.
 */
export const reproduceConfigSchema = z.object({
  /** The run directory: one folder per stage. */
  out: z.string().min(1),
  /** The frozen large LM: the teacher of step 1, the answerer in PPO's task reward and in the grid. */
  large: z.string().min(3),
  /** The judge LM of the aspect rewards (PPO and rationale scoring). */
  judge: z.string().min(3),
  /** Provider batches (50 % of the price, results within 24 h) for distill, the grid and scoring; PPO stays online. */
  batch: z.boolean().default(false),
  /** With batch: seconds between two looks at a running batch (default 30). */
  batchPoll: z.number().positive().optional(),
  /** Stop a stage before it spends more than this (USD), per stage. */
  budget: z.number().positive().optional(),
  cacheDir: z.string().default(".lmcot/cache"),
  distill: z
    .object({
      /** `sample` (the bundled sample's training split), a file, or a split of the cache (`hotpotqa:train:2000`). */
      input: z.string().min(1).default("sample"),
      dataset: z.enum(["hotpotqa", "2wikimultihopqa"]).default("hotpotqa"),
      /** With `input: sample`: questions held out for the grid (the bench's `split: eval`). */
      evalSize: z.number().int().positive().default(20),
      samples: z.number().int().min(1).max(64).default(1),
      filter: z.enum(["em", "f1"]).default("em"),
      concurrency: z.number().int().min(1).max(256).default(4),
    })
    .prefault({}),
  train: z
    .object({
      /** `ts`: in-process (lmcot train); `trl` / `openrlhf`: write the recipe and data, stop (exit 3), resume on the checkpoint. */
      engine: z.enum(["ts", "trl", "openrlhf"]).default("ts"),
      /** `lmcot train kd` settings (model, epochs, lr, seed, …). */
      kd: trainerSettings,
      /** `lmcot train rl` settings (steps, batchSize, kl, preset, metric, …). */
      rl: trainerSettings,
    })
    .prefault({}),
  bench: z
    .object({
      datasets: benchConfigSchema.shape.datasets.unwrap(),
      methods: z
        .array(z.enum(["standard", "cot", "lm-guided"]))
        .min(1)
        .default(["standard", "cot", "lm-guided"]),
      seeds: z.array(z.number().int()).min(1).default([0]),
      /** LM-guided CoT again with this many sampled rationales (majority vote); 1: no self-consistency run. */
      selfConsistency: z.number().int().min(1).max(64).default(1),
      concurrency: z.number().int().min(1).max(256).default(4),
      minClaimN: z.number().int().positive().optional(),
      context: benchConfigSchema.shape.context.unwrap().optional(),
    })
    .prefault({ datasets: [dataset.parse({ name: "hotpotqa" })] }),
  scores: z
    .object({
      /** The reward preset whose aspects are scored (its task part is the grid's own EM). */
      preset: z.enum(presetNames).default("aspects-only"),
      judgeMode: z.enum(["per-aspect", "one-call"]).default("per-aspect"),
      concurrency: z.number().int().min(1).max(256).default(8),
    })
    .prefault({}),
});

export type ReproduceConfig = z.output<typeof reproduceConfigSchema>;

function problems(error: z.ZodError, name: string): string {
  return error.issues.map((i) => `${name}: ${fieldPath(i.path)} ${describeIssue(i)}`).join("\n");
}

/** A preset's name or a YAML/JSON file (keys over the `extends` preset, if any), checked by the schema. */
export function loadReproduceConfig(
  source: string,
  overrides: Record<string, unknown> = {},
): ReproduceConfig {
  let value: Record<string, unknown>;
  let name = source;
  if (source in PRESETS) value = structuredClone(PRESETS[source]!) as Record<string, unknown>;
  else {
    if (!existsSync(source))
      throw new UsageError(
        `--config: no such file or preset: ${source} (presets: ${Object.keys(PRESETS).join(", ")})`,
      );
    name = basename(source);
    let read: unknown;
    try {
      read = readConfigValue(source);
    } catch (error) {
      throw LmcotError.isInstance(error) ? new UsageError(error.message) : error;
    }
    if (typeof read !== "object" || read === null || Array.isArray(read))
      throw new UsageError(`${name}: must hold a mapping of keys to values`);
    const { extends: base, ...rest } = read as Record<string, unknown>;
    if (base !== undefined && (typeof base !== "string" || !(base in PRESETS)))
      throw new UsageError(`${name}: extends must name a preset (${Object.keys(PRESETS).join(", ")})`);
    value = base ? merge(structuredClone(PRESETS[base]!) as Record<string, unknown>, rest) : rest;
  }
  value = merge(value, overrides);
  const unknown = unknownKeys(reproduceConfigSchema, value);
  if (unknown.length) throw new UsageError(unknown.map((u) => `${name}: ${u}`).join("\n"));
  const parsed = reproduceConfigSchema.safeParse(value);
  if (!parsed.success) throw new UsageError(problems(parsed.error, name));
  return parsed.data;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `over`'s keys onto `base`, maps merged key by key, anything else replaced. */
export function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isMap(v) && isMap(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}
