import { mkdir, open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BadRequestError } from "@lmcot/core";
import { OnnxGraph } from "./onnx-graph";
import { relativeBiasTable } from "./relative-position";
import { writeAll } from "./safetensors";
import { isGatedT5, resolveT5Config, type T5Config, type T5ConfigInput } from "./t5-config";

/** A float32 tensor in row-major order. */
export interface WeightTensor {
  data: Float32Array;
  shape: number[];
}

/** HF T5 parameter name → tensor (`shared.weight`, `encoder.block.0.layer.0.SelfAttention.q.weight`, …). */
export type T5Weights = Map<string, WeightTensor>;

/** Float32 minimum, the value HF T5 adds to masked attention scores. */
const MASK_VALUE = -3.4028234663852886e38;

/** The HF parameter names and shapes a T5 (v1.0 or v1.1 / FLAN-T5) model with this config must have. */
export function t5ParameterShapes(input: T5ConfigInput): Map<string, number[]> {
  const c = resolveT5Config(input);
  const inner = c.num_heads * c.d_kv;
  const shapes = new Map<string, number[]>();
  shapes.set("shared.weight", [c.vocab_size, c.d_model]);
  const attention = (prefix: string) => {
    for (const p of ["q", "k", "v"]) shapes.set(`${prefix}.${p}.weight`, [inner, c.d_model]);
    shapes.set(`${prefix}.o.weight`, [c.d_model, inner]);
  };
  for (const [stack, layers] of [
    ["encoder", c.num_layers],
    ["decoder", c.num_decoder_layers],
  ] as const) {
    for (let i = 0; i < layers; i++) {
      const block = `${stack}.block.${i}`;
      attention(`${block}.layer.0.SelfAttention`);
      if (i === 0) {
        shapes.set(`${block}.layer.0.SelfAttention.relative_attention_bias.weight`, [
          c.relative_attention_num_buckets,
          c.num_heads,
        ]);
      }
      shapes.set(`${block}.layer.0.layer_norm.weight`, [c.d_model]);
      let ff = 1;
      if (stack === "decoder") {
        attention(`${block}.layer.1.EncDecAttention`);
        shapes.set(`${block}.layer.1.layer_norm.weight`, [c.d_model]);
        ff = 2;
      }
      const wi = isGatedT5(c) ? ["wi_0", "wi_1"] : ["wi"];
      for (const w of wi) shapes.set(`${block}.layer.${ff}.DenseReluDense.${w}.weight`, [c.d_ff, c.d_model]);
      shapes.set(`${block}.layer.${ff}.DenseReluDense.wo.weight`, [c.d_model, c.d_ff]);
      shapes.set(`${block}.layer.${ff}.layer_norm.weight`, [c.d_model]);
    }
    shapes.set(`${stack}.final_layer_norm.weight`, [c.d_model]);
  }
  if (!c.tie_word_embeddings) shapes.set("lm_head.weight", [c.vocab_size, c.d_model]);
  return shapes;
}

/**
 * Throws a BadRequestError naming the first missing or mis-shaped parameter; `source` (a file or
 * folder) starts the message when given.
 */
export function checkT5Weights(config: T5ConfigInput, weights: T5Weights, source = "T5 weights"): void {
  for (const [name, shape] of t5ParameterShapes(config)) {
    const tensor = weights.get(name);
    if (tensor === undefined) throw new BadRequestError(`${source}: missing ${name} (shape [${shape}])`);
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw new BadRequestError(`${source}: ${name} has shape [${tensor.shape}], expected [${shape}]`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (tensor.data.length !== size) {
      throw new BadRequestError(`${source}: ${name} has ${tensor.data.length} values, expected ${size}`);
    }
  }
}

function transposed(tensor: WeightTensor): Float32Array {
  const [rows = 0, cols = 0] = tensor.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = tensor.data[r * cols + c] as number;
  }
  return out;
}

/** Graph-building helpers shared by the encoder and the decoder. */
/** Which ONNX files to write: full float32 (`*.onnx`) and/or int8 weights (`*_quantized.onnx`, transformers.js dtype q8). */
export type T5OnnxVariant = "fp32" | "q8";

/**
 * Symmetric per-output-column int8 quantization of a [in, out] matrix: w ≈ q · scale[column].
 */
export function quantizeColumns(
  w: Float32Array,
  rows: number,
  cols: number,
): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++)
      scale[c] = Math.max(scale[c] as number, Math.abs(w[r * cols + c] as number));
  }
  for (let c = 0; c < cols; c++) scale[c] = (scale[c] as number) > 0 ? (scale[c] as number) / 127 : 1;
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      q[r * cols + c] = Math.max(
        -127,
        Math.min(127, Math.round((w[r * cols + c] as number) / (scale[c] as number))),
      );
    }
  }
  return { q, scale };
}

