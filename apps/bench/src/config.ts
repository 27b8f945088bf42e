import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { closest, DataValidationError, fnv1a } from "@lmcot/core";
import { validate } from "@lmcot/datasets";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { unknownKeys } from "./keys";
import { REASONING_EFFORTS } from "./large";

const methodName = z.enum(["standard", "cot", "lm-guided"]);

const DEFAULT_DATASETS = [{ name: "hotpotqa" as const }, { name: "2wikimultihopqa" as const }];
const DEFAULT_METHODS = methodName.options;
const DEFAULT_SMALL = [{ id: "extractive:selector", label: "selector" }];

/** `openai:gpt-4o-mini` when its key is set, else an Anthropic model when that key is, else the offline reader. */
export function defaultLarge(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPENAI_API_KEY
    ? "openai:gpt-4o-mini"
    : env.ANTHROPIC_API_KEY
      ? "anthropic:claude-3-5-haiku-latest"
      : "extractive:reader";
}

/** A misspelt effort suffix (`openai:o4-mini@hgh`) is an error, not part of a model id. */
function checkEffortSuffix(entry: string, ctx: z.RefinementCtx): void {
  const suffix = /@([a-z]+)$/i.exec(entry)?.[1];
  if (!suffix || (REASONING_EFFORTS as readonly string[]).includes(suffix)) return;
  // Within two edits of an effort (`@hgh`, `@hihg`, `@Low`): a typo, not an id that holds an `@`.
  const near = closest(suffix, REASONING_EFFORTS, 2);
  if (near)
    ctx.addIssue({
      code: "custom",
      message: `unknown reasoning effort "@${suffix}" (low, medium or high); did you mean ${near}?`,
    });
}

export const benchConfigSchema = z
  .object({
    /** Datasets: a bundled sample (default) or a file, optionally sub-sampled. */
    datasets: z
      .array(
        z.object({
          name: z.enum(["hotpotqa", "2wikimultihopqa"]),
          file: z.string().optional(),
          /** A split of the full dataset from the cache (`dev`, `train`, …): `lmcot data get <name>:<source>` first. */
          source: z
            .string()
            .regex(/^[a-z][\w-]*$/i, "must be a split name, e.g. dev")
            .optional(),
          aliases: z.string().optional(),
          sample: z.number().int().positive().optional(),
          sampleSeed: z.number().int().default(0),
          /**
           * `eval` / `train`: one side of the seeded split that `lmcot distill` and `lmcot train rl`
           * use (`evalSize` questions held out), so models trained on the rest are scored on unseen ones.
           */
          split: z.enum(["all", "train", "eval"]).default("all"),
          evalSize: z.number().int().positive().default(20),
        }),
      )
      .min(1)
      .prefault(DEFAULT_DATASETS),
    methods: z.array(methodName).min(1).default(DEFAULT_METHODS),
    /**
     * Large LM ids (`openai:gpt-4o-mini`, `extractive:reader`, …); default `defaultLarge()`. A suffix
     * `@low`, `@medium` or `@high` sets the reasoning effort: `openai:o4-mini@low` and `…@high` are two cells.
     */
    large: z
      .array(z.string().min(3).superRefine(checkEffortSuffix))
      .min(1)
      .default(() => [defaultLarge()]),
    /** Small LM ids for LM-guided CoT, each with a label (e.g. `kd`, `kd+rl`) used in reports and claims. */
    small: z.array(z.object({ id: z.string().min(3), label: z.string().min(1) })).default(DEFAULT_SMALL),
    seeds: z.array(z.number().int()).min(1).default([0]),
    /** Self-consistency: rationales sampled per question for LM-guided CoT (1 = off). */
    selfConsistency: z.number().int().min(1).max(64).default(1),
    concurrency: z.number().int().min(1).max(256).default(4),
    /** Seconds one model call attempt may take (large and small LM; 0: no limit); default 60. */
    timeout: z.number().min(0).optional(),
    /** Retries of a failed model call (429, 5xx, timeouts, resets); default 4. */
    retries: z.number().int().min(0).max(20).optional(),
    /** Seconds one model call may take over all its attempts and waits (0: no cap); default 300. */
    totalTimeout: z.number().min(0).optional(),
    /** Stop before the run's spend would exceed this many USD. */
    budget: z.number().positive().optional(),
    /**
     * Send the large-LM calls as provider batches (OpenAI Batch API, Anthropic Message Batches): half
     * the price, results within 24 h. Every cell runs at once, in rounds; re-running re-attaches.
     */
    batch: z.boolean().default(false),
    /** Where expired or failed-but-retryable batch requests go: a follow-up batch (default) or online. */
    batchFallback: z.enum(["batch", "online"]).optional(),
    /** Seconds between two looks at a running batch (default 30). */
    batchPoll: z.number().positive().optional(),
    /** Run a dataset whose `sample` asks for more examples than it has on all it has (with a warning). */
    allowSmaller: z.boolean().default(false),
    /** Download a `source` dataset missing from the cache (else the run stops, naming `lmcot data get`). */
    download: z.boolean().default(false),
    /** The fewest questions a comparison needs for the report to judge a paper claim on it (default 100). */
    minClaimN: z.number().int().positive().optional(),
    context: z
      .object({
        paragraphs: z
          .union([z.enum(["all", "supporting"]), z.object({ topK: z.number().int().positive() })])
          .default("all"),
        maxTokens: z.number().int().positive().optional(),
      })
      .default({ paragraphs: "all" }),
    /** Where the large LM's responses are cached on disk; re-runs cost nothing. */
    cacheDir: z.string().default(".lmcot/cache"),
    /** false: call the provider every time (`--no-cache`); results are still written to the run file. */
    cache: z.boolean().default(true),
    /** Run directory; default `runs/bench-<hash of the config>` so re-running the same grid resumes it. */
    out: z.string().optional(),
  })
  .refine((c) => !c.methods.includes("lm-guided") || c.small.length > 0, {
    path: ["small"],
    message:
      "is empty, but methods has lm-guided: give at least one small LM (or leave small out for the default)",
  });

