import { existsSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { loadSample, lockRunDir, trainEvalSplit } from "@lmcot/datasets";
import {
  type Engine,
  type KdConfigInput,
  KdTrainer,
  latestCheckpoint,
  MODEL_PRESETS,
  type PpoConfigInput,
  PpoTrainer,
  readDistillation,
  readRlPrompts,
  readT5Folder,
  resolveEngine,
  rlQueries,
  scorerReward,
  type T5Folder,
} from "@lmcot/train";
import { type Command, Option } from "commander";
import type { z } from "zod";
import { duration } from "../batch-flags";
import { callOptions } from "../call-flags";
import { EXIT_FAILURE, lockNotice } from "../failures";
import { onInterrupt } from "../interrupt";
import { note, printResult } from "../log";
import { rerunWithMallocTunables, watchParent } from "../malloc-tunables";
import { commandOptions } from "../options";
import { UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";
import { configFromFlags, rewardOptions, scorerFrom } from "./rewards-flags";
import { kdOptionsSchema, rlOptionsSchema } from "./train-options";

type KdOptions = z.output<typeof kdOptionsSchema>;
type RlOptions = z.output<typeof rlOptionsSchema>;

/** `lr` is `optimizer.learningRate`, so `--lr` and the key of the same name mean one thing. */
const withLr = <T extends { lr?: number; optimizer?: object }>(o: T) =>
  o.lr === undefined ? o : { ...o, optimizer: { ...o.optimizer, learningRate: o.lr } };

const isJson = (command: Command) => command.opts().json === true;

/** One line per step on a terminal (rewritten in place); about twenty lines in all elsewhere. */
function progress(total: number) {
  const live = Boolean(process.stderr.isTTY) && !process.env.CI;
  const every = Math.max(1, Math.round(total / 20));
  return (step: number, line: string) => {
    if (live) note(`\r\x1b[2K${line}${step === total ? "\n" : ""}`);
    else if (step % every === 0 || step === total) note(`${line}\n`);
  };
}

/** One process per output folder; Ctrl-C stops at the end of the current step, the newest checkpoint stays. */
async function interruptible<T>(
  out: string,
  command: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const lock = lockRunDir(out, command);
  lockNotice(lock);
  try {
    return await onInterrupt(async (signal) => {
      try {
        return await work(signal);
      } catch (error) {
        if (signal.aborted)
          throw new Error(
            `stopped; the newest checkpoint is in ${join(out, "checkpoints")} — run the same command again to resume`,
          );
        throw error;
      }
    });
  } finally {
    lock.release();
  }
}

function engineNote(engine: Engine): void {
  note(
    engine === "onnxruntime"
      ? `engine: onnxruntime, ${availableParallelism()} threads${process.env.GLIBC_TUNABLES?.includes("mmap_threshold") ? ", glibc mmap threshold fixed" : ""}\n`
      : "engine: tfjs (wasm, one core); npm install onnxruntime-node for the onnxruntime engine (every core, several times faster)\n",
  );
}

async function resumeNote(flags: { restart: boolean; out: string }): Promise<boolean> {
  if (flags.restart) return false;
  const latest = await latestCheckpoint(flags.out);
  if (latest !== undefined) note(`resuming from ${latest} (--restart to start over)\n`);
  return latest !== undefined;
}

/** `--data` for KD: a distill output folder (its sft-trl.jsonl) or a JSONL file of pairs. */
function distillationFile(data: string): string {
  if (!existsSync(data)) throw new UsageError(`--data: no such file or folder: ${data}`);
  if (!statSync(data).isDirectory()) return data;
  for (const name of ["sft-trl.jsonl", "seq2seq.jsonl"])
    if (existsSync(join(data, name))) return join(data, name);
  throw new UsageError(
    `--data ${data}: the folder has no sft-trl.jsonl or seq2seq.jsonl (run lmcot distill first)`,
  );
}

/** `--model`: a preset trains from scratch (undefined); otherwise the checkpoint's folder or hub id. */
function checkpointSpec(model: KdOptions["model"]): string | undefined {
  if (typeof model !== "string" || model in MODEL_PRESETS) return undefined;
  if (!existsSync(model) && !model.includes("/"))
    throw new UsageError(
      `--model ${model}: not a preset (${Object.keys(MODEL_PRESETS).join(", ")}), a folder or a hub id`,
    );
  return model;
}

/**
 * The checkpoint to start from, read (a hub id through small-lm's models folder, cache and mirror)
 * and checked before `--out` is created, so bad input (config, tensors, tokenizer, shards) writes nothing.
 */
async function startingCheckpoint(spec: string): Promise<T5Folder> {
  const { resolveCheckpoint } = await import("@lmcot/small-lm");
  return readT5Folder(await resolveCheckpoint(spec));
}

/** On the onnxruntime engine, the command runs in a child with glibc's mmap threshold fixed (malloc-tunables.ts). */
async function inChild(engine: Engine): Promise<boolean> {
  if (engine !== "onnxruntime") return false;
  const rerun = rerunWithMallocTunables();
  if (rerun === undefined) {
    watchParent();
    return false;
  }
  process.exitCode = await rerun;
  return true;
}

async function trainKd(command: Command): Promise<void> {
  const flags: KdOptions = commandOptions(kdOptionsSchema, command);
  const config: KdConfigInput = withLr(flags);
  const trainer = new KdTrainer(config);
  const engine = await resolveEngine(trainer.config.engine);
  if (await inChild(engine)) return;
  const spec = checkpointSpec(flags.model);
  const pairs = await readDistillation(distillationFile(flags.data));
  const resume = await resumeNote(flags);
  const pretrained = resume || spec === undefined ? undefined : await startingCheckpoint(spec);
  engineNote(engine);
  let show: ReturnType<typeof progress> | undefined;
  const result = await interruptible(flags.out, "lmcot train kd", (signal) =>
    trainer.train(pairs, flags.out, {
      resume,
      signal,
      exportOnnx: flags.onnx,
      ...(pretrained === undefined ? {} : { pretrained }),
      onStep: (m) => {
        show ??= progress(m.totalSteps);
        show(
          m.step,
          `kd step ${m.step}/${m.totalSteps} epoch ${m.epoch + 1} loss ${m.loss.toFixed(4)}${m.evalLoss === undefined ? "" : ` eval ${m.evalLoss.toFixed(4)}`} lr ${m.lr.toExponential(2)} ${Math.round(m.tokensPerSecond)} tok/s, ${duration(m.elapsedSeconds * 1000)} elapsed, ETA ${duration(m.etaSeconds * 1000)}`,
        );
      },
    }),
  );
  printResult(
    isJson(command),
    { model: flags.out, pairs: pairs.length, ...result },
    () =>
      [
        `KD: ${pairs.length} pairs, ${result.parameters.toLocaleString("en")} parameters, ${result.steps} steps; final loss ${result.finalLoss.toFixed(4)}${result.evalLoss === undefined ? "" : `, eval loss ${result.evalLoss.toFixed(4)}`}${result.startEvalLoss === undefined ? "" : ` (${result.startEvalLoss.toFixed(4)} before training)`}`,
        `model: ${flags.out} (metrics.jsonl, checkpoints/)`,
        ...(flags.onnx
          ? [
              `use it: lmcot ask --small transformers:${flags.out} …  or  lmcot train rl --policy ${flags.out} …`,
            ]
          : []),
      ].join("\n") + "\n",
  );
}

async function rlData(flags: RlOptions) {
  const { datasetExamples, isDatasetId } = await import("../dataset-arg");
  if (isDatasetId(flags.data))
    return rlQueries(await datasetExamples(flags.data, { download: flags.download }));
  if (flags.data === "sample")
    return rlQueries(trainEvalSplit(await loadSample(flags.dataset), flags.evalSize, 0).train);
  if (!existsSync(flags.data)) throw new UsageError(`--data: no such file or folder: ${flags.data}`);
  const path = statSync(flags.data).isDirectory() ? join(flags.data, "rl-prompts.jsonl") : flags.data;
  if (!existsSync(path))
    throw new UsageError(
      `--data ${flags.data}: the folder has no rl-prompts.jsonl (run lmcot distill first)`,
    );
  return readRlPrompts(path);
}

async function trainRl(command: Command): Promise<void> {
  const flags: RlOptions = commandOptions(rlOptionsSchema, command);
  if (!existsSync(join(flags.policy, "config.json")))
    throw new UsageError(
      `--policy ${flags.policy}: not a model folder (no config.json); train one with lmcot train kd`,
    );
  const pretrained = await readT5Folder(flags.policy);
  const config: PpoConfigInput = withLr(
    flags.klCoef === undefined ? flags : { ...flags, kl: { ...flags.kl, coef: flags.klCoef } },
  );
  const trainer = new PpoTrainer(config);
  const engine = await resolveEngine(trainer.config.engine);
  if (await inChild(engine)) return;
  const scorer = await scorerFrom(flags, configFromFlags(flags), true);
  const queries = await rlData(flags);
  engineNote(engine);
  const resume = await resumeNote(flags);
  const show = progress(trainer.config.steps);
  const result = await interruptible(flags.out, "lmcot train rl", (signal) =>
    trainer.train(flags.policy, queries, scorerReward(scorer), flags.out, {
      resume,
      signal,
      exportOnnx: flags.onnx,
      pretrained,
      onStep: (m) =>
        show(
          m.step,
          `rl step ${m.step}/${m.totalSteps} ${Math.round(m.tokensPerSecond)} tok/s, ETA ${duration(m.etaSeconds * 1000)}, reward ${m.rewardMean.toFixed(3)}±${m.rewardStd.toFixed(3)}${m.taskReward === undefined ? "" : ` task ${m.taskReward.toFixed(3)}`} kl ${m.kl.toFixed(3)} β ${m.klCoef.toFixed(3)} entropy ${m.entropy.toFixed(2)} clip ${m.clipFraction.toFixed(2)} vloss ${m.valueLoss.toFixed(3)} ev ${m.explainedVariance.toFixed(2)}`,
        ),
    }),
  );
  const { usage, callFailures, failedItems } = scorer.totals;
  if (callFailures || failedItems) {
    // The policy was trained on made-up scores for these: say so, and fail the command.
    process.stderr.write(
      `lmcot: ${callFailures} reward call${callFailures === 1 ? "" : "s"} failed after their retries and were scored by --on-call-failure; ${failedItems} rollout${failedItems === 1 ? "" : "s"} got no reward\n`,
    );
    process.exitCode = EXIT_FAILURE;
  }
  printResult(
    isJson(command),
    { model: flags.out, queries: queries.length, ...result, usage },
    () =>
      [
        `PPO: ${queries.length} queries, ${result.steps} steps; reward ${result.firstReward.toFixed(3)} (first step) → ${result.lastReward.toFixed(3)} (last); KL ${result.lastKl.toFixed(3)}`,
        `reward calls: large LM ${usage.calls.large}, judge ${usage.calls.judge} (${usage.cachedCalls} cached), $${usage.costUsd.toFixed(4)}`,
        `model: ${flags.out} (metrics.jsonl, checkpoints/, value_head.safetensors)`,
      ].join("\n") + "\n",
  );
}

function common(command: Command): Command {
  return command
    .option("--out <dir>", "output folder: model, metrics.jsonl, checkpoints/ (re-running resumes it)")
    .option(
      "--config <file>",
      "YAML or JSON: the trainer's config and any flag below as a key (--batch-size ↔ batchSize); flags override it",
    )
    .option("--seed <n>", "seed for initialisation, shuffling and sampling")
    .option("--lr <x>", "peak learning rate")
    .option("--batch-size <n>", "examples (KD) or rollouts (RL) per step")
    .option(
      "--grad-accum <n>",
      "micro-batches per optimizer step: KD's effective batch is batch-size × n; RL splits each mini-batch in n",
    )
    .addOption(
      new Option(
        "--engine <name>",
        "where training steps run: onnxruntime (every core; needs onnxruntime-node), tfjs (wasm, one core), auto: onnxruntime when installed",
      ).choices(["auto", "onnxruntime", "tfjs"]),
    )
    .option("--restart", "ignore existing checkpoints in --out and start over")
    .option("--no-onnx", "write safetensors only, not the ONNX files transformers.js loads")
    .option("--json", "print the summary as JSON");
}

export const registerTrain: RegisterCommand = (program: Command) => {
  const train = program
    .command("train")
    .description(
      "train the small LM in-process (CPU, no Python): kd = distillation, rl = PPO on the paper's rewards",
    );
  common(
    train
      .command("kd")
      .description("knowledge distillation: teacher-forced cross-entropy on distilled rationales")
      .option(
        "--data <path>",
        "an lmcot distill folder or a JSONL of {prompt, completion} / {input, target} / {source, target}",
      )
      .option(
        "--model <preset|folder|hub id>",
        `where to start: a size to train from scratch (${Object.keys(MODEL_PRESETS).join(", ")}; default tiny) or a Hugging Face T5 / FLAN-T5 checkpoint, e.g. google/flan-t5-small (its weights and tokenizer)`,
      )
      .option("--epochs <n>", "passes over the data")
      .option("--max-steps <n>", "stop after this many optimizer steps (0: save the starting model as is)")
      .option("--dropout-rate <x>", "dropout while training (default: the model's dropout_rate)"),
  ).action((_flags: unknown, command: Command) => trainKd(command));
  rewardOptions(
    common(
      callOptions(train.command("rl"))
        .description(
          "PPO on rationale rewards (task reward + aspect rewards) with a KL penalty to the KD model",
        )
        .option(
          "--policy <dir>",
          "the KD model folder or any T5 / FLAN-T5 checkpoint folder (also the KL reference)",
        )
        .option(
          "--data <path|sample|id>",
          "queries: `sample` (the bundled sample's training split), rl-prompts.jsonl, a distill folder, or hotpotqa:train:500 (the cache)",
          "sample",
        )
        .option("--download", "with --data <id>: download the dataset if it is not in the cache")
        .addOption(
          new Option("--dataset <name>", "with --data sample")
            .choices(["hotpotqa", "2wikimultihopqa"])
            .default("hotpotqa"),
        )
        .option(
          "--eval-size <n>",
          "with --data sample: questions held out (the same split as lmcot distill)",
          "20",
        )
        .option(
          "--large <id>",
          "frozen large LM that answers from the rationale (task reward), e.g. extractive:reader",
        )
        .option("--steps <n>", "PPO steps")
        .option("--kl-coef <x>", "initial β of the KL penalty")
        .option("--max-new-tokens <n>", "rationale length limit for rollouts"),
    ),
  ).action((_flags: unknown, command: Command) => trainRl(command));
};
