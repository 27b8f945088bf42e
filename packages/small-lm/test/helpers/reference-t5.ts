// A direct, loop-based transcription of HF T5's forward pass (v1.0 relu and v1.1 gated-gelu) (modeling_t5.py), used to check that
// the ONNX graphs compute the same function. Slow and simple on purpose.
import {
  isGatedT5,
  resolveT5Config,
  type T5ConfigInput,
  type T5Weights,
  t5RelativePositionBucket,
} from "@lmcot/model-writer";

type Matrix = Float64Array[]; // rows

function w(weights: T5Weights, name: string) {
  const t = weights.get(name);
  if (!t) throw new Error(`missing ${name}`);
  return t;
}

/** y = x W^T for a HF Linear weight [out, in]. */
function linear(x: Matrix, weights: T5Weights, name: string): Matrix {
  const t = w(weights, name);
  const [out = 0, inn = 0] = t.shape;
  return x.map((row) => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let i = 0; i < inn; i++) s += (row[i] as number) * (t.data[o * inn + i] as number);
      y[o] = s;
    }
    return y;
  });
}

function rmsNorm(x: Matrix, weights: T5Weights, name: string, eps: number): Matrix {
  const g = w(weights, name).data;
  return x.map((row) => {
    let ms = 0;
    for (const v of row) ms += v * v;
    ms /= row.length;
    const inv = 1 / Math.sqrt(ms + eps);
    return row.map((v, i) => v * inv * (g[i] as number));
  });
}

function add(a: Matrix, b: Matrix): Matrix {
  return a.map((row, r) => row.map((v, i) => v + ((b[r] as Float64Array)[i] as number)));
}

/** Multi-head attention without scaling; `bias(h, q, k)` is added to the scores (−Infinity masks). */
function attention(
  xq: Matrix,
  xkv: Matrix,
  weights: T5Weights,
  prefix: string,
  heads: number,
  dkv: number,
  bias: (h: number, q: number, k: number) => number,
): Matrix {
  const q = linear(xq, weights, `${prefix}.q.weight`);
  const k = linear(xkv, weights, `${prefix}.k.weight`);
  const v = linear(xkv, weights, `${prefix}.v.weight`);
  const ctx: Matrix = xq.map(() => new Float64Array(heads * dkv));
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < xq.length; i++) {
      const scores = k.map((krow, j) => {
        let s = 0;
        for (let d = 0; d < dkv; d++)
          s += ((q[i] as Float64Array)[h * dkv + d] as number) * (krow[h * dkv + d] as number);
        return s + bias(h, i, j);
      });
      const max = Math.max(...scores);
      const e = scores.map((s) => (s === Number.NEGATIVE_INFINITY ? 0 : Math.exp(s - max)));
      const z = e.reduce((a, b) => a + b, 0);
      const out = ctx[i] as Float64Array;
      for (let j = 0; j < k.length; j++) {
        const vj = v[j] as Float64Array;
        for (let d = 0; d < dkv; d++)
          out[h * dkv + d] =
            (out[h * dkv + d] as number) + ((e[j] as number) / z) * (vj[h * dkv + d] as number);
      }
    }
  }
  return linear(ctx, weights, `${prefix}.o.weight`);
}

/** HF `gelu_new` (NewGELUActivation), the tanh approximation. */
const geluNew = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

/** T5DenseActDense (relu) or, for gated-gelu, T5DenseGatedActDense: gelu_new(wi_0 x) * wi_1 x. */
function ff(x: Matrix, weights: T5Weights, prefix: string, gated: boolean): Matrix {
  const p = `${prefix}.DenseReluDense`;
  const h = gated
    ? linear(x, weights, `${p}.wi_0.weight`).map((r, i) => {
        const up = linear([x[i] as Float64Array], weights, `${p}.wi_1.weight`)[0] as Float64Array;
        return r.map((v, j) => geluNew(v) * (up[j] as number));
      })
    : linear(x, weights, `${p}.wi.weight`).map((r) => r.map((v) => Math.max(0, v)));
  return linear(h, weights, `${p}.wo.weight`);
}

function embed(ids: number[], weights: T5Weights, d: number): Matrix {
  const e = w(weights, "shared.weight").data;
  return ids.map((id) => Float64Array.from(e.subarray(id * d, (id + 1) * d)));
}

/** Encoder last_hidden_state for one unpadded sequence. */
export function referenceEncoder(config: T5ConfigInput, weights: T5Weights, ids: number[]): Matrix {
  const c = resolveT5Config(config);
  const relW = w(weights, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight").data;
  const bias = (h: number, q: number, k: number) =>
    relW[
      t5RelativePositionBucket(
        k - q,
        true,
        c.relative_attention_num_buckets,
        c.relative_attention_max_distance,
      ) *
        c.num_heads +
        h
    ] as number;
  let x = embed(ids, weights, c.d_model);
  for (let l = 0; l < c.num_layers; l++) {
    const b = `encoder.block.${l}`;
    const n = rmsNorm(x, weights, `${b}.layer.0.layer_norm.weight`, c.layer_norm_epsilon);
    x = add(x, attention(n, n, weights, `${b}.layer.0.SelfAttention`, c.num_heads, c.d_kv, bias));
    x = add(
      x,
      ff(
        rmsNorm(x, weights, `${b}.layer.1.layer_norm.weight`, c.layer_norm_epsilon),
        weights,
        `${b}.layer.1`,
        isGatedT5(c),
      ),
    );
  }
  return rmsNorm(x, weights, "encoder.final_layer_norm.weight", c.layer_norm_epsilon);
}

/** Decoder logits [T, V] for decoder input ids given the encoder output of one unpadded sequence. */
export function referenceDecoder(
  config: T5ConfigInput,
  weights: T5Weights,
  encoded: Matrix,
  ids: number[],
): Matrix {
  const c = resolveT5Config(config);
  const relW = w(weights, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight").data;
  const selfBias = (h: number, q: number, k: number) =>
    k > q
      ? Number.NEGATIVE_INFINITY
      : (relW[
          t5RelativePositionBucket(
            k - q,
            false,
            c.relative_attention_num_buckets,
            c.relative_attention_max_distance,
          ) *
            c.num_heads +
            h
        ] as number);
  let x = embed(ids, weights, c.d_model);
  for (let l = 0; l < c.num_decoder_layers; l++) {
    const b = `decoder.block.${l}`;
    let n = rmsNorm(x, weights, `${b}.layer.0.layer_norm.weight`, c.layer_norm_epsilon);
    x = add(x, attention(n, n, weights, `${b}.layer.0.SelfAttention`, c.num_heads, c.d_kv, selfBias));
    n = rmsNorm(x, weights, `${b}.layer.1.layer_norm.weight`, c.layer_norm_epsilon);
    x = add(
      x,
      attention(n, encoded, weights, `${b}.layer.1.EncDecAttention`, c.num_heads, c.d_kv, () => 0),
    );
    x = add(
      x,
      ff(
        rmsNorm(x, weights, `${b}.layer.2.layer_norm.weight`, c.layer_norm_epsilon),
        weights,
        `${b}.layer.2`,
        isGatedT5(c),
      ),
    );
  }
  let out = rmsNorm(x, weights, "decoder.final_layer_norm.weight", c.layer_norm_epsilon);
  if (c.tie_word_embeddings) out = out.map((r) => r.map((v) => v * c.d_model ** -0.5));
  return linear(out, weights, c.tie_word_embeddings ? "shared.weight" : "lm_head.weight");
}
