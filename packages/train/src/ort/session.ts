import { availableParallelism } from "node:os";
import { type T5Config, t5RelativePositionBucket } from "@lmcot/model-writer";
import type * as Ort from "onnxruntime-node";
import { PAD_ID } from "../tokenizer";
import { buildT5Graph, type SiteDims, type T5GraphOptions } from "./t5-graph";

type OrtModule = typeof Ort;
let loading: Promise<OrtModule> | undefined;

/** onnxruntime-node, an optional peer dependency loaded on first use. */
export function loadOnnxRuntime(): Promise<OrtModule> {
  loading ??= import("onnxruntime-node").then(
    (m) => ((m as { default?: OrtModule }).default ?? m) as OrtModule,
    (error: unknown) => {
      loading = undefined;
      throw new Error(
        `the onnxruntime engine needs onnxruntime-node: npm install onnxruntime-node (${(error as Error).message})`,
      );
    },
  );
  return loading;
}

export interface T5RunInput {
  inputs: readonly (readonly number[])[];
  targets: readonly (readonly number[])[];
  /** Divides the logits (PPO scores rollouts under the distribution they were sampled from). */
  temperature?: number;
  /** Gradient of the objective w.r.t. each target token's log-prob, [B·T] (needs `backward`). */
  gradLogprobs?: Float32Array;
  gradEntropy?: Float32Array;
  gradValues?: Float32Array;
  /** Dropout masks drawn from this seed (needs a graph built with `dropout`). */
  dropoutSeed?: number;
  /** Buffers (parameter name → Float32Array of its size) the gradients are written into, reused from run to run. */
  gradsInto?: Map<string, Float32Array>;
  /** Earlier micro-batches' gradients (needs `accumulate`). */
  acc?: Map<string, Float32Array>;
  /** One AdamW step in the graph (needs `adamw`): the weights and moments fed are updated in place. */
  adamw?: AdamwFeeds;
}

export interface AdamwFeeds {
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − β1^t and 1 − β2^t at this step t. */
  bias1: number;
  bias2: number;
  /** 1 − lr · weight decay. */
  decay: number;
  maxGradNorm: number;
}

export interface T5RunOutput {
  /** [B·T], row-major, 0 past each target's end. */
  logprobs: Float32Array;
  /** 1 at target tokens, 0 at padding, [B·T]. */
  mask: Float32Array;
  entropy?: Float32Array;
  values?: Float32Array;
  grads?: Map<string, Float32Array>;
  /** With `adamw`: the global gradient norm before clipping. */
  gradNorm?: number;
  batch: number;
  targetLength: number;
}

const MASKED = -1e9;

/** Session options for every engine graph. */
export function sessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    // Shapes change from batch to batch: an arena would keep the largest step's buffers forever.
    enableCpuMemArena: false,
    enableMemPattern: false,
  };
}

/** Token ids right-padded to [B, len] as int64. */
function padded(rows: readonly (readonly number[])[], len: number): BigInt64Array {
  const out = new BigInt64Array(rows.length * len).fill(BigInt(PAD_ID));
  rows.forEach((row, i) => {
    for (let j = 0; j < row.length; j++) out[i * len + j] = BigInt(row[j] as number);
  });
  return out;
}

/** The encoder's inputs: `input_ids`, `encoder_bias` (0 at tokens, −1e9 at padding) and `encoder_buckets`. */
export function encoderFeeds(
  ort: OrtModule,
  c: T5Config,
  inputs: readonly (readonly number[])[],
): { feeds: Record<string, Ort.Tensor>; length: number } {
  const b = inputs.length;
  const s = Math.max(1, ...inputs.map((x) => x.length));
  const bias = new Float32Array(b * s).fill(MASKED);
  inputs.forEach((row, i) => {
    bias.fill(0, i * s, i * s + row.length);
  });
  return {
    length: s,
    feeds: {
      input_ids: new ort.Tensor("int64", padded(inputs, s), [b, s]),
      encoder_bias: new ort.Tensor("float32", bias, [b, 1, 1, s]),
      encoder_buckets: new ort.Tensor("int64", buckets(c, s, s, true), [s, s]),
    },
  };
}

/**
 * A T5 forward (and backward) pass on onnxruntime: weights stay in JS Float32Arrays and are fed
 * per run; the graph is `buildT5Graph`'s. onnxruntime's kernels use every core.
 */
export class OrtT5 {
  private constructor(
    readonly config: T5Config,
    readonly options: T5GraphOptions,
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly params: Map<string, number[]>,
    private readonly sites: SiteDims[],
  ) {}

  static async create(
    config: T5Config,
    options: T5GraphOptions,
    threads = availableParallelism(),
  ): Promise<OrtT5> {
    const ort = await loadOnnxRuntime();
    const graph = buildT5Graph(config, options);
    const session = await ort.InferenceSession.create(graph.bytes, sessionOptions(threads));
    return new OrtT5(config, options, ort, session, graph.params, graph.dropoutSites);
  }

