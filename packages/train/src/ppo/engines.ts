import type { WeightTensor } from "@lmcot/model-writer";
import { type TF, tf, useWasmBackend } from "../backend";
import type { Engine } from "../kd/engines";
import { AdamW, accumulatedValueAndGrads, type OptimizerState } from "../optim";
import { HostAdamW } from "../ort/adamw";
import { OrtDecoder } from "../ort/decoder";
import { loadOnnxRuntime, OrtT5, type T5RunInput } from "../ort/session";
import { VALUE_HEAD_SHAPES } from "../ort/t5-graph";
import type { T5Folder } from "../t5/folder";
import { teacherForced } from "../t5/forward";
import { type Decoded, type DecodeOptions, decode } from "../t5/generate";
import { HostT5, type SavableT5 } from "../t5/host";
import { T5Model } from "../t5/model";
import type { PpoConfig } from "./config";
import { ppoSlice } from "./ort-loss";
import { ValueHead } from "./value-head";

/** The rollouts of one PPO step with what the update reads of them. */
export interface PpoBatch {
  inputs: number[][];
  responses: number[][];
  old: number[][];
  values: number[][];
  advantages: number[][];
  returns: number[][];
}

/** Policy, frozen reference and value head, and the maths of a PPO step, on one engine. */
export interface PpoEngine {
  readonly name: Engine;
  readonly model: SavableT5;
  readonly optimizer: OptimizerState;
  /** Samples from the current policy with a KV cache (`decode`'s sampling). */
  rollouts(inputs: number[][], options: DecodeOptions): Promise<Decoded[]>;
  /** Per response token: the policy's log-probs and values, the reference's log-probs (cut to each response). */
  score(
    inputs: number[][],
    responses: number[][],
  ): Promise<{ old: number[][]; ref: number[][]; values: number[][] }>;
  /**
   * One optimizer step on mini-batch `slices` (whose response tokens sum to `tokens`) at `lr`;
   * returns each slice's [policy loss, value loss, entropy, clipped fraction, approx KL] shares.
   */
  update(batch: PpoBatch, slices: number[][], tokens: number, lr: number): Promise<number[][]>;
  headWeights(): Map<string, WeightTensor>;
  dispose(): Promise<void>;
}

export interface PpoEngineOptions {
  /** The starting policy (also the KL reference). */
  source: T5Folder;
  /** A checkpoint to resume: its policy and value head. */
  checkpoint?: { policy: T5Folder; head: Map<string, WeightTensor> };
  config: PpoConfig;
}

export async function createPpoEngine(engine: Engine, o: PpoEngineOptions): Promise<PpoEngine> {
  return engine === "onnxruntime" ? OrtPpoEngine.create(o) : TfjsPpoEngine.create(o);
}

const cut = (rows: ArrayLike<number>[] | number[][], responses: number[][]) =>
  responses.map((r, b) => Array.from(rows[b] as ArrayLike<number>).slice(0, r.length));

/** Row b of a [B, T] array. */
const rowsOf = (data: Float32Array, b: number, width: number) =>
  Array.from({ length: b }, (_, i) => data.subarray(i * width, (i + 1) * width));

class OrtPpoEngine implements PpoEngine {
  readonly name = "onnxruntime";
  private readonly sessions = new Map<string, Promise<OrtT5>>();
  private acc?: Map<string, Float32Array>;
  private decoder?: Promise<OrtDecoder>;

  private constructor(
    readonly model: HostT5,
    private readonly ref: HostT5,
    /** Policy and value-head weights: what the training graph reads and AdamW updates. */
    private readonly trained: Map<string, Float32Array>,
    readonly optimizer: HostAdamW,
    private readonly c: PpoConfig,
  ) {}

