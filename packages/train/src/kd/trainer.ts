import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomT5Weights, type T5Config, type T5Weights } from "@lmcot/model-writer";
import { z } from "zod";
import { latestCheckpoint, readCheckpointState, restoreOptimizer, saveCheckpoint } from "../checkpoint";
import { exportModel } from "../export";
import { appendMetrics, truncateMetrics } from "../metrics-log";
import { lrFactor, optimizerConfigSchema } from "../optim";
import { progressClock } from "../progress";
import { batchAt, epochOrder } from "../shuffle";
import { MODEL_PRESETS, type ModelSize, modelSizeSchema, parameterCount, t5ConfigFor } from "../t5/config";
import { readT5Folder, saveT5, type T5Folder } from "../t5/folder";
import type { SavableT5 } from "../t5/host";
import { type Tokenizer, WordTokenizer } from "../tokenizer";
import type { DistillationPair } from "./data";
import { createKdEngine, type Encoded, type Engine, resolveEngine } from "./engines";

export const kdConfigSchema = z.object({
  /**
   * A preset (`micro`, `tiny`, `small`, `base`) or explicit T5 sizes to train from scratch with a
   * word-level vocabulary of the data, or the folder of a pretrained T5 / FLAN-T5 checkpoint
   * (Hugging Face layout) to start from, with its own tokenizer.
   */
  model: z.union([modelSizeSchema, z.string().min(1)]).default("tiny"),
  /** Dropout while training (default: the checkpoint's `dropout_rate`, 0.1 for the presets). */
  dropoutRate: z.number().min(0).max(1).optional(),
  seed: z.number().int().default(0),
  epochs: z.number().int().positive().default(10),
  /** Stop after this many optimizer steps (overrides epochs when smaller). */
  maxSteps: z.number().int().min(0).optional(),
  /** Examples per micro-batch: one forward + backward. */
  batchSize: z.number().int().positive().default(8),
  /** Micro-batches whose gradients add up to one optimizer step (effective batch = batchSize × gradAccum). */
  gradAccum: z.number().int().positive().default(1),
  /** Recompute each block's activations in the backward pass instead of keeping them (~⅓ more compute, a fraction of the memory; tfjs engine). */
  gradientCheckpointing: z.boolean().default(true),
  /**
   * Where steps run: `onnxruntime` (onnxruntime-node, an optional peer dependency: every core,
   * AdamW fused into the step), `tfjs` (tfjs's wasm backend, one core), or `auto`: onnxruntime
   * when onnxruntime-node is installed.
   */
  engine: z.enum(["auto", "onnxruntime", "tfjs"]).default("auto"),
  maxInputTokens: z.number().int().min(2).default(256),
  maxTargetTokens: z.number().int().min(2).default(64),
  maxVocab: z.number().int().min(8).default(8000),
  optimizer: optimizerConfigSchema.prefault({}),
  /** Fraction of pairs held out for eval loss (0 = none). */
  evalFraction: z.number().min(0).max(0.5).default(0.1),
  evalEvery: z.number().int().positive().default(50),
  saveEvery: z.number().int().positive().default(50),
});

export type KdConfig = z.output<typeof kdConfigSchema>;
export type KdConfigInput = z.input<typeof kdConfigSchema>;

export interface KdStepMetrics {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  tokensPerSecond: number;
  /** Seconds since this run started, and the estimate of those left (from this run's pace). */
  elapsedSeconds: number;
  etaSeconds: number;
  evalLoss?: number;
}

interface KdState {
  step: number;
  seed: number;
  startEvalLoss?: number;
}

export interface KdRunOptions {
  /** Continue from `<out>/checkpoints/latest` when it exists. */
  resume?: boolean;
  signal?: AbortSignal;
  onStep?: (m: KdStepMetrics) => void;
  /** Also write the ONNX files into `<out>` at the end (default true). */
  exportOnnx?: boolean;
  /** The checkpoint `config.model` names, already read (`readT5Folder`), so bad input fails before `<out>` exists. */
  pretrained?: T5Folder;
}

export interface KdResult {
  steps: number;
  finalLoss: number;
  evalLoss?: number;
  /** The starting model's loss on the evaluation split, without dropout (no split: undefined). */
  startEvalLoss?: number;
  parameters: number;
  resumedFrom?: number;
  /** The engine the steps ran on. */
  engine: Engine;
}

/**
 * Knowledge distillation of teacher rationales into the small T5: teacher-forced cross-entropy,
 * AdamW with warmup + decay and clipping, seeded shuffling, eval loss, checkpoints and resume.
 * Writes `<out>/metrics.jsonl`, `<out>/checkpoints/` and the final model folder in `<out>`.
 */
export class KdTrainer {
  readonly config: KdConfig;

  constructor(config: KdConfigInput = {}) {
    this.config = kdConfigSchema.parse(config);
  }

