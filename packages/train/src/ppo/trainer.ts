import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { seededRandom } from "@lmcot/core";
import { writeSafetensors } from "@lmcot/model-writer";
import { type TF, tf, useWasmBackend } from "../backend";
import {
  latestCheckpoint,
  readCheckpointState,
  readExtra,
  restoreOptimizer,
  saveCheckpoint,
} from "../checkpoint";
import { exportModel } from "../export";
import { appendMetrics, truncateMetrics } from "../metrics-log";
import { AdamW, accumulatedValueAndGrads, lrFactor } from "../optim";
import { progressClock } from "../progress";
import { batchAt, epochOrder } from "../shuffle";
import { loadT5, readT5Folder, saveT5, type T5Folder } from "../t5/folder";
import { teacherForced } from "../t5/forward";
import { decode } from "../t5/generate";
import { explainedVariance, gae, KlController, mean, variance, whiten } from "./advantages";
import { type PpoConfig, type PpoConfigInput, ppoConfigSchema } from "./config";
import type { RewardFunction, RewardResult, Rollout } from "./rewards";
import { ValueHead } from "./value-head";

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
}

interface PpoState {
  step: number;
  klCoef: number;
}

interface Batch {
  inputs: number[][];
  responses: number[][];
  old: number[][];
  values: number[][];
  advantages: number[][];
  returns: number[][];
}

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
    await useWasmBackend();
    const c = this.config;
    const metricsFile = join(out, "metrics.jsonl");
    const checkpoint = options.resume ? await latestCheckpoint(out) : undefined;
    const source = options.pretrained ?? (await readT5Folder(policy));
    const { model, tokenizer } = await loadT5(checkpoint ?? source);
    const { model: ref } = await loadT5(source, false);
    model.recompute = c.gradientCheckpointing;
    await mkdir(out, { recursive: true });
    const head = new ValueHead(model.config.d_model, checkpoint ? await readExtra(checkpoint) : undefined);
    const optimizer = new AdamW(c.optimizer, new Map([...model.params, ...head.params]));
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
        extra: head.weights(),
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
        const decoded = decode(model, inputs, {
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
        const batch = this.prepare(model, ref, head, inputs, responses, scores, kl.value);
        const stats = this.optimise(batch, step, optimizer, model, head, optimizerSteps);
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
      await writeSafetensors(join(out, "value_head.safetensors"), head.weights());
      return {
        steps: c.steps,
        firstReward: rewardsSeen[0] ?? Number.NaN,
        lastReward: rewardsSeen.at(-1) ?? Number.NaN,
        lastKl,
        ...(checkpoint === undefined ? {} : { resumedFrom: start }),
      };
    } catch (error) {
      // Ctrl-C (during rollouts, the reward calls or between steps): keep every finished step.
      if (options.signal?.aborted && step > saved) await save(step);
      throw error;
    } finally {
      optimizer.dispose();
      head.dispose();
      model.dispose();
      ref.dispose();
    }
  }

  /** Old log-probs, reference KL, values, per-token rewards, advantages and returns of the rollouts. */
  private prepare(
    model: PpoModel,
    ref: PpoModel,
    head: ValueHead,
    inputs: number[][],
    responses: number[][],
    scores: number[],
    beta: number,
  ): Batch & { kl: number[] } {
    const c = this.config;
    const [lp, refLp, v] = tf.tidy(() => {
      const p = teacherForced(model, inputs, responses, c.temperature);
      const r = teacherForced(ref, inputs, responses, c.temperature);
      return [p.logprobs.arraySync(), r.logprobs.arraySync(), head.apply(p.hidden).arraySync()];
    });
    const cut = (rows: number[][]) => rows.map((row, b) => row.slice(0, (responses[b] as number[]).length));
    const old = cut(lp);
    const values = cut(v);
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
  private optimise(
    batch: Batch,
    step: number,
    optimizer: AdamW,
    model: PpoModel,
    head: ValueHead,
    optimizerSteps: number,
  ) {
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
        const stats: number[][] = [];
        const { grads } = accumulatedValueAndGrads(
          optimizer.parameters,
          slices.map((slice) => () => this.sliceLoss(batch, slice, tokens, model, head, stats)),
        );
        for (const [policyLoss, valueLoss, entropy, clipped, approxKl] of stats) {
          sums.policyLoss += policyLoss as number;
          sums.valueLoss += valueLoss as number;
          sums.entropy += entropy as number;
          sums.clipFraction += clipped as number;
          sums.approxKl += approxKl as number;
        }
        lr = c.optimizer.learningRate * lrFactor(c.optimizer, optimizer.step, optimizerSteps);
        optimizer.apply(grads, lr);
        tf.dispose([...grads.values()]);
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

  /**
   * The PPO loss of rollouts `idx` of `batch`, with every token mean taken over `tokens` (the whole
   * mini-batch's), so that the slices of a mini-batch add up to its loss. Pushes the slice's shares
   * of policy loss, value loss, entropy, clipped fraction and approximate KL onto `stats`.
   */
  private sliceLoss(
    batch: Batch,
    idx: number[],
    tokens: number,
    model: PpoModel,
    head: ValueHead,
    stats: number[][],
  ): TF.Scalar {
    const c = this.config;
    return tf.tidy(() => {
      const pick = <T>(rows: T[]) => idx.map((i) => rows[i] as T);
      const responses = pick(batch.responses);
      const width = Math.max(...responses.map((r) => r.length));
      const pad = (rows: number[][]) =>
        tf.tensor2d(
          rows.map((r) => [...r, ...Array(width - r.length).fill(0)]),
          [rows.length, width],
        );
      const mask = pad(responses.map((r) => r.map(() => 1)));
      const old = pad(pick(batch.old));
      const adv = pad(pick(batch.advantages));
      const ret = pad(pick(batch.returns));
      const oldValues = pad(pick(batch.values));
      const out = teacherForced(model, pick(batch.inputs), responses, c.temperature, true);
      const masked = (x: TF.Tensor) => tf.div(tf.sum(tf.mul(x, mask)), tokens) as TF.Scalar;
      const logRatio = tf.sub(out.logprobs, old);
      const ratio = tf.exp(logRatio);
      const surrogate = tf.maximum(
        tf.mul(tf.neg(adv), ratio),
        tf.mul(tf.neg(adv), tf.clipByValue(ratio, 1 - c.clipRange, 1 + c.clipRange)),
      );
      const policyLoss = masked(surrogate);
      const values = head.apply(out.hidden);
      const clipped = tf.add(
        oldValues,
        tf.clipByValue(tf.sub(values, oldValues), -c.clipRangeValue, c.clipRangeValue),
      );
      const valueLoss = tf.mul(
        masked(tf.maximum(tf.square(tf.sub(values, ret)), tf.square(tf.sub(clipped, ret)))),
        0.5,
      );
      const logSoftmax = out.logSoftmax as TF.Tensor3D;
      const entropy = masked(tf.neg(tf.sum(tf.mul(tf.exp(logSoftmax), logSoftmax), -1)));
      const clippedTokens = masked(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), c.clipRange), "float32"));
      const approxKl = tf.mul(masked(tf.square(logRatio)), 0.5);
      stats.push(
        [policyLoss, valueLoss, entropy, clippedTokens, approxKl].map((t) => t.dataSync()[0] as number),
      );
      return tf.sub(
        tf.add(policyLoss, tf.mul(valueLoss, c.vfCoef)),
        tf.mul(entropy, c.entropyCoef),
      ) as TF.Scalar;
    });
  }
}

type PpoModel = Parameters<typeof teacherForced>[0];

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