  static async create(o: PpoEngineOptions): Promise<OrtPpoEngine> {
    await loadOnnxRuntime();
    const start = o.checkpoint?.policy ?? o.source;
    const model = HostT5.fromFolder(start);
    if (start === o.source)
      for (const [name, w] of model.params) model.params.set(name, Float32Array.from(w));
    const ref = HostT5.fromFolder(o.source);
    const trained = new Map(model.params);
    const shapes = new Map([...model.weights()].map(([n, w]) => [n, w.shape]));
    for (const [name, shape] of VALUE_HEAD_SHAPES(model.config.d_model)) {
      const saved = o.checkpoint?.head.get(name);
      if (o.checkpoint !== undefined && saved === undefined) throw new Error(`value head: missing ${name}`);
      trained.set(
        name,
        saved ? Float32Array.from(saved.data) : new Float32Array(shape.reduce((a, b) => a * b, 1)),
      );
      shapes.set(name, shape);
    }
    return new OrtPpoEngine(model, ref, trained, new HostAdamW(o.config.optimizer, shapes), o.config);
  }

  private session(kind: "score" | "ref" | "update" | "first" | "middle" | "last"): Promise<OrtT5> {
    let s = this.sessions.get(kind);
    if (s === undefined) {
      const train = kind !== "score" && kind !== "ref";
      s = OrtT5.create(this.model.config, {
        backward: train,
        dropout: false,
        entropy: kind === "score" || (train && this.c.entropyCoef > 0),
        valueHead: kind !== "ref",
        accumulate: kind === "middle" || kind === "last",
        adamw: kind === "update" || kind === "last",
      });
      this.sessions.set(kind, s);
    }
    return s;
  }

  async rollouts(inputs: number[][], options: DecodeOptions): Promise<Decoded[]> {
    this.decoder ??= OrtDecoder.create(this.model.config);
    return (await this.decoder).decode(this.model.params, inputs, options);
  }

  async score(inputs: number[][], responses: number[][]) {
    const input = { inputs, targets: responses, temperature: this.c.temperature };
    const [p, r] = await Promise.all([this.session("score"), this.session("ref")]);
    const policy = await p.run(this.trained, input);
    const reference = await r.run(this.ref.params, input);
    const width = policy.targetLength;
    return {
      old: cut(rowsOf(policy.logprobs, inputs.length, width), responses),
      ref: cut(rowsOf(reference.logprobs, inputs.length, width), responses),
      values: cut(rowsOf(policy.values as Float32Array, inputs.length, width), responses),
    };
  }

  async update(batch: PpoBatch, slices: number[][], tokens: number, lr: number): Promise<number[][]> {
    const stats: number[][] = [];
    const pick = <T>(rows: T[], idx: number[]) => idx.map((i) => rows[i] as T);
    for (let k = 0; k < slices.length; k++) {
      const idx = slices[k] as number[];
      const last = k === slices.length - 1;
      const kind = slices.length === 1 ? "update" : k === 0 ? "first" : last ? "last" : "middle";
      const input = {
        inputs: pick(batch.inputs, idx),
        targets: pick(batch.responses, idx),
        temperature: this.c.temperature,
      };
      const now = await (await this.session("score")).run(this.trained, input);
      const slice = ppoSlice(
        {
          logprobs: now.logprobs,
          entropy: now.entropy as Float32Array,
          values: now.values as Float32Array,
          lengths: input.targets.map((r) => r.length),
          width: now.targetLength,
        },
        {
          old: pick(batch.old, idx),
          advantages: pick(batch.advantages, idx),
          returns: pick(batch.returns, idx),
          values: pick(batch.values, idx),
        },
        tokens,
        this.c,
      );
      stats.push(slice.stats);
      if (kind !== "update" && this.acc === undefined)
        this.acc = new Map([...this.trained].map(([n, w]) => [n, new Float32Array(w.length)]));
      const run: T5RunInput = {
        ...input,
        gradLogprobs: slice.gradLogprobs,
        gradValues: slice.gradValues,
        ...(this.c.entropyCoef > 0 ? { gradEntropy: slice.gradEntropy } : {}),
        ...(kind === "middle" || kind === "last" ? { acc: this.acc } : {}),
        ...(kind === "first" || kind === "middle" ? { gradsInto: this.acc } : {}),
        ...(last ? { adamw: this.optimizer.next(lr) } : {}),
      };
      await (await this.session(kind)).run(this.trained, run);
    }
    return stats;
  }

