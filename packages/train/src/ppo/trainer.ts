import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { seededRandom } from "@lmcot/core";
import { writeSafetensors } from "@lmcot/model-writer";
import {
  latestCheckpoint,
  readCheckpointState,
  readExtra,
  restoreOptimizer,
  saveCheckpoint,
} from "../checkpoint";
import { exportModel } from "../export";
import { resolveEngine } from "../kd/engines";
import { appendMetrics, truncateMetrics } from "../metrics-log";
import { lrFactor } from "../optim";
import { progressClock } from "../progress";
import { batchAt, epochOrder } from "../shuffle";
import { readT5Folder, saveT5, type T5Folder } from "../t5/folder";
import { explainedVariance, gae, KlController, mean, variance, whiten } from "./advantages";
import { type PpoConfig, type PpoConfigInput, ppoConfigSchema } from "./config";
import { createPpoEngine, type PpoBatch, type PpoEngine } from "./engines";
import type { RewardFunction, RewardResult, Rollout } from "./rewards";

/** A query for the policy: its input text and whatever the reward needs (an Example, a label…). */
export interface PpoQuery<D> {
  input: string;
  data: D;
}

export interface PpoStepMetrics {
  step: number;
  totalSteps: number;
  /** Mean and standard deviation of the reward function's scores (before whitening). */
  rewardMean: number;
  rewardStd: number;
  /** Mean over rollouts of Σ_t (log π − log π_ref): the KL from the reference, in nats per sequence. */
  kl: number;
  klCoef: number;
  /** Mean per-token entropy of the policy on its rollouts. */
  entropy: number;
  clipFraction: number;
  approxKl: number;
  policyLoss: number;
  valueLoss: number;
  explainedVariance: number;
  responseLength: number;
  lr: number;
  seconds: number;
  /** Of `seconds`, the time spent sampling the rollouts. */
  rolloutSeconds: number;
  /** Query + rollout tokens per second over this run so far, and the estimated seconds left. */
  tokensPerSecond: number;
  elapsedSeconds: number;
  etaSeconds: number;
  /** Means the reward function logged (e.g. `taskReward`, `aspectReward`). */
  [extra: string]: number;
}

export interface PpoRunOptions {
  /** Continue from `<out>/checkpoints/latest` when it exists. */
  resume?: boolean;
  signal?: AbortSignal;
  onStep?: (m: PpoStepMetrics) => void;
  /** Also write the ONNX files into `<out>` at the end (default true). */
  exportOnnx?: boolean;
  /** The policy folder, already read (`readT5Folder`), so bad input fails before `<out>` exists. */
  pretrained?: T5Folder;
}

export interface PpoResult {
  steps: number;
  /** Reward means of the first and the last step that ran in this call. */
  firstReward: number;
  lastReward: number;
  lastKl: number;
  resumedFrom?: number;
  /** The engine the updates ran on. */
  engine: "onnxruntime" | "tfjs";
}

interface PpoState {
  step: number;
  klCoef: number;
}

type Batch = PpoBatch;

/**
 * PPO for the rationale model (RL4LMs / TRL style): rollouts from the current policy, a per-token
 * KL penalty against the frozen starting model, a value head on the decoder, GAE, clipped surrogate
 * and value losses, mini-batch epochs. Writes `<out>/metrics.jsonl`, checkpoints with the value head,
 * and the final policy folder in `<out>`. Dropout is off in every pass (rollouts, old, reference and
 * new log-probs, values), as TRL's PPOTrainer disables it in the policy, reference and value models:
 * with dropout the ratio π/π_old would differ from 1 before any update.
 */
export class PpoTrainer {
  readonly config: PpoConfig;

  constructor(config: PpoConfigInput = {}) {
    this.config = ppoConfigSchema.parse(config);
  }

