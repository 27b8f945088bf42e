import { isGatedT5, type T5Config, t5ParameterShapes } from "@lmcot/model-writer";
import { decays } from "../optim";
import { Tape } from "./tape";

export interface T5GraphOptions {
  /** Emit the backward pass: inputs `grad_logprobs` (+ `grad_entropy`, `grad_values`), outputs `grad.<param>`. */
  backward: boolean;
  /** Dropout at the sites of HF's `modeling_t5.py`, with keep masks fed as bool inputs `dropout_<i>`. */
  dropout: boolean;
  /** Output the entropy [B, T] of each target position's distribution. */
  entropy: boolean;
  /** TRL's value head on the decoder's final hidden states: params `v_head.summary.*`, output `values` [B, T]. */
  valueHead: boolean;
  /** Inputs `acc.<param>`: gradients of earlier micro-batches, added to this one's. */
  accumulate?: boolean;
  /**
   * Apply AdamW in the graph (see `adamwUpdate`) instead of returning the gradients: outputs
   * `updated.<param>`, `m_out.<param>`, `v_out.<param>` and `grad_norm`.
   */
  adamw?: boolean;
}

/** A dropout mask's shape in the symbolic sizes B, S (input), T (target), H, D, F. */
export type SiteDims = ("B" | "S" | "T" | "H" | "D" | "F" | 1)[];

type Dropout = (x: string, dims: SiteDims) => string;
type Len = "S" | "T" | 1;

/**
 * T5's layers on a tape, shared by the training graph and the decoding graphs: parameters by their
 * Hugging Face names (already declared on `tape`), dropout where `modeling_t5.py` has it.
 */
