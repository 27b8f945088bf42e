import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { note } from "../log";
import type { ReproduceConfig } from "./config";
import { costOf, jsonLines, lineCount, optionsFile } from "./files";
import { checkpointDir, exportOnnx, hasCheckpoint, writeHandoff } from "./handoff";
import type { StageManifest } from "./manifest";
import { writeReproduceReport } from "./report";
import { lmcotCommand } from "./run-command";

export const STAGE_NAMES = ["distill", "kd", "rl", "bench", "scores", "report"] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface StageContext {
  config: ReproduceConfig;
  /** The command that re-runs this pipeline (for the hand-off message). */
  rerun: string;
  dir: (stage: StageName) => string;
  /** The manifests of the stages completed (or found complete) so far. */
  done: Partial<Record<StageName, StageManifest>>;
}

export type StageOutcome = { costUsd: number; outputs: Record<string, string> } | { handoff: string };

export interface Stage {
  name: StageName;
  title: string;
  /** The stages whose outputs it reads: their input hashes are part of its own. */
  reads: StageName[];
  /** The part of the config it depends on. */
  settings: (c: ReproduceConfig) => unknown;
  run: (ctx: StageContext) => Promise<StageOutcome>;
  /** Items done of all, read from its files, for the ETA. */
  progress?: (ctx: StageContext) => { done: number; total: number } | undefined;
}

/** A command a stage ran failed: reproduce stops with its exit code, completed stages kept. */
export class StageFailed extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

async function mustRun(args: string[], options?: { quietResult?: boolean }) {
  const result = await lmcotCommand(args, options);
  if (result.code !== 0)
    throw new StageFailed(result.code, `lmcot ${args.slice(0, 2).join(" ")} exited ${result.code}`);
  return result;
}

const output = (ctx: StageContext, stage: StageName, key: string) => {
  const value = ctx.done[stage]?.outputs[key];
  if (value === undefined) throw new Error(`the ${stage} stage recorded no ${key}`);
  return value;
};

/** Steps done of all, from a trainer's metrics.jsonl (one line per step). */
function trainerProgress(dir: string) {
  const last = jsonLines(join(dir, "metrics.jsonl")).at(-1);
  return typeof last?.step === "number" && typeof last.totalSteps === "number"
    ? { done: last.step, total: last.totalSteps }
    : undefined;
}

const batchAndBudget = (c: ReproduceConfig) => ({
  ...(c.batch ? { batch: true } : {}),
  ...(c.batch && c.batchPoll !== undefined ? { batchPoll: c.batchPoll } : {}),
  ...(c.budget !== undefined ? { budget: c.budget } : {}),
});

const distill: Stage = {
  name: "distill",
  title: "rationale distillation: the large LM is the teacher",
  reads: [],
  settings: (c) => ({ large: c.large, distill: c.distill, batch: c.batch, budget: c.budget }),
  run: async (ctx) => {
    const { config: c } = ctx;
    const dir = ctx.dir("distill");
    const file = optionsFile(dir, "distill", {
      teacher: c.large,
      ...c.distill,
      out: dir,
      cacheDir: c.cacheDir,
      ...batchAndBudget(c),
    });
    await mustRun(["distill", "--config", file]);
    const stats = JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as { costUsd?: number };
    return { costUsd: stats.costUsd ?? 0, outputs: { data: dir } };
  },
};

/** A stage an external engine trains: its recipe, or (once the checkpoint is there) the converted model. */
async function handedOff(stage: "kd" | "rl", ctx: StageContext, policy?: string): Promise<StageOutcome> {
  const dir = ctx.dir(stage);
  const checkpoint = checkpointDir(dir);
  if (!hasCheckpoint(checkpoint))
    return {
      handoff: writeHandoff(
        stage,
        ctx.config,
        { stageDir: dir, distillDir: output(ctx, "distill", "data"), ...(policy ? { policy } : {}) },
        ctx.rerun,
      ),
    };
  note(`reproduce: found the ${stage} checkpoint in ${checkpoint}; converting it for transformers.js\n`);
  const model = await exportOnnx(checkpoint, join(dir, "onnx-model"));
  return { costUsd: 0, outputs: { model, hf: checkpoint } };
}