class T5Ops {
  constructor(
    readonly g: OnnxGraph,
    readonly c: T5Config,
    readonly weights: T5Weights,
    readonly variant: T5OnnxVariant = "fp32",
  ) {}

  /**
   * x @ w for a weight stored as [in, out]. q8: activations quantized per call
   * (DynamicQuantizeLinear), MatMulInteger against int8 weights, rescaled to float — the layout
   * onnxruntime's dynamic quantization produces.
   */
  matmul(x: string, name: string, w: Float32Array, rows: number, cols: number): string {
    const g = this.g;
    if (this.variant === "fp32") return g.node("MatMul", [x, g.weight(name, w, [rows, cols])]);
    const { q, scale } = quantizeColumns(w, rows, cols);
    const qw = g.int8Weight(`${name}_quantized`, q, [rows, cols]);
    const ws = g.weight(`${name}_scale`, scale, [cols]);
    const [xq, xs, xz] = g.nodeOutputs("DynamicQuantizeLinear", [x], 3) as [string, string, string];
    const product = g.node("Cast", [g.node("MatMulInteger", [xq, qw, xz])], { to: 1 });
    return g.node("Mul", [g.node("Mul", [product, xs]), ws]);
  }

  private tensor(name: string): WeightTensor {
    const t = this.weights.get(name);
    if (t === undefined) throw new Error(`T5 weights: missing ${name}`);
    return t;
  }

  /** A HF `nn.Linear` weight [out, in], stored transposed for `x @ W^T`. */
  linear(x: string, name: string): string {
    const t = this.tensor(name);
    return this.matmul(x, name, transposed(t), t.shape[1] ?? 0, t.shape[0] ?? 0);
  }

  /** T5LayerNorm: x / sqrt(mean(x²) + eps) * weight (no mean subtraction, no bias). */
  rmsNorm(x: string, name: string): string {
    const g = this.g;
    const t = this.tensor(name);
    const w = g.weight(name, t.data, t.shape);
    const variance = g.node("ReduceMean", [g.node("Mul", [x, x])], { axes: [-1], keepdims: 1 });
    const inv = g.node("Reciprocal", [
      g.node("Sqrt", [g.node("Add", [variance, g.floats([this.c.layer_norm_epsilon])])]),
    ]);
    return g.node("Mul", [w, g.node("Mul", [x, inv])]);
  }

  /** [B, S, inner] → [B, H, S, d_kv] */
  heads(x: string): string {
    const r = this.g.node("Reshape", [x, this.g.ints([0, 0, this.c.num_heads, this.c.d_kv])]);
    return this.g.node("Transpose", [r], { perm: [0, 2, 1, 3] });
  }

  /** softmax(q kᵀ + bias) v, merged back to [B, S, inner] and projected by `o` (no 1/√d scaling in T5). */
  attend(q: string, k: string, v: string, bias: string, prefix: string): string {
    const g = this.g;
    const kT = g.node("Transpose", [k], { perm: [0, 1, 3, 2] });
    const scores = g.node("Add", [g.node("MatMul", [q, kT]), bias]);
    const ctx = g.node("MatMul", [g.node("Softmax", [scores], { axis: -1 }), v]);
    const merged = g.node("Reshape", [
      g.node("Transpose", [ctx], { perm: [0, 2, 1, 3] }),
      g.ints([0, 0, this.c.num_heads * this.c.d_kv]),
    ]);
    return this.linear(merged, `${prefix}.o.weight`);
  }

  /** v1.0: wo(relu(wi x)); v1.1 / FLAN-T5 (gated-gelu): wo(gelu_new(wi_0 x) * wi_1 x). */
  feedForward(x: string, prefix: string): string {
    const ff = `${prefix}.DenseReluDense`;
    if (!isGatedT5(this.c)) {
      return this.linear(this.g.node("Relu", [this.linear(x, `${ff}.wi.weight`)]), `${ff}.wo.weight`);
    }
    const gate = this.geluNew(this.linear(x, `${ff}.wi_0.weight`));
    return this.linear(this.g.node("Mul", [gate, this.linear(x, `${ff}.wi_1.weight`)]), `${ff}.wo.weight`);
  }