export function t5Layers(
  tape: Tape,
  c: T5Config,
  params: Map<string, number[]>,
  dropout: Dropout = (x) => x,
) {
  const eps = c.layer_norm_epsilon;
  const heads = c.num_heads;
  const dk = c.d_kv;
  const linear = (x: string, w: string) => tape.linear(x, w, params.get(w) as [number, number]);
  /** [B, L, inner] → [B, H, L, d_kv] */
  const splitHeads = (x: string) => tape.transpose(tape.reshape(x, [0, 0, heads, dk]), [0, 2, 1, 3]);
  const positionBias = (stack: string, buckets: string) =>
    tape.unsqueeze(
      tape.transpose(
        tape.gather(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`, buckets),
        [2, 0, 1],
      ),
      [0],
    );
  /** Attention of query heads over key and value heads, projected by `<prefix>.o`. */
  const attention = (
    qh: string,
    kh: string,
    vh: string,
    prefix: string,
    q: Len,
    k: Len,
    biases: [string, number[]][],
  ) => {
    let scores = tape.matmul(qh, kh, true);
    for (const [bias, axes] of biases) scores = tape.addBroadcast(scores, bias, axes);
    const weights = dropout(tape.softmax(scores), ["B", "H", q === 1 ? 1 : q, k === 1 ? 1 : k]);
    const context = tape.reshape(tape.transpose(tape.matmul(weights, vh, false), [0, 2, 1, 3]), [0, 0, -1]);
    return linear(context, `${prefix}.o.weight`);
  };
  const project = (x: string, prefix: string, p: "q" | "k" | "v") =>
    splitHeads(linear(x, `${prefix}.${p}.weight`));
  const attend = (xq: string, xkv: string, prefix: string, q: Len, k: Len, biases: [string, number[]][]) =>
    attention(
      project(xq, prefix, "q"),
      project(xkv, prefix, "k"),
      project(xkv, prefix, "v"),
      prefix,
      q,
      k,
      biases,
    );
  const feedForward = (h: string, layer: string, len: Len) => {
    const n = tape.rmsNorm(h, `${layer}.layer_norm.weight`, eps);
    const ff = `${layer}.DenseReluDense`;
    const inner = isGatedT5(c)
      ? tape.mul(tape.geluNew(linear(n, `${ff}.wi_0.weight`)), linear(n, `${ff}.wi_1.weight`))
      : tape.relu(linear(n, `${ff}.wi.weight`));
    return linear(dropout(inner, ["B", len === 1 ? 1 : len, "F"]), `${ff}.wo.weight`);
  };
  /** The encoder's final hidden states [B, S, D]. */
  const encode = (inputIds: string, encoderBias: string, encoderBuckets: string) => {
    let h = dropout(tape.gather("shared.weight", inputIds), ["B", "S", "D"]);
    const position = positionBias("encoder", encoderBuckets);
    for (let i = 0; i < c.num_layers; i++) {
      const block = `encoder.block.${i}.layer`;
      const n = tape.rmsNorm(h, `${block}.0.layer_norm.weight`, eps);
      const self = attend(n, n, `${block}.0.SelfAttention`, "S", "S", [
        [position, [0]],
        [encoderBias, [1, 2]],
      ]);
      const a = tape.add(h, dropout(self, ["B", "S", "D"]));
      h = tape.add(a, dropout(feedForward(a, `${block}.1`, "S"), ["B", "S", "D"]));
    }
    return dropout(tape.rmsNorm(h, "encoder.final_layer_norm.weight", eps), ["B", "S", "D"]);
  };
  /** Logits from the decoder's final hidden states (tied heads scale by d_model^-0.5 first). */
  const lmHead = (hidden: string) => {
    const head = c.tie_word_embeddings ? "shared.weight" : "lm_head.weight";
    const scaled = c.tie_word_embeddings ? tape.scale(hidden, c.d_model ** -0.5) : hidden;
    return tape.linear(scaled, head, [c.vocab_size, c.d_model]);
  };
  return { linear, splitHeads, positionBias, attention, project, attend, feedForward, encode, lmHead };
}

export interface T5Graph {
  bytes: Uint8Array;
  /** Parameter name → shape, in graph-input order (the value head's last when present). */
  params: Map<string, number[]>;
  /** The dropout masks' shapes, `dropout_<i>` in order. */
  dropoutSites: SiteDims[];
}

export const VALUE_HEAD_SHAPES = (dModel: number) =>
  new Map([
    ["v_head.summary.weight", [1, dModel]],
    ["v_head.summary.bias", [1]],
  ]);

/**
 * T5 v1.0 / v1.1 (FLAN-T5) teacher-forced, as `T5Model` computes it, as one ONNX graph for
 * onnxruntime, with its gradient when asked. Inputs: `input_ids` [B, S], `decoder_input_ids` [B, T],
 * `labels` [B, T, 1] (int64), `encoder_bias` [B, 1, 1, S] (0 at tokens, −1e9 at padding),
 * `causal_bias` [1, 1, T, T], `encoder_buckets` [S, S] and `decoder_buckets` [T, T] (int64 relative
 * position buckets), `inverse_temperature` [1], then the parameters by their Hugging Face names.
 * Outputs `logprobs` [B, T] of the labels (and `entropy`, `values`).
 */
export function buildT5Graph(c: T5Config, options: T5GraphOptions): T5Graph {
  const tape = new Tape("t5_train");
  const g = tape.g;
  const sites: SiteDims[] = [];
  const inputIds = tape.input("input_ids", "int64", ["B", "S"]);
  const decoderIds = tape.input("decoder_input_ids", "int64", ["B", "T"]);
  const labels = tape.input("labels", "int64", ["B", "T", 1]);
  const encoderBias = tape.input("encoder_bias", "float", ["B", 1, 1, "S"]);
  const causalBias = tape.input("causal_bias", "float", [1, 1, "T", "T"]);
  const encoderBuckets = tape.input("encoder_buckets", "int64", ["S", "S"]);
  const decoderBuckets = tape.input("decoder_buckets", "int64", ["T", "T"]);
  const inverseTemperature = tape.input("inverse_temperature", "float", [1]);
  const keep = 1 / (1 - c.dropout_rate);
  const dropout = (x: string, dims: SiteDims): string => {
    if (!options.dropout || c.dropout_rate === 0) return x;
    const mask = tape.input(`dropout_${sites.length}`, "bool", dims);
    sites.push(dims);
    return tape.dropout(x, mask, keep);
  };
  const params = new Map(t5ParameterShapes(c));
  if (options.valueHead) for (const [n, s] of VALUE_HEAD_SHAPES(c.d_model)) params.set(n, s);
  for (const [name, shape] of params) tape.param(name, shape);
  const L = t5Layers(tape, c, params, dropout);
  const encoded = L.encode(inputIds, encoderBias, encoderBuckets);

  // decoder
  const eps = c.layer_norm_epsilon;
  let h = dropout(tape.gather("shared.weight", decoderIds), ["B", "T", "D"]);
  const decoderPosition = L.positionBias("decoder", decoderBuckets);
  for (let i = 0; i < c.num_decoder_layers; i++) {
    const block = `decoder.block.${i}.layer`;
    const n = tape.rmsNorm(h, `${block}.0.layer_norm.weight`, eps);
    const self = L.attend(n, n, `${block}.0.SelfAttention`, "T", "T", [
      [decoderPosition, [0]],
      [causalBias, [0, 1]],
    ]);
    const a = tape.add(h, dropout(self, ["B", "T", "D"]));
    const m = tape.rmsNorm(a, `${block}.1.layer_norm.weight`, eps);
    const cross = L.attend(m, encoded, `${block}.1.EncDecAttention`, "T", "S", [[encoderBias, [1, 2]]]);
    const b = tape.add(a, dropout(cross, ["B", "T", "D"]));
    h = tape.add(b, dropout(L.feedForward(b, `${block}.2`, "T"), ["B", "T", "D"]));
  }
  const hidden = dropout(tape.rmsNorm(h, "decoder.final_layer_norm.weight", eps), ["B", "T", "D"]);
  const logits = tape.scale(L.lmHead(hidden), inverseTemperature);
  const out = tape.tokenLogProbs(logits, labels, options.entropy);
  g.output("logprobs", out.logprobs, "float", ["B", "T"]);
  if (out.entropy !== undefined) g.output("entropy", out.entropy, "float", ["B", "T"]);
  let values: string | undefined;
  if (options.valueHead) {
    const raw = tape.addBroadcast(
      L.linear(hidden, "v_head.summary.weight"),
      "v_head.summary.bias",
      [0, 1],
      false,
    );
    values = tape.reshape(raw, [0, -1]);
    g.output("values", values, "float", ["B", "T"]);
  }

  if (options.backward) {
    const seeds: [string, string][] = [[out.logprobs, tape.input("grad_logprobs", "float", ["B", "T"])]];
    if (out.entropy !== undefined) seeds.push([out.entropy, tape.input("grad_entropy", "float", ["B", "T"])]);
    if (values !== undefined) seeds.push([values, tape.input("grad_values", "float", ["B", "T"])]);
    tape.backward(seeds);
    const grads = new Map<string, string>();
    for (const [name, dims] of params) {
      let grad = tape.gradOf(name);
      if (grad === undefined) throw new Error(`T5 training graph: ${name} gets no gradient`);
      if (options.accumulate) grad = g.node("Add", [grad, tape.input(`acc.${name}`, "float", dims)]);
      grads.set(name, grad);
      if (!options.adamw) g.output(`grad.${name}`, grad, "float", dims);
    }
    if (options.adamw) adamwUpdate(tape, params, grads);
  }
  return { bytes: g.toBytes(), params, dropoutSites: sites };
}

/**
 * AdamW with global-norm clipping as `AdamW.apply` does it, in the graph: scalar inputs `lr`,
 * `beta1`, `beta2`, `epsilon`, `bias1` (1 − β1^t), `bias2`, `decay` (1 − lr·weight decay) and
 * `max_grad_norm`; moments `m.<param>` / `v.<param>`. Every update depends on the global norm,
 * hence on every gradient, hence on every read of the weights: the caller may have onnxruntime write
 * `updated.*`, `m_out.*` and `v_out.*` into the very buffers it fed as weights and moments.
 */
function adamwUpdate(tape: Tape, params: Map<string, number[]>, grads: Map<string, string>): void {
  const g = tape.g;
  const scalar = (name: string) => tape.input(name, "float", [1]);
  const [lr, beta1, beta2, epsilon, bias1, bias2, decay, maxNorm] = [
    "lr",
    "beta1",
    "beta2",
    "epsilon",
    "bias1",
    "bias2",
    "decay",
    "max_grad_norm",
  ].map(scalar) as [string, string, string, string, string, string, string, string];
  const one = g.floats([1], false);
  const squares = [...grads.values()].map((grad) => g.node("ReduceSumSquare", [grad], { keepdims: 0 }));
  const norm = g.node("Sqrt", [g.node("Sum", squares)]);
  g.output("grad_norm", g.node("Reshape", [norm, g.ints([1])]), "float", [1]);
  const clipped = g.node("And", [
    g.node("Greater", [maxNorm, g.floats([0], false)]),
    g.node("Greater", [norm, maxNorm]),
  ]);
  const scale = g.node("Where", [
    clipped,
    g.node("Div", [maxNorm, g.node("Add", [norm, g.floats([1e-6], false)])]),
    one,
  ]);
  // Scalars that depend on the norm: a node reading only inputs (β1·m, β2·v, decay·w) would run at
  // the start of the run, holding a model-sized temporary per parameter until its update.
  const late = (x: string) => g.node("Add", [x, g.node("Mul", [norm, g.floats([0], false)])]);
  const [b1, b2, decayLate] = [late(beta1), late(beta2), late(decay)];
  const rest1 = g.node("Sub", [one, beta1]);
  const rest2 = g.node("Sub", [one, beta2]);
  for (const [name, dims] of params) {
    const grad = g.node("Mul", [grads.get(name) as string, scale]);
    // Nodes named as the graph outputs themselves: an Identity in between would hold a copy of
    // each until it ran, instead of onnxruntime writing straight into the buffers passed for them.
    const [mOut, vOut, wOut] = [`m_out.${name}`, `v_out.${name}`, `updated.${name}`];
    const mFed = g.node("Mul", [tape.input(`m.${name}`, "float", dims), b1]);
    const m = g.node("Add", [mFed, g.node("Mul", [grad, rest1])], {}, mOut);
    const vFed = g.node("Mul", [tape.input(`v.${name}`, "float", dims), b2]);
    const v = g.node("Add", [vFed, g.node("Mul", [g.node("Mul", [grad, grad]), rest2])], {}, vOut);
    const step = g.node("Div", [
      g.node("Div", [m, bias1]),
      g.node("Add", [g.node("Sqrt", [g.node("Div", [v, bias2])]), epsilon]),
    ]);
    const kept = decays(name) ? g.node("Mul", [name, decayLate]) : name;
    g.node("Sub", [kept, g.node("Mul", [step, lr])], {}, wOut);
    for (const out of [wOut, mOut, vOut]) g.output(out, out, "float", dims);
  }
}
