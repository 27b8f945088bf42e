import {
  isGatedT5,
  randomT5Weights,
  type T5Weights,
  t5ParameterShapes,
  t5RelativePositionBucket,
} from "@lmcot/model-writer";
import { type TF, tf } from "../backend";
import { bmm, checkpoint, gatherRows, geluNew, linear, rmsNorm } from "../ops";
import type { T5Config } from "./config";

/** Added to masked attention scores; exp() of it is 0 in float32, as with HF's float32 minimum. */
const MASKED = -1e9;

/** A padded batch of token ids with its attention mask (1 = token, 0 = padding). */
export interface TokenBatch {
  ids: TF.Tensor2D;
  mask: TF.Tensor2D;
}

/**
 * HF T5 v1.0 (relu feed-forward, tied embeddings with the d_model^-0.5 output scale) and v1.1 /
 * FLAN-T5 (gated-GELU feed-forward, untied `lm_head`): RMSNorm, relative position bias in block 0
 * shared by all layers, unscaled dot-product attention, dropout where HF's `modeling_t5.py` has it;
 * on tfjs variables named exactly as HF's parameters, so the weights save and export as-is.
 */
export class T5Model {
  readonly params: Map<string, TF.Variable>;
  /** Gradient checkpointing: each block's activations are recomputed in the backward pass. */
  recompute = false;
  /** The checkpoint's config.json and generation_config.json as read, written back when the model is saved. */
  source?: { rawConfig: Record<string, unknown>; generationConfig?: Record<string, unknown> };
  private readonly buckets = new Map<string, TF.Tensor1D>();
  /** Set while `withDropout` runs: the seed of the next dropout mask, and the rate. */
  private dropoutSeed: number | undefined;
  private dropoutRate = 0;

  constructor(
    readonly config: T5Config,
    weights: T5Weights,
    trainable = true,
  ) {
    this.params = new Map();
    for (const [name, shape] of t5ParameterShapes(config)) {
      const w = weights.get(name);
      if (w === undefined) throw new Error(`T5 weights: missing ${name}`);
      if (w.shape.join(",") !== shape.join(","))
        throw new Error(`T5 weights: ${name} has shape [${w.shape}] but the config needs [${shape}]`);
      // tf.variable shares its initial tensor's data; the tidy drops that tensor, or it would keep
      // the first weights alive after the optimizer replaces them (one more copy of the model).
      const id = nextId++;
      this.params.set(
        name,
        tf.tidy(() => tf.variable(tf.tensor(w.data, shape), trainable, `${name}#${id}`)),
      );
    }
  }

  /** A model with HF's initialisation, reproducible from the seed. */
  static random(config: T5Config, seed: number): T5Model {
    return new T5Model(config, randomT5Weights(config, seed));
  }

  p(name: string): TF.Variable {
    const v = this.params.get(name);
    if (v === undefined) throw new Error(`T5 model has no parameter ${name}`);
    return v;
  }

  variables(): TF.Variable[] {
    return [...this.params.values()];
  }

  /** A copy of the weights as HF-named float32 arrays. */
  weights(): T5Weights {
    const out: T5Weights = new Map();
    for (const [name, v] of this.params)
      out.set(name, { data: v.dataSync() as Float32Array, shape: [...v.shape] });
    return out;
  }

  /** Copies another model's weights into this one (same config). */
  assign(from: T5Model): void {
    for (const [name, v] of this.params) v.assign(from.p(name));
  }

  dispose(): void {
    tf.dispose(this.variables());
    tf.dispose([...this.buckets.values()]);
    this.buckets.clear();
  }

  /**
   * Runs `fn` in training mode: dropout at `rate` (default `config.dropout_rate`), masks drawn from
   * `seed` (one per dropout site and call, so the same seed gives the same masks). Outside it the
   * model evaluates without dropout (evaluation, generation, PPO).
   */
  withDropout<T>(seed: number, fn: () => T, rate = this.config.dropout_rate): T {
    this.dropoutSeed = seed >>> 0;
    this.dropoutRate = rate;
    try {
      return fn();
    } finally {
      this.dropoutSeed = undefined;
    }
  }