export type BenchConfig = z.infer<typeof benchConfigSchema>;
export type BenchConfigInput = z.input<typeof benchConfigSchema>;

/** True for the offline stand-in models (no network, no key). */
export const isOffline = (id: string) => id.startsWith("extractive:");

/**
 * The embedded default: both bundled samples, all three methods, and the offline stand-ins —
 * unless a key is set, in which case that provider's small current model answers.
 */
export function defaultConfig(env: NodeJS.ProcessEnv = process.env): BenchConfigInput {
  return {
    datasets: DEFAULT_DATASETS,
    methods: [...DEFAULT_METHODS],
    large: [defaultLarge(env)],
    small: DEFAULT_SMALL,
    seeds: [0],
  };
}

/**
 * Validates a config object against `schema`: unknown keys are refused with the nearest known one
 * (`bench.yaml: budgetUSD: unknown key; did you mean budget?`), other errors name the field.
 */
export function validateConfig<S extends z.ZodType>(schema: S, value: unknown, file: string): z.output<S> {
  const unknown = unknownKeys(schema, value);
  if (unknown.length) throw new DataValidationError(unknown.map((u) => `${file}: ${u}`).join("\n"));
  return validate(schema, value, { file }) as z.output<S>;
}

/** Validates a config object; a key left out gets its default (the embedded grid's). */
export function parseConfig(value: unknown, file = "config"): BenchConfig {
  return validateConfig(benchConfigSchema, value, file) as BenchConfig;
}

/** The largest config file read (1 MB): a config is a few keys, and YAML parsing costs many times the file's size in memory. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** A YAML (or JSON) file's value, not yet validated (an empty file is `{}`); over `MAX_CONFIG_BYTES` is an error. */
export function readConfigValue(path: string): unknown {
  const size = statSync(path).size;
  if (size > MAX_CONFIG_BYTES)
    throw new DataValidationError(
      `is ${(size / 1024 / 1024).toFixed(1)} MB, over the 1 MB limit for a config file (a config holds settings; data goes in the files it names)`,
      { file: basename(path) },
    );
  try {
    return parseYaml(readFileSync(path, "utf8")) ?? {};
  } catch (error) {
    throw new DataValidationError(`is not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`, {
      file: basename(path),
    });
  }
}

/** Reads a YAML (or JSON) config file and validates it with `schema`; errors name the file and field. */
export function readConfigFile<S extends z.ZodType>(path: string, schema: S): z.output<S> {
  return validateConfig(schema, readConfigValue(path), basename(path));
}

/** Reads a bench config file (YAML or JSON). */
export function loadConfig(path: string): BenchConfig {
  return readConfigFile(path, benchConfigSchema) as BenchConfig;
}

/** The run directory a config writes to unless `out` is set: stable for the same grid. */
export function defaultRunDir(config: BenchConfig): string {
  const {
    out: _out,
    concurrency: _c,
    budget: _b,
    batch: _batch,
    batchFallback: _bf,
    batchPoll: _bp,
    allowSmaller: _a,
    download: _dl,
    minClaimN: _m,
    cacheDir: _d,
    cache: _e,
    timeout: _t,
    retries: _r,
    totalTimeout: _tt,
    ...grid
  } = config;
  return `runs/bench-${fnv1a(JSON.stringify(grid))}`;
}