  headWeights(): Map<string, WeightTensor> {
    return new Map(
      [...VALUE_HEAD_SHAPES(this.model.config.d_model)].map(([n, shape]) => [
        n,
        { data: this.trained.get(n) as Float32Array, shape },
      ]),
    );
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
    await (await this.decoder)?.release();
  }
}

class TfjsPpoEngine implements PpoEngine {
  readonly name = "tfjs";

  private constructor(
    readonly model: T5Model,
    private readonly ref: T5Model,
    private readonly head: ValueHead,
    readonly optimizer: AdamW,
    private readonly c: PpoConfig,
  ) {}

  static async create(o: PpoEngineOptions): Promise<TfjsPpoEngine> {
    await useWasmBackend();
    const start = o.checkpoint?.policy ?? o.source;
    const model = new T5Model(start.config, start.weights);
    model.source = {
      rawConfig: start.rawConfig,
      ...(start.generationConfig ? { generationConfig: start.generationConfig } : {}),
    };
    model.recompute = o.config.gradientCheckpointing;
    const ref = new T5Model(o.source.config, o.source.weights, false);
    const head = new ValueHead(model.config.d_model, o.checkpoint?.head);
    const optimizer = new AdamW(o.config.optimizer, new Map([...model.params, ...head.params]));
    return new TfjsPpoEngine(model, ref, head, optimizer, o.config);
  }

  async rollouts(inputs: number[][], options: DecodeOptions): Promise<Decoded[]> {
    return decode(this.model, inputs, options);
  }

  async score(inputs: number[][], responses: number[][]) {
    const t = this.c.temperature;
    const [lp, refLp, v] = tf.tidy(() => {
      const p = teacherForced(this.model, inputs, responses, t);
      const r = teacherForced(this.ref, inputs, responses, t);
      return [p.logprobs.arraySync(), r.logprobs.arraySync(), this.head.apply(p.hidden).arraySync()];
    });
    return { old: cut(lp, responses), ref: cut(refLp, responses), values: cut(v, responses) };
  }

  async update(batch: PpoBatch, slices: number[][], tokens: number, lr: number): Promise<number[][]> {
    const stats: number[][] = [];
    const { grads } = accumulatedValueAndGrads(
      this.optimizer.parameters,
      slices.map((slice) => () => this.sliceLoss(batch, slice, tokens, stats)),
    );
    this.optimizer.apply(grads, lr);
    tf.dispose([...grads.values()]);
    return stats;
  }

  /**
   * The PPO loss of rollouts `idx` of `batch`, with every token mean taken over `tokens` (the whole
   * mini-batch's), so that the slices of a mini-batch add up to its loss. Pushes the slice's shares
   * of policy loss, value loss, entropy, clipped fraction and approximate KL onto `stats`.
   */
  private sliceLoss(batch: PpoBatch, idx: number[], tokens: number, stats: number[][]): TF.Scalar {
    const c = this.c;
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
      const out = teacherForced(this.model, pick(batch.inputs), responses, c.temperature, true);
      const masked = (x: TF.Tensor) => tf.div(tf.sum(tf.mul(x, mask)), tokens) as TF.Scalar;
      const logRatio = tf.sub(out.logprobs, old);
      const ratio = tf.exp(logRatio);
      const surrogate = tf.maximum(
        tf.mul(tf.neg(adv), ratio),
        tf.mul(tf.neg(adv), tf.clipByValue(ratio, 1 - c.clipRange, 1 + c.clipRange)),
      );
      const policyLoss = masked(surrogate);
      const values = this.head.apply(out.hidden);
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

  headWeights(): Map<string, WeightTensor> {
    return this.head.weights();
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
    this.head.dispose();
    this.model.dispose();
    this.ref.dispose();
  }
}