  /** HF `gelu_new`, the tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
  geluNew(x: string): string {
    const g = this.g;
    const cube = g.node("Mul", [g.node("Mul", [x, x]), x]);
    const inner = g.node("Add", [x, g.node("Mul", [cube, g.floats([0.044715])])]);
    const t = g.node("Tanh", [g.node("Mul", [inner, g.floats([Math.sqrt(2 / Math.PI)])])]);
    return g.node("Mul", [g.node("Mul", [x, g.floats([0.5])]), g.node("Add", [t, g.floats([1])])]);
  }

  /** (1 - mask) * float32.min as [B, 1, 1, S]. */
  paddingBias(mask: string): string {
    const g = this.g;
    const m = g.node("Cast", [mask], { to: 1 });
    const bias = g.node("Mul", [g.node("Sub", [g.floats([1]), m]), g.floats([MASK_VALUE])]);
    return g.node("Unsqueeze", [bias, g.ints([1, 2])]);
  }

  /** Relative position bias [1, H, Q, K] for query positions `qpos` [Q] and key positions `kpos` [K]. */
  positionBias(stack: "encoder" | "decoder", qpos: string, kpos: string): string {
    const g = this.g;
    const c = this.c;
    const maxd = c.relative_attention_max_distance;
    const source = this.tensor(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`);
    const table = g.weight(
      `${stack}.relative_attention_bias_table`,
      relativeBiasTable(
        source.data,
        c.num_heads,
        stack === "encoder",
        c.relative_attention_num_buckets,
        maxd,
      ),
      [2 * maxd + 1, c.num_heads],
    );
    const rel = g.node("Sub", [
      g.node("Unsqueeze", [kpos, g.ints([0])]),
      g.node("Unsqueeze", [qpos, g.ints([1])]),
    ]);
    const clipped = g.node("Min", [g.node("Max", [rel, g.ints([-maxd], true)]), g.ints([maxd], true)]);
    const index = g.node("Add", [clipped, g.ints([maxd], true)]);
    const bias = g.node("Gather", [table, index], { axis: 0 });
    return g.node("Unsqueeze", [g.node("Transpose", [bias], { perm: [2, 0, 1] }), g.ints([0])]);
  }

  /** Size of `x` along `axis` as a 0-d int64. */
  dim(x: string, axis: number): string {
    return this.g.node("Gather", [this.g.node("Shape", [x]), this.g.ints([axis], true)], { axis: 0 });
  }
}

/** The encoder graph: input_ids, attention_mask → last_hidden_state. */
export function buildT5Encoder(
  config: T5ConfigInput,
  weights: T5Weights,
  variant: T5OnnxVariant = "fp32",
): OnnxGraph {
  const c = resolveT5Config(config);
  const g = new OnnxGraph("t5_encoder");
  const t = new T5Ops(g, c, weights, variant);
  const ids = g.input("input_ids", "int64", ["batch_size", "encoder_sequence_length"]);
  const mask = g.input("attention_mask", "int64", ["batch_size", "encoder_sequence_length"]);
  const shared = weights.get("shared.weight");
  if (shared === undefined) throw new Error("T5 weights: missing shared.weight");
  let h = g.node("Gather", [g.weight("shared.weight", shared.data, shared.shape), ids], { axis: 0 });
  const pos = g.node("Range", [g.ints([0], true), t.dim(ids, 1), g.ints([1], true)]);
  const bias = g.node("Add", [t.positionBias("encoder", pos, pos), t.paddingBias(mask)]);
  for (let i = 0; i < c.num_layers; i++) {
    const block = `encoder.block.${i}`;
    const attn = `${block}.layer.0.SelfAttention`;
    const n = t.rmsNorm(h, `${block}.layer.0.layer_norm.weight`);
    const q = t.heads(t.linear(n, `${attn}.q.weight`));
    const k = t.heads(t.linear(n, `${attn}.k.weight`));
    const v = t.heads(t.linear(n, `${attn}.v.weight`));
    h = g.node("Add", [h, t.attend(q, k, v, bias, attn)]);
    h = g.node("Add", [
      h,
      t.feedForward(t.rmsNorm(h, `${block}.layer.1.layer_norm.weight`), `${block}.layer.1`),
    ]);
  }
  const out = t.rmsNorm(h, "encoder.final_layer_norm.weight");
  g.output("last_hidden_state", out, "float", ["batch_size", "encoder_sequence_length", c.d_model]);
  return g;
}

/**
 * The merged decoder graph (transformers.js / optimum names). One `If` on `use_cache_branch` picks the
 * cross-attention keys/values: the cached `past_key_values.*.encoder.*`, or (first step, no cache)
 * projections of `encoder_hidden_states`. Self-attention appends the new tokens' keys and values to
 * `past_key_values.*.decoder.*` and places the new tokens at positions past_length + offset.
 */
export function buildT5Decoder(
  config: T5ConfigInput,
  weights: T5Weights,
  variant: T5OnnxVariant = "fp32",
): OnnxGraph {
  const c = resolveT5Config(config);
  const g = new OnnxGraph("t5_decoder_merged");
  const t = new T5Ops(g, c, weights, variant);
  const ids = g.input("input_ids", "int64", ["batch_size", "decoder_sequence_length"]);
  const encMask = g.input("encoder_attention_mask", "int64", ["batch_size", "encoder_sequence_length"]);
  const enc = g.input("encoder_hidden_states", "float", ["batch_size", "encoder_sequence_length", c.d_model]);
  const useCacheBranch = g.input("use_cache_branch", "bool", [1]);
  const pastDims = ["batch_size", c.num_heads, "past_decoder_sequence_length", c.d_kv];
  const pastEncDims = ["batch_size", c.num_heads, "encoder_sequence_length_out", c.d_kv];
  const past: { key: string; value: string }[] = [];
  const pastCross: string[] = [];
  for (let i = 0; i < c.num_decoder_layers; i++) {
    past.push({
      key: g.input(`past_key_values.${i}.decoder.key`, "float", pastDims),
      value: g.input(`past_key_values.${i}.decoder.value`, "float", pastDims),
    });
    pastCross.push(g.input(`past_key_values.${i}.encoder.key`, "float", pastEncDims));
    pastCross.push(g.input(`past_key_values.${i}.encoder.value`, "float", pastEncDims));
  }
  const shared = weights.get("shared.weight");
  if (shared === undefined) throw new Error("T5 weights: missing shared.weight");
  let h = g.node("Gather", [g.weight("shared.weight", shared.data, shared.shape), ids], { axis: 0 });

  const first = past[0];
  if (first === undefined) throw new Error("T5 config: num_decoder_layers must be at least 1");
  const pastLength = t.dim(first.key, 2);
  const total = g.node("Add", [pastLength, t.dim(ids, 1)]);
  const qpos = g.node("Range", [pastLength, total, g.ints([1], true)]);
  const kpos = g.node("Range", [g.ints([0], true), total, g.ints([1], true)]);
  const future = g.node("Less", [
    g.node("Unsqueeze", [qpos, g.ints([1])]),
    g.node("Unsqueeze", [kpos, g.ints([0])]),
  ]);
  const causal = g.node("Where", [future, g.floats([MASK_VALUE]), g.floats([0])]);
  const selfBias = g.node("Add", [
    t.positionBias("decoder", qpos, kpos),
    g.node("Unsqueeze", [causal, g.ints([0, 1])]),
  ]);
  const crossBias = t.paddingBias(encMask);

  const totalDims = [
    "batch_size",
    c.num_heads,
    "past_decoder_sequence_length + decoder_sequence_length",
    c.d_kv,
  ];
  const encDims = ["batch_size", c.num_heads, "encoder_sequence_length", c.d_kv];
  // Cross-attention keys/values: taken from the cache when use_cache_branch is set, computed from
  // encoder_hidden_states otherwise (the first step, or any call without a cache).
  const crossSpecs = Array.from({ length: c.num_decoder_layers }, (_, i) =>
    (["key", "value"] as const).map((kv) => ({
      name: `present.${i}.encoder.${kv}`,
      type: "float" as const,
      dims: encDims,
    })),
  ).flat();
  const cross = g.ifNode(useCacheBranch, crossSpecs, (branch, cached) => {
    if (cached) return pastCross;
    const bt = new T5Ops(branch, c, weights, variant);
    return Array.from({ length: c.num_decoder_layers }, (_, i) => {
      const prefix = `decoder.block.${i}.layer.1.EncDecAttention`;
      return [bt.heads(bt.linear(enc, `${prefix}.k.weight`)), bt.heads(bt.linear(enc, `${prefix}.v.weight`))];
    }).flat();
  });
  for (let i = 0; i < c.num_decoder_layers; i++) {
    const block = `decoder.block.${i}`;
    const layerPast = past[i] as { key: string; value: string };
    const self = `${block}.layer.0.SelfAttention`;
    let n = t.rmsNorm(h, `${block}.layer.0.layer_norm.weight`);
    const q = t.heads(t.linear(n, `${self}.q.weight`));
    const k = g.node("Concat", [layerPast.key, t.heads(t.linear(n, `${self}.k.weight`))], { axis: 2 });
    const v = g.node("Concat", [layerPast.value, t.heads(t.linear(n, `${self}.v.weight`))], { axis: 2 });
    g.output(`present.${i}.decoder.key`, k, "float", totalDims);
    g.output(`present.${i}.decoder.value`, v, "float", totalDims);
    h = g.node("Add", [h, t.attend(q, k, v, selfBias, self)]);

    const crossPrefix = `${block}.layer.1.EncDecAttention`;
    n = t.rmsNorm(h, `${block}.layer.1.layer_norm.weight`);
    const cq = t.heads(t.linear(n, `${crossPrefix}.q.weight`));
    const ck = cross[2 * i] as string;
    const cv = cross[2 * i + 1] as string;
    g.output(ck, ck, "float", encDims);
    g.output(cv, cv, "float", encDims);
    h = g.node("Add", [h, t.attend(cq, ck, cv, crossBias, crossPrefix)]);

    h = g.node("Add", [
      h,
      t.feedForward(t.rmsNorm(h, `${block}.layer.2.layer_norm.weight`), `${block}.layer.2`),
    ]);
  }
  let out = t.rmsNorm(h, "decoder.final_layer_norm.weight");
  let head: WeightTensor = shared;
  if (c.tie_word_embeddings) {
    out = g.node("Mul", [out, g.floats([c.d_model ** -0.5])]);
  } else {
    const lm = weights.get("lm_head.weight");
    if (lm === undefined)
      throw new Error("T5 weights: missing lm_head.weight (tie_word_embeddings is false)");
    head = lm;
  }
  const logits = t.matmul(out, "lm_head.weight", transposed(head), c.d_model, c.vocab_size);
  g.output("logits", logits, "float", ["batch_size", "decoder_sequence_length", c.vocab_size]);
  return g;
}

export interface T5OnnxOptions {
  /** ONNX variants to write (default `["fp32"]`; `"q8"` adds the `*_quantized.onnx` pair). */
  variants?: T5OnnxVariant[];
  /**
   * Weights past this many bytes in one file go to ONNX external data (`<file>.onnx_data`, chunked);
   * default just under protobuf's 2 GB limit. Lower it to exercise the external-data path.
   */
  externalDataThreshold?: number;
  /** The largest external data file (default just under 2 GB); more weights go to `_data_1`, `_data_2`, … */
  externalDataChunkBytes?: number;
  /** Stops between files (a large model takes a while): the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The ONNX files written, and for each one that uses external data, how many data chunks it has. */
export interface T5OnnxFiles {
  files: string[];
  /** `transformers.js_config.use_external_data_format` for config.json (empty when nothing went external). */
  externalData: Record<string, number>;
}

/**
 * Writes `onnx/encoder_model.onnx` and `onnx/decoder_model_merged.onnx` under `folder`, computing HF
 * T5 (v1.0 relu or v1.1 / FLAN-T5 gated-gelu) from the HF-named `weights`; with `variants: ["fp32",
 * "q8"]` also the `*_quantized.onnx` pair (int8 weights, ~4× smaller) that transformers.js loads for
 * dtype q8. Files whose weights pass `externalDataThreshold` keep them in `<file>_data[_N]` beside
 * them; config.json must then list them (see `T5OnnxFiles.externalData`). No config or tokenizer files.
 */
export async function writeT5Onnx(
  folder: string,
  config: T5ConfigInput,
  weights: T5Weights,
  options: T5OnnxOptions = {},
): Promise<T5OnnxFiles> {
  checkT5Weights(config, weights);
  const dir = join(folder, "onnx");
  await mkdir(dir, { recursive: true });
  const written: T5OnnxFiles = { files: [], externalData: {} };
  for (const variant of options.variants ?? ["fp32"]) {
    const suffix = variant === "q8" ? "_quantized" : "";
    for (const [name, build] of [
      ["encoder_model", buildT5Encoder],
      ["decoder_model_merged", buildT5Decoder],
    ] as const) {
      options.signal?.throwIfAborted();
      const file = `${name}${suffix}.onnx`;
      const { model, chunks } = build(config, weights, variant).toFiles(file, {
        maxModelBytes: options.externalDataThreshold,
        maxChunkBytes: options.externalDataChunkBytes,
      });
      await writeFile(join(dir, file), model);
      written.files.push(`onnx/${file}`);
      for (const chunk of chunks) {
        const handle = await open(join(dir, chunk.file), "w");
        try {
          for (const part of chunk.parts) await writeAll(handle, part);
        } finally {
          await handle.close();
        }
        written.files.push(`onnx/${chunk.file}`);
      }
      if (chunks.length > 0) written.externalData[file] = chunks.length;
    }
  }
  return written;
}