  async train(pairs: DistillationPair[], out: string, options: KdRunOptions = {}): Promise<KdResult> {
    const c = this.config;
    const engine = await resolveEngine(c.engine);
    const { trainPairs, evalPairs } = splitPairs(pairs, c.evalFraction, c.seed);
    const checkpoint = options.resume ? await latestCheckpoint(out) : undefined;
    const state = checkpoint === undefined ? undefined : await readCheckpointState<KdState>(checkpoint);
    const start = state?.step ?? 0;
    const pretrained =
      typeof c.model === "string" && !(c.model in MODEL_PRESETS)
        ? (options.pretrained ?? (checkpoint === undefined ? await readT5Folder(c.model) : undefined))
        : undefined;
    let config: T5Config;
    let weights: T5Weights;
    let tokenizer: Tokenizer;
    let source: SavableT5["source"];
    const read = checkpoint !== undefined ? await readT5Folder(checkpoint) : pretrained;
    if (read !== undefined) {
      ({ config, weights, tokenizer } = read);
      source = {
        rawConfig: read.rawConfig,
        ...(read.generationConfig ? { generationConfig: read.generationConfig } : {}),
      };
    } else {
      tokenizer = WordTokenizer.fromTexts(
        pairs.flatMap((p) => [p.input, p.target]),
        c.maxVocab,
      );
      config = t5ConfigFor(c.model as ModelSize, tokenizer.size);
      weights = randomT5Weights(config, c.seed);
    }
    await mkdir(out, { recursive: true });
    if (checkpoint !== undefined) await truncateMetrics(join(out, "metrics.jsonl"), start);
    else {
      await writeFile(join(out, "metrics.jsonl"), "");
      await writeFile(join(out, "train_config.json"), `${JSON.stringify({ kind: "kd", ...c }, null, 2)}\n`);
    }
    const dropoutRate = c.dropoutRate ?? config.dropout_rate;
    const steps = await createKdEngine(engine, {
      config,
      weights,
      ...(source ? { source } : {}),
      optimizer: c.optimizer,
      dropoutRate,
      gradientCheckpointing: c.gradientCheckpointing,
    });
    const { model, optimizer } = steps;
    if (checkpoint !== undefined && state !== undefined)
      await restoreOptimizer(checkpoint, optimizer, state.optimizerStep);
    const encode = (p: DistillationPair): Encoded => ({
      input: tokenizer.encode(p.input, c.maxInputTokens),
      target: tokenizer.encode(p.target, c.maxTargetTokens),
    });
    const train = trainPairs.map(encode);
    const evalSet = evalPairs.map(encode);
    try {
      const startEvalLoss =
        checkpoint !== undefined
          ? state?.startEvalLoss
          : evalSet.length > 0
            ? await steps.evalLoss(evalSet, c.batchSize)
            : undefined;
      const effective = c.batchSize * c.gradAccum;
      const perEpoch = Math.ceil(train.length / effective);
      const total = Math.min(c.maxSteps ?? Number.POSITIVE_INFINITY, perEpoch * c.epochs);
      let lastLoss = Number.NaN;
      let lastEval: number | undefined;
      const clock = progressClock(start, total);
      const save = (step: number) =>
        saveCheckpoint(out, {
          model,
          tokenizer,
          optimizer,
          state: { step, seed: c.seed, startEvalLoss } satisfies KdState,
        });
      let saved = start;
      for (let step = start; step < total; step++) {
        if (options.signal?.aborted) {
          // Ctrl-C: keep every finished step, then stop.
          if (step > saved) await save(step);
          options.signal.throwIfAborted();
        }
        const epoch = Math.floor(step / perEpoch);
        const batch = batchAt(train.length, effective, c.seed, step).map((i) => train[i] as Encoded);
        const targetTokens = batch.reduce((a, b) => a + b.target.length, 0);
        const micro = Array.from({ length: Math.ceil(batch.length / c.batchSize) }, (_, k) =>
          batch.slice(k * c.batchSize, (k + 1) * c.batchSize),
        );
        const lr = c.optimizer.learningRate * lrFactor(c.optimizer, step, total);
        const { loss, gradNorm } = await steps.step(micro, targetTokens, lr, dropoutSeed(c.seed, step));
        lastLoss = loss;
        const tokens = batch.reduce((a, b) => a + b.input.length + b.target.length, 0);
        const done = step + 1;
        const metrics: KdStepMetrics = {
          step: done,
          totalSteps: total,
          epoch,
          loss,
          lr,
          gradNorm,
          tokens,
          ...clock(done, tokens),
        };
        if (evalSet.length > 0 && (done % c.evalEvery === 0 || done === total)) {
          lastEval = await steps.evalLoss(evalSet, c.batchSize);
          metrics.evalLoss = lastEval;
        }
        await appendMetrics(join(out, "metrics.jsonl"), metrics);
        options.onStep?.(metrics);
        if (done % c.saveEvery === 0 || done === total) {
          await save(done);
          saved = done;
        }
      }
      if (options.exportOnnx ?? true) await exportModel(out, model, tokenizer, c.maxTargetTokens);
      else await saveT5(out, model, tokenizer, c.maxTargetTokens);
      return {
        steps: total,
        finalLoss: lastLoss,
        evalLoss: lastEval,
        startEvalLoss,
        parameters: parameterCount(model.config),
        resumedFrom: checkpoint === undefined ? undefined : start,
        engine,
      };
    } finally {
      await steps.dispose();
    }
  }
}

/** One dropout seed per (run seed, step): a resumed run draws the masks an uninterrupted one does. */
const dropoutSeed = (seed: number, step: number) =>
  (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x7feb352d)) >>> 0;

function splitPairs(pairs: DistillationPair[], fraction: number, seed: number) {
  const nEval = pairs.length < 10 ? 0 : Math.floor(pairs.length * fraction);
  const order = epochOrder(pairs.length, seed, -1);
  const evalIdx = new Set(order.slice(0, nEval));
  return {
    trainPairs: pairs.filter((_, i) => !evalIdx.has(i)),
    evalPairs: pairs.filter((_, i) => evalIdx.has(i)),
  };
}