const kd: Stage = {
  name: "kd",
  title: "knowledge distillation of the small LM",
  reads: ["distill"],
  settings: (c) => ({ engine: c.train.engine, kd: c.train.kd }),
  run: async (ctx) => {
    if (ctx.config.train.engine !== "ts") return handedOff("kd", ctx);
    const dir = ctx.dir("kd");
    const file = optionsFile(dir, "kd", {
      ...ctx.config.train.kd,
      data: output(ctx, "distill", "data"),
      out: dir,
    });
    await mustRun(["train", "kd", "--config", file]);
    return { costUsd: 0, outputs: { model: dir, hf: dir } };
  },
  progress: (ctx) => trainerProgress(ctx.dir("kd")),
};

const rl: Stage = {
  name: "rl",
  title: "PPO on the task reward and the judge's aspect rewards",
  reads: ["distill", "kd"],
  settings: (c) => ({ engine: c.train.engine, rl: c.train.rl, large: c.large, judge: c.judge }),
  run: async (ctx) => {
    const { config: c } = ctx;
    if (c.train.engine !== "ts") return handedOff("rl", ctx, output(ctx, "kd", "hf"));
    const dir = ctx.dir("rl");
    const file = optionsFile(dir, "rl", {
      ...c.train.rl,
      policy: output(ctx, "kd", "model"),
      data: output(ctx, "distill", "data"),
      large: c.large,
      judge: c.judge,
      cacheDir: c.cacheDir,
      out: dir,
    });
    const { stdout } = await mustRun(["train", "rl", "--config", file, "--json"], { quietResult: true });
    let costUsd = 0;
    try {
      const summary = JSON.parse(stdout) as {
        usage?: { costUsd?: number };
        firstReward?: number;
        lastReward?: number;
      };
      costUsd = summary.usage?.costUsd ?? 0;
      note(
        `reproduce: PPO reward ${summary.firstReward?.toFixed(3)} (first step) → ${summary.lastReward?.toFixed(3)} (last)\n`,
      );
    } catch {
      note("reproduce: train rl printed no JSON summary; its cost is counted as 0\n");
    }
    return { costUsd, outputs: { model: dir, hf: dir } };
  },
  progress: (ctx) => trainerProgress(ctx.dir("rl")),
};

/** The grid's run directories: `grid` (k = 1) and, with self-consistency, `sc` (LM-guided with k samples). */
const benchRuns = (c: ReproduceConfig) =>
  c.bench.selfConsistency > 1 && c.bench.methods.includes("lm-guided") ? ["grid", "sc"] : ["grid"];

const bench: Stage = {
  name: "bench",
  title: "the grid: standard, CoT, LM-guided CoT with KD and KD+RL (and self-consistency)",
  reads: ["kd", "rl"],
  settings: (c) => ({ large: c.large, bench: c.bench, batch: c.batch, budget: c.budget }),
  run: async (ctx) => {
    const { config: c } = ctx;
    const small = [
      { id: `transformers:${resolve(output(ctx, "kd", "model"))}`, label: "kd" },
      { id: `transformers:${resolve(output(ctx, "rl", "model"))}`, label: "kd+rl" },
    ];
    const { selfConsistency, ...grid } = c.bench;
    const outputs: Record<string, string> = {};
    let costUsd = 0;
    for (const run of benchRuns(c)) {
      const out = join(ctx.dir("bench"), run);
      const file = optionsFile(ctx.dir("bench"), run, {
        ...grid,
        ...(run === "sc" ? { methods: ["lm-guided"], selfConsistency } : {}),
        large: [c.large],
        small,
        cacheDir: c.cacheDir,
        out,
        ...batchAndBudget(c),
      });
      await mustRun(["bench", "--config", file]);
      outputs[run] = out;
      costUsd += costOf(join(out, "run.jsonl"));
    }
    return { costUsd, outputs };
  },
  progress: (ctx) => {
    let done = 0;
    let total = 0;
    for (const run of benchRuns(ctx.config)) {
      const dir = join(ctx.dir("bench"), run);
      done += lineCount(join(dir, "run.jsonl"));
      const plan = existsSync(join(dir, "plan.json"))
        ? (JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { cells: { expected: number }[] })
        : undefined;
      total += plan?.cells.reduce((s, x) => s + x.expected, 0) ?? 0;
    }
    return total ? { done, total } : undefined;
  },
};