  private dropout<T extends TF.Tensor>(x: T): T {
    const rate = this.dropoutRate;
    if (this.dropoutSeed === undefined || rate === 0) return x;
    const seed = this.dropoutSeed;
    this.dropoutSeed = (Math.imul(seed, 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return tf.dropout(x, rate, undefined, seed) as T;
  }

  /** Encoder hidden states [B, S, d_model]. */
  encode(input: TokenBatch): TF.Tensor3D {
    return tf.tidy(() => {
      const c = this.config;
      const [, s] = input.ids.shape;
      let h = this.dropout(gatherRows(this.p("shared.weight"), input.ids) as TF.Tensor3D);
      const bias = tf.add(this.positionBias("encoder", s, s, true), paddingBias(input.mask));
      for (let i = 0; i < c.num_layers; i++)
        h = this.block(`encoder.block.${i}.`, [h, bias], (x, b) => this.encoderBlock(i, x, b));
      return this.dropout(
        rmsNorm(h, this.p("encoder.final_layer_norm.weight"), c.layer_norm_epsilon) as TF.Tensor3D,
      );
    });
  }

  /**
   * Decoder over full (teacher-forced) sequences: the final hidden states [B, T, d_model] (what a
   * value head reads) and the logits [B, T, vocab].
   */
  decode(
    decoderIds: TF.Tensor2D,
    encoded: TF.Tensor3D,
    encoderMask: TF.Tensor2D,
  ): { hidden: TF.Tensor3D; logits: TF.Tensor3D } {
    return tf.tidy(() => {
      const c = this.config;
      const [, t] = decoderIds.shape;
      let h = this.dropout(gatherRows(this.p("shared.weight"), decoderIds) as TF.Tensor3D);
      const selfBias = tf.add(this.positionBias("decoder", t, t, false), causalBias(t));
      const crossBias = paddingBias(encoderMask);
      for (let i = 0; i < c.num_decoder_layers; i++)
        h = this.block(`decoder.block.${i}.`, [h, selfBias, encoded, crossBias], (x, sb, e, cb) =>
          this.decoderBlock(i, x, sb, e, cb),
        ) as TF.Tensor3D;
      const hidden = this.dropout(
        rmsNorm(h, this.p("decoder.final_layer_norm.weight"), c.layer_norm_epsilon) as TF.Tensor3D,
      );
      const head = c.tie_word_embeddings ? this.p("shared.weight") : this.p("lm_head.weight");
      const scaled = c.tie_word_embeddings ? tf.mul(hidden, c.d_model ** -0.5) : hidden;
      const logits = linear(scaled, head) as TF.Tensor3D;
      return { hidden, logits };
    });
  }

  /** One block, checkpointed when `recompute` is set; `inputs` are every tensor `fn` reads besides weights. */
  private block(prefix: string, inputs: TF.Tensor[], fn: (...inputs: TF.Tensor[]) => TF.Tensor): TF.Tensor3D {
    if (!this.recompute) return fn(...inputs) as TF.Tensor3D;
    const params = [...this.params].filter(([name]) => name.startsWith(prefix)).map(([, v]) => v);
    // The backward pass recomputes the block: it must draw the forward pass's dropout masks again.
    const seed = this.dropoutSeed;
    let forward = true;
    const replay = (...xs: TF.Tensor[]) => {
      if (forward) {
        forward = false;
        return fn(...xs);
      }
      const outer = this.dropoutSeed;
      this.dropoutSeed = seed;
      try {
        return fn(...xs);
      } finally {
        this.dropoutSeed = outer;
      }
    };
    return checkpoint(replay, inputs, params) as TF.Tensor3D;
  }

  private encoderBlock(i: number, h: TF.Tensor, bias: TF.Tensor): TF.Tensor {
    const block = `encoder.block.${i}.layer`;
    const n = rmsNorm(h, this.p(`${block}.0.layer_norm.weight`), this.config.layer_norm_epsilon);
    const a = tf.add(h, this.dropout(this.attend(n, n, `${block}.0.SelfAttention`, bias)));
    return tf.add(a, this.dropout(this.feedForward(a, `${block}.1`)));
  }

  private decoderBlock(
    i: number,
    h: TF.Tensor,
    selfBias: TF.Tensor,
    encoded: TF.Tensor,
    crossBias: TF.Tensor,
  ): TF.Tensor {
    const block = `decoder.block.${i}.layer`;
    const eps = this.config.layer_norm_epsilon;
    const n = rmsNorm(h, this.p(`${block}.0.layer_norm.weight`), eps);
    const a = tf.add(h, this.dropout(this.attend(n, n, `${block}.0.SelfAttention`, selfBias)));
    const m = rmsNorm(a, this.p(`${block}.1.layer_norm.weight`), eps);
    const b = tf.add(a, this.dropout(this.attend(m, encoded, `${block}.1.EncDecAttention`, crossBias)));
    return tf.add(b, this.dropout(this.feedForward(b, `${block}.2`)));
  }

  /**
   * The feed-forward sub-layer (with its norm) of `layer`, e.g. `decoder.block.0.layer.2`. v1.0:
   * wo(relu(wi x)); v1.1 / FLAN-T5: wo(gelu_new(wi_0 x) · wi_1 x); dropout before wo.
   */
  feedForward(h: TF.Tensor, layer: string): TF.Tensor {
    const n = rmsNorm(h, this.p(`${layer}.layer_norm.weight`), this.config.layer_norm_epsilon);
    const ff = `${layer}.DenseReluDense`;
    const inner = isGatedT5(this.config)
      ? tf.mul(geluNew(linear(n, this.p(`${ff}.wi_0.weight`))), linear(n, this.p(`${ff}.wi_1.weight`)))
      : tf.relu(linear(n, this.p(`${ff}.wi.weight`)));
    return linear(this.dropout(inner), this.p(`${ff}.wo.weight`));
  }

  /** Multi-head attention without the 1/sqrt(d_kv) scale (T5 folds it into the initialisation). */
  private attend(xq: TF.Tensor, xkv: TF.Tensor, prefix: string, bias: TF.Tensor): TF.Tensor {
    const { num_heads: heads, d_kv: dk } = this.config;
    const [b, tq] = xq.shape as [number, number, number];
    const tk = xkv.shape[1] as number;
    const q = tf.transpose(
      tf.reshape(linear(xq, this.p(`${prefix}.q.weight`)), [b, tq, heads, dk]),
      [0, 2, 1, 3],
    );
    const kT = tf.transpose(
      tf.reshape(linear(xkv, this.p(`${prefix}.k.weight`)), [b, tk, heads, dk]),
      [0, 2, 3, 1],
    );
    const v = tf.transpose(
      tf.reshape(linear(xkv, this.p(`${prefix}.v.weight`)), [b, tk, heads, dk]),
      [0, 2, 1, 3],
    );
    const scores = tf.add(
      tf.reshape(
        bmm(
          tf.reshape(q, [b * heads, tq, dk]) as TF.Tensor3D,
          tf.reshape(kT, [b * heads, dk, tk]) as TF.Tensor3D,
        ),
        [b, heads, tq, tk],
      ),
      bias,
    );
    const weights = tf.reshape(this.dropout(tf.softmax(scores)), [b * heads, tq, tk]) as TF.Tensor3D;
    const context = tf.reshape(
      tf.transpose(
        tf.reshape(bmm(weights, tf.reshape(v, [b * heads, tk, dk]) as TF.Tensor3D), [b, heads, tq, dk]),
        [0, 2, 1, 3],
      ),
      [b, tq, heads * dk],
    );
    return linear(context, this.p(`${prefix}.o.weight`));
  }

  /**
   * [1, heads, q, k] bias from block 0's `relative_attention_bias`, bucketed as HF does; the queries
   * sit at positions `offset`…`offset + q - 1` (a KV-cached decoding step has one, at its position).
   */
  positionBias(
    stack: "encoder" | "decoder",
    q: number,
    k: number,
    bidirectional: boolean,
    offset = 0,
  ): TF.Tensor {
    const key = `${stack}:${q}:${k}:${offset}`;
    let index = this.buckets.get(key);
    if (index === undefined) {
      const { relative_attention_num_buckets: n, relative_attention_max_distance: d } = this.config;
      const data = new Int32Array(q * k);
      for (let i = 0; i < q; i++)
        for (let j = 0; j < k; j++)
          data[i * k + j] = t5RelativePositionBucket(j - i - offset, bidirectional, n, d);
      index = tf.keep(tf.tensor1d(data, "int32"));
      this.buckets.set(key, index);
    }
    const table = this.p(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`);
    return tf.expandDims(
      tf.transpose(tf.reshape(gatherRows(table, index), [q, k, this.config.num_heads]), [2, 0, 1]),
      0,
    );
  }
}

let nextId = 0;

/** [B, 1, 1, S]: 0 where mask is 1, MASKED where it is 0. */
export function paddingBias(mask: TF.Tensor2D): TF.Tensor {
  const [b, s] = mask.shape;
  return tf.reshape(tf.mul(tf.sub(tf.scalar(1), tf.cast(mask, "float32")), MASKED), [b, 1, 1, s]);
}

/** [1, 1, T, T]: MASKED above the diagonal. */
function causalBias(t: number): TF.Tensor {
  const lower = tf.linalg.bandPart(tf.ones([t, t]), -1, 0);
  return tf.reshape(tf.mul(tf.sub(tf.scalar(1), lower), MASKED), [1, 1, t, t]);
}