  async run(weights: Map<string, Float32Array>, input: T5RunInput): Promise<T5RunOutput> {
    const { ort, config: c } = this;
    const b = input.inputs.length;
    const encoder = encoderFeeds(ort, c, input.inputs);
    const t = Math.max(1, ...input.targets.map((x) => x.length));
    const mask = new Float32Array(b * t);
    input.targets.forEach((row, i) => {
      mask.fill(1, i * t, i * t + row.length);
    });
    const causal = new Float32Array(t * t);
    for (let i = 0; i < t; i++) causal.fill(MASKED, i * t + i + 1, (i + 1) * t);
    const tensor = (
      type: "float32" | "int64" | "bool",
      data: Float32Array | BigInt64Array | Uint8Array,
      dims: number[],
    ) => new ort.Tensor(type, data, dims);
    const feeds: Record<string, Ort.Tensor> = {
      ...encoder.feeds,
      decoder_input_ids: tensor(
        "int64",
        padded(
          input.targets.map((x) => [PAD_ID, ...x.slice(0, -1)]),
          t,
        ),
        [b, t],
      ),
      labels: tensor("int64", padded(input.targets, t), [b, t, 1]),
      causal_bias: tensor("float32", causal, [1, 1, t, t]),
      decoder_buckets: tensor("int64", buckets(c, t, t, false), [t, t]),
      inverse_temperature: tensor("float32", Float32Array.of(1 / (input.temperature ?? 1)), [1]),
    };
    for (const [name, dims] of this.params) {
      const w = weights.get(name);
      if (w === undefined) throw new Error(`onnxruntime T5: no weights for ${name}`);
      feeds[name] = tensor("float32", w, dims);
    }
    if (this.options.backward) {
      const zeros = new Float32Array(b * t);
      feeds.grad_logprobs = tensor("float32", input.gradLogprobs ?? zeros, [b, t]);
      if (this.options.entropy) feeds.grad_entropy = tensor("float32", input.gradEntropy ?? zeros, [b, t]);
      if (this.options.valueHead) feeds.grad_values = tensor("float32", input.gradValues ?? zeros, [b, t]);
    }
    const fetches: Record<string, Ort.Tensor | null> = { logprobs: null };
    if (this.options.entropy) fetches.entropy = null;
    if (this.options.valueHead) fetches.values = null;
    const fed = (
      prefix: string,
      from: Map<string, Float32Array> | undefined,
      name: string,
      dims: number[],
    ) => {
      const data = from?.get(name);
      if (data === undefined) throw new Error(`onnxruntime T5: no ${prefix}${name}`);
      return tensor("float32", data, dims);
    };
    if (this.options.accumulate)
      for (const [name, dims] of this.params) feeds[`acc.${name}`] = fed("acc.", input.acc, name, dims);
    const adam = input.adamw;
    if (this.options.adamw) {
      if (adam === undefined) throw new Error("onnxruntime T5: this graph updates the weights; pass adamw");
      for (const [k, v] of Object.entries({
        lr: adam.lr,
        beta1: adam.beta1,
        beta2: adam.beta2,
        epsilon: adam.epsilon,
        bias1: adam.bias1,
        bias2: adam.bias2,
        decay: adam.decay,
        max_grad_norm: adam.maxGradNorm,
      }))
        feeds[k] = tensor("float32", Float32Array.of(v), [1]);
      fetches.grad_norm = null;
      for (const [name, dims] of this.params) {
        feeds[`m.${name}`] = fed("m.", adam.m, name, dims);
        feeds[`v.${name}`] = fed("v.", adam.v, name, dims);
        // written over what was fed: see adamwUpdate
        fetches[`updated.${name}`] = fed("", weights, name, dims);
        fetches[`m_out.${name}`] = fed("m.", adam.m, name, dims);
        fetches[`v_out.${name}`] = fed("v.", adam.v, name, dims);
      }
    } else if (this.options.backward)
      for (const [name, dims] of this.params) {
        const into = input.gradsInto?.get(name);
        fetches[`grad.${name}`] = into === undefined ? null : tensor("float32", into, dims);
      }
    if (this.sites.length > 0) {
      const sizes = { B: b, S: encoder.length, T: t, H: c.num_heads, D: c.d_model, F: c.d_ff };
      const random = keepMasks(input.dropoutSeed ?? 0, c.dropout_rate);
      this.sites.forEach((site, i) => {
        const dims = site.map((d) => (typeof d === "number" ? d : sizes[d]));
        feeds[`dropout_${i}`] = tensor("bool", random(dims.reduce((x, y) => x * y, 1)), dims);
      });
    }
    const out = await this.session.run(feeds, fetches);
    const data = (name: string) => out[name]?.data as Float32Array;
    const result: T5RunOutput = { logprobs: data("logprobs"), mask, batch: b, targetLength: t };
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) result.logprobs[i] = 0;
    if (this.options.entropy) result.entropy = data("entropy");
    if (this.options.valueHead) result.values = data("values");
    if (this.options.adamw) result.gradNorm = data("grad_norm")[0];
    else if (this.options.backward) {
      result.grads = new Map();
      for (const name of this.params.keys())
        result.grads.set(name, input.gradsInto?.get(name) ?? data(`grad.${name}`));
    }
    for (const v of Object.values(out)) (v as { dispose?: () => void }).dispose?.();
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Relative position buckets [rows, cols] (int64): queries at positions `offset`…`offset + rows − 1`
 * against keys 0…cols − 1, as HF's T5 buckets them.
 */
export function buckets(
  c: T5Config,
  rows: number,
  cols: number,
  bidirectional: boolean,
  offset = 0,
): BigInt64Array {
  const out = new BigInt64Array(rows * cols);
  const { relative_attention_num_buckets: num, relative_attention_max_distance: max } = c;
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      out[i * cols + j] = BigInt(t5RelativePositionBucket(j - i - offset, bidirectional, num, max));
  return out;
}

/** Keep masks (1 = keep) at `rate` from a seed: xorshift32, 16 bits of randomness per element. */
function keepMasks(seed: number, rate: number): (size: number) => Uint8Array {
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const threshold = Math.round(rate * 65536);
  return (size) => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i += 2) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = (x & 0xffff) >= threshold ? 1 : 0;
      if (i + 1 < size) out[i + 1] = x >>> 16 >= threshold ? 1 : 0;
    }
    return out;
  };
}
