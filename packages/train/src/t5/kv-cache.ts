import { type TF, tf } from "../backend";
import { linear, rmsNorm } from "../ops";
import { paddingBias, type T5Model } from "./model";

interface KeyValues {
  /** [B, heads, positions, d_kv] */
  k: TF.Tensor4D;
  v: TF.Tensor4D;
}

/**
 * Incremental decoding for T5: each step feeds one token per row, appends its self-attention keys
 * and values to the cache, reads the cross-attention keys and values computed once from the encoder
 * output, and computes logits for that position only. Same math as `T5Model.decode` over the whole
 * prefix (the tests hold the two to the same tokens), at one position's cost per step.
 */
export class DecoderCache {
  private self: KeyValues[] = [];
  private readonly cross: KeyValues[];
  /** [B, 1, S] */
  private readonly crossBias: TF.Tensor3D;
  /** Positions decoded so far. */
  length = 0;

  constructor(
    private readonly model: T5Model,
    encoded: TF.Tensor3D,
    encoderMask: TF.Tensor2D,
  ) {
    const c = model.config;
    this.cross = Array.from({ length: c.num_decoder_layers }, (_, i) => {
      const prefix = `decoder.block.${i}.layer.1.EncDecAttention`;
      return tf.tidy(() => ({
        k: this.heads(encoded, `${prefix}.k`),
        v: this.heads(encoded, `${prefix}.v`),
      }));
    });
    this.crossBias = tf.tidy(() => tf.squeeze(paddingBias(encoderMask), [1]) as TF.Tensor3D);
  }

  /** Logits [B, vocab] for the position after `tokens` (one id per row: the previous token). */
  step(tokens: readonly number[]): TF.Tensor2D {
    const model = this.model;
    const c = model.config;
    const t = this.length;
    const next: KeyValues[] = [];
    const logits = tf.tidy(() => {
      const ids = tf.tensor2d(tokens as number[], [tokens.length, 1], "int32");
      let h = tf.gather(model.p("shared.weight"), ids) as TF.Tensor;
      const selfBias = tf.reshape(model.positionBias("decoder", 1, t + 1, false, t), [1, c.num_heads, t + 1]);
      for (let i = 0; i < c.num_decoder_layers; i++) {
        const block = `decoder.block.${i}.layer`;
        const n = rmsNorm(h, model.p(`${block}.0.layer_norm.weight`), c.layer_norm_epsilon);
        const prefix = `${block}.0.SelfAttention`;
        const kNew = this.heads(n, `${prefix}.k`);
        const vNew = this.heads(n, `${prefix}.v`);
        const past = this.self[i];
        const kv = {
          k: tf.keep(past ? tf.concat([past.k, kNew], 2) : kNew) as TF.Tensor4D,
          v: tf.keep(past ? tf.concat([past.v, vNew], 2) : vNew) as TF.Tensor4D,
        };
        next.push(kv);
        h = tf.add(h, this.attendOne(n, prefix, kv, selfBias));
        const m = rmsNorm(h, model.p(`${block}.1.layer_norm.weight`), c.layer_norm_epsilon);
        h = tf.add(
          h,
          this.attendOne(m, `${block}.1.EncDecAttention`, this.cross[i] as KeyValues, this.crossBias),
        );
        h = tf.add(h, model.feedForward(h, `${block}.2`));
      }
      const hidden = rmsNorm(
        tf.reshape(h, [tokens.length, c.d_model]),
        model.p("decoder.final_layer_norm.weight"),
        c.layer_norm_epsilon,
      );
      const head = c.tie_word_embeddings ? model.p("shared.weight") : model.p("lm_head.weight");
      return linear(c.tie_word_embeddings ? tf.mul(hidden, c.d_model ** -0.5) : hidden, head) as TF.Tensor2D;
    });
    for (const kv of this.self) tf.dispose([kv.k, kv.v]);
    this.self = next;
    this.length = t + 1;
    return logits;
  }

  dispose(): void {
    for (const kv of [...this.self, ...this.cross]) tf.dispose([kv.k, kv.v]);
    this.self = [];
    this.crossBias.dispose();
  }

  /** `x` [B, n, d_model] projected by `<prefix>.weight` → [B, heads, n, d_kv]. */
  private heads(x: TF.Tensor, prefix: string): TF.Tensor4D {
    const { num_heads: heads, d_kv: dk } = this.model.config;
    const [b, n] = x.shape as [number, number];
    return tf.transpose(
      tf.reshape(linear(x, this.model.p(`${prefix}.weight`)), [b, n, heads, dk]),
      [0, 2, 1, 3],
    ) as TF.Tensor4D;
  }

  /** One query per row against cached keys/values; `bias` broadcasts to [B, heads, positions]. */
  private attendOne(x: TF.Tensor, prefix: string, kv: KeyValues, bias: TF.Tensor): TF.Tensor {
    const { num_heads: heads, d_kv: dk } = this.model.config;
    const b = x.shape[0] as number;
    const q = this.heads(x, `${prefix}.q`);
    const scores = tf.add(tf.sum(tf.mul(q, kv.k), -1), bias);
    const weights = tf.expandDims(tf.softmax(scores), -1);
    const context = tf.reshape(tf.sum(tf.mul(weights, kv.v), 2), [b, 1, heads * dk]);
    return linear(context, this.model.p(`${prefix}.o.weight`));
  }
}