  /** `policy` is a folder from the KD trainer (or a checkpoint); it is also the KL reference. */
  async train<D>(
    policy: string,
    queries: readonly PpoQuery<D>[],
    reward: RewardFunction<D>,
    out: string,
    options: PpoRunOptions = {},
  ): Promise<PpoResult> {
    if (queries.length === 0) throw new Error("PPO needs at least one query");
    const c = this.config;
    const metricsFile = join(out, "metrics.jsonl");
    const checkpoint = options.resume ? await latestCheckpoint(out) : undefined;
    const source = options.pretrained ?? (await readT5Folder(policy));
    const engine = await createPpoEngine(await resolveEngine(c.engine), {
      source,
      config: c,
      ...(checkpoint
        ? { checkpoint: { policy: await readT5Folder(checkpoint), head: await readExtra(checkpoint) } }
        : {}),
    });
    const { model, optimizer } = engine;
    const tokenizer = source.tokenizer;
    await mkdir(out, { recursive: true });
    let start = 0;
    let klCoef = c.kl.coef;
    if (checkpoint !== undefined) {
      const state = await readCheckpointState<PpoState>(checkpoint);
      start = state.step;
      klCoef = state.klCoef;
      await restoreOptimizer(checkpoint, optimizer, state.optimizerStep);
      await truncateMetrics(metricsFile, start);
    } else {
      await writeFile(metricsFile, "");
      await writeFile(
        join(out, "train_config.json"),
        `${JSON.stringify({ kind: "ppo", policy, ...c }, null, 2)}\n`,
      );
    }
    const kl = new KlController(
      klCoef,
      c.kl.adaptive ? { target: c.kl.target, horizon: c.kl.horizon } : undefined,
    );
    const encoded = queries.map((q) => tokenizer.encode(q.input, c.maxInputTokens));
    const optimizerSteps =
      c.steps * c.ppoEpochs * Math.ceil(Math.min(c.batchSize, queries.length) / c.miniBatchSize);
    const rewardsSeen: number[] = [];
    let lastKl = Number.NaN;
    const save = (step: number) =>
      saveCheckpoint(out, {
        model,
        tokenizer,
        optimizer,
        state: { step, klCoef: kl.value } satisfies PpoState,
        extra: engine.headWeights(),
      });
    let step = start;
    let saved = start;
    const clock = progressClock(start, c.steps);
    try {
      for (; step < c.steps; step++) {
        options.signal?.throwIfAborted();
        const started = performance.now();
        const picked = batchAt(queries.length, c.batchSize, c.seed, step);
        const inputs = picked.map((i) => encoded[i] as number[]);
        const decoded = await engine.rollouts(inputs, {
          maxNewTokens: c.maxNewTokens,
          temperature: c.temperature,
          ...(c.topK > 0 ? { topK: c.topK } : {}),
          topP: c.topP,
          random: seededRandom((Math.imul(c.seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const rolloutSeconds = (performance.now() - started) / 1000;
        const responses = decoded.map((d) => d.tokenIds);
        const rollouts: Rollout<D>[] = picked.map((i, b) => ({
          input: (queries[i] as PpoQuery<D>).input,
          rationale: tokenizer.decode(responses[b] as number[]),
          data: (queries[i] as PpoQuery<D>).data,
        }));
        const { scores, logs } = checkScores(await reward(rollouts, options.signal), rollouts.length);
        const batch = await this.prepare(engine, inputs, responses, scores, kl.value);
        const stats = await this.optimise(batch, step, engine, optimizerSteps);
        lastKl = mean(batch.kl);
        kl.update(lastKl, rollouts.length);
        rewardsSeen.push(mean(scores));
        const metrics: PpoStepMetrics = {
          step: step + 1,
          totalSteps: c.steps,
          rewardMean: mean(scores),
          rewardStd: Math.sqrt(variance(scores)),
          kl: lastKl,
          klCoef: kl.value,
          ...stats,
          explainedVariance: explainedVariance(batch.values.flat(), batch.returns.flat()),
          responseLength: mean(responses.map((r) => r.length)),
          seconds: (performance.now() - started) / 1000,
          rolloutSeconds,
          ...clock(
            step + 1,
            [...inputs, ...responses].reduce((a, r) => a + r.length, 0),
          ),
          ...logs,
        };
        await appendMetrics(metricsFile, metrics);
        options.onStep?.(metrics);
        if ((step + 1) % c.saveEvery === 0 || step + 1 === c.steps) {
          await save(step + 1);
          saved = step + 1;
        }
      }
      if (options.exportOnnx ?? true) await exportModel(out, model, tokenizer, c.maxNewTokens);
      else await saveT5(out, model, tokenizer, c.maxNewTokens);
      await writeSafetensors(join(out, "value_head.safetensors"), engine.headWeights());
      return {
        steps: c.steps,
        firstReward: rewardsSeen[0] ?? Number.NaN,
        lastReward: rewardsSeen.at(-1) ?? Number.NaN,
        lastKl,
        ...(checkpoint === undefined ? {} : { resumedFrom: start }),
        engine: engine.name,
      };
    } catch (error) {
      // Ctrl-C (during rollouts, the reward calls or between steps): keep every finished step.
      if (options.signal?.aborted && step > saved) await save(step);
      throw error;
    } finally {
      await engine.dispose();
    }
  }

  /** Old log-probs, reference KL, values, per-token rewards, advantages and returns of the rollouts. */
  private async prepare(
    engine: PpoEngine,
    inputs: number[][],
    responses: number[][],
    scores: number[],
    beta: number,
  ): Promise<Batch & { kl: number[] }> {
    const c = this.config;
    const { old, ref: refLp, values } = await engine.score(inputs, responses);
    const klTokens = old.map((row, b) => row.map((x, t) => x - (refLp[b]?.[t] as number)));
    let rewards = klTokens.map((row, b) =>
      row.map((k, t) => -beta * k + (t === row.length - 1 ? (scores[b] as number) : 0)),
    );
    if (c.whitenRewards) rewards = reshapeLike(whiten(rewards.flat(), false), rewards);
    const perSequence = rewards.map((r, b) => gae(r, values[b] as number[], c.gamma, c.lam));
    const advantages = reshapeLike(whiten(perSequence.flatMap((s) => s.advantages)), rewards);
    return {
      inputs,
      responses,
      old,
      values,
      advantages,
      returns: perSequence.map((s) => s.returns),
      kl: klTokens.map((row) => row.reduce((a, b) => a + b, 0)),
    };
  }

  /** `ppoEpochs` passes of clipped-surrogate + clipped-value updates over shuffled mini-batches. */
  private async optimise(batch: Batch, step: number, engine: PpoEngine, optimizerSteps: number) {
    const c = this.config;
    const sums = { policyLoss: 0, valueLoss: 0, entropy: 0, clipFraction: 0, approxKl: 0 };
    let n = 0;
    let lr = 0;
    for (let epoch = 0; epoch < c.ppoEpochs; epoch++) {
      const order = epochOrder(batch.inputs.length, c.seed + 7, step * c.ppoEpochs + epoch);
      for (let at = 0; at < order.length; at += c.miniBatchSize) {
        const idx = order.slice(at, at + c.miniBatchSize);
        const tokens = Math.max(
          1,
          idx.reduce((sum, i) => sum + (batch.responses[i] as number[]).length, 0),
        );
        const per = Math.ceil(idx.length / c.gradAccum);
        const slices = Array.from({ length: Math.ceil(idx.length / per) }, (_, k) =>
          idx.slice(k * per, (k + 1) * per),
        );
        lr = c.optimizer.learningRate * lrFactor(c.optimizer, engine.optimizer.step, optimizerSteps);
        for (const [policyLoss, valueLoss, entropy, clipped, approxKl] of await engine.update(
          batch,
          slices,
          tokens,
          lr,
        )) {
          sums.policyLoss += policyLoss as number;
          sums.valueLoss += valueLoss as number;
          sums.entropy += entropy as number;
          sums.clipFraction += clipped as number;
          sums.approxKl += approxKl as number;
        }
        n++;
      }
    }
    return {
      policyLoss: sums.policyLoss / n,
      valueLoss: sums.valueLoss / n,
      entropy: sums.entropy / n,
      clipFraction: sums.clipFraction / n,
      approxKl: sums.approxKl / n,
      lr,
    };
  }
}

function reshapeLike(flat: number[], rows: number[][]): number[][] {
  let at = 0;
  return rows.map((r) => {
    at += r.length;
    return flat.slice(at - r.length, at);
  });
}

function checkScores(result: RewardResult, n: number): { scores: number[]; logs: Record<string, number> } {
  const scores = Array.isArray(result) ? result : result.rewards;
  const logs = Array.isArray(result) ? {} : (result.logs ?? {});
  if (scores.length !== n)
    throw new Error(`the reward function returned ${scores.length} scores for ${n} rollouts`);
  const bad = scores.findIndex((s) => typeof s !== "number" || !Number.isFinite(s));
  if (bad >= 0)
    throw new Error(
      `the reward function returned ${String(scores[bad])} for rollout ${bad}; scores must be finite numbers`,
    );
  return { scores, logs };
}