/** `--data` for the rationale scorer: the dataset file the grid read (none: the bundled sample). */
async function dataFileOf(c: ReproduceConfig, dataset: string): Promise<string | undefined> {
  const entry = c.bench.datasets.find((d) => d.name === dataset);
  if (entry?.file) return entry.file;
  if (!entry?.source) return undefined;
  const { datasetFile } = await import("../dataset-arg");
  return (await datasetFile(`${dataset}:${entry.source}`)).path;
}

const scores: Stage = {
  name: "scores",
  title: "rationale scoring of every LM-guided cell by the judge",
  reads: ["bench"],
  settings: (c) => ({ judge: c.judge, scores: c.scores, batch: c.batch }),
  run: async (ctx) => {
    const { config: c } = ctx;
    const dir = ctx.dir("scores");
    let costUsd = 0;
    for (const [run, runDir] of Object.entries(ctx.done.bench?.outputs ?? {})) {
      const guided = jsonLines(join(runDir, "run.jsonl")).filter(
        (r) => (r.cell as { method?: string } | undefined)?.method === "lm-guided",
      );
      const datasets = [...new Set(guided.map((r) => (r.cell as { dataset: string }).dataset))];
      for (const dataset of datasets) {
        const name = `${run}-${dataset}`;
        const items = guided.filter((r) => (r.cell as { dataset: string }).dataset === dataset);
        const runFile = join(dir, `${name}.run.jsonl`);
        writeFileSync(runFile, items.map((r) => `${JSON.stringify(r)}\n`).join(""));
        const out = join(dir, `${name}.rewards.jsonl`);
        const data = await dataFileOf(c, dataset);
        await mustRun([
          "rewards",
          "score",
          "--run",
          runFile,
          "--judge",
          c.judge,
          "--preset",
          c.scores.preset,
          "--judge-mode",
          c.scores.judgeMode,
          "--concurrency",
          String(c.scores.concurrency),
          "--cache-dir",
          c.cacheDir,
          "--out",
          out,
          ...(data ? ["--data", data] : []),
          ...(c.batch ? ["--batch"] : []),
          ...(c.batch && c.batchPoll !== undefined ? ["--batch-poll", String(c.batchPoll)] : []),
        ]);
        costUsd += costOf(out);
        // Beside the run, where the report and `lmcot view` read rewards*.jsonl.
        writeFileSync(join(runDir, `rewards-${dataset}.jsonl`), readFileSync(out));
      }
    }
    return { costUsd, outputs: { dir } };
  },
  progress: (ctx) => {
    const dir = ctx.dir("scores");
    if (!existsSync(dir)) return undefined;
    const files = readdirSync(dir);
    const count = (suffix: string) =>
      files.filter((f) => f.endsWith(suffix)).reduce((s, f) => s + lineCount(join(dir, f)), 0);
    const total = count(".run.jsonl");
    return total ? { done: count(".rewards.jsonl"), total } : undefined;
  },
};

const report: Stage = {
  name: "report",
  title: "one report",
  reads: ["bench", "scores"],
  settings: (c) => ({ minClaimN: c.bench.minClaimN }),
  run: async (ctx) => {
    const files = await writeReproduceReport(ctx);
    return { costUsd: 0, outputs: Object.fromEntries(files.map((f) => [f.split(".").at(-1)!, f])) };
  },
};

export const STAGES: Stage[] = [distill, kd, rl, bench, scores, report];
