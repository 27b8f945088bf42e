import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { DataValidationError, fnv1a } from "@lmcot/core";
import { validate } from "@lmcot/datasets";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const methodName = z.enum(["standard", "cot", "lm-guided"]);

export const benchConfigSchema = z.object({
  /** Datasets: a bundled sample (default) or a file, optionally sub-sampled. */
  datasets: z
    .array(
      z.object({
        name: z.enum(["hotpotqa", "2wikimultihopqa"]),
        file: z.string().optional(),
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
    .min(1),
  methods: z.array(methodName).min(1),
  /** Large LM ids (`openai:gpt-4o-mini`, `extractive:reader`, …). */
  large: z.array(z.string().min(3)).min(1),
  /** Small LM ids for LM-guided CoT, each with a label (e.g. `kd`, `kd+rl`) used in reports and claims. */
  small: z.array(z.object({ id: z.string().min(3), label: z.string().min(1) })).default([]),
  seeds: z.array(z.number().int()).min(1).default([0]),
  /** Self-consistency: rationales sampled per question for LM-guided CoT (1 = off). */
  selfConsistency: z.number().int().min(1).max(64).default(1),
  concurrency: z.number().int().min(1).max(256).default(4),
  /** Seconds one model call attempt may take (large and small LM; 0: no limit); default 60. */
  timeoutS: z.number().min(0).optional(),
  /** Retries of a failed model call (429, 5xx, timeouts, resets); default 4. */
  retries: z.number().int().min(0).max(20).optional(),
  /** Seconds one model call may take over all its attempts and waits (0: no cap); default 300. */
  totalTimeoutS: z.number().min(0).optional(),
  /** Stop before the run's spend would exceed this many USD. */
  budgetUsd: z.number().positive().optional(),
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
  const large = env.OPENAI_API_KEY
    ? "openai:gpt-4o-mini"
    : env.ANTHROPIC_API_KEY
      ? "anthropic:claude-3-5-haiku-latest"
      : "extractive:reader";
  return {
    datasets: [{ name: "hotpotqa" }, { name: "2wikimultihopqa" }],
    methods: ["standard", "cot", "lm-guided"],
    large: [large],
    small: [{ id: "extractive:selector", label: "selector" }],
    seeds: [0],
  };
}

/** Validates a config object; errors name the field, e.g. `bench.yaml: methods[1] …`. */
export function parseConfig(value: unknown, file = "config"): BenchConfig {
  return validate(benchConfigSchema, value, { file }) as BenchConfig;
}

/** Reads a YAML (or JSON) config file and validates it with `schema`; errors name the file and field. */
export function readConfigFile<S extends z.ZodType>(path: string, schema: S): z.output<S> {
  const file = basename(path);
  let value: unknown;
  try {
    value = parseYaml(readFileSync(path, "utf8"));
  } catch (error) {
    throw new DataValidationError(`is not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`, {
      file,
    });
  }
  return validate(schema, value ?? {}, { file }) as z.output<S>;
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
    budgetUsd: _b,
    cacheDir: _d,
    cache: _e,
    timeoutS: _t,
    retries: _r,
    totalTimeoutS: _tt,
    ...grid
  } = config;
  return `runs/bench-${fnv1a(JSON.stringify(grid))}`;
}
