import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { OnnxGraph } from "./onnx-graph";
import { normalArray, seededRandom } from "./random";
import { writeSafetensors } from "./safetensors";
import type { WeightTensor } from "./t5-onnx";
import { type WordLevelTokenizerOptions, writeWordLevelTokenizer } from "./tokenizer";

/** GPT-2 hyper-parameters (HF `config.json` names). */
export interface Gpt2Config {
  vocab_size: number;
  n_embd: number;
  n_head: number;
  n_layer: number;
  n_positions: number;
  layer_norm_epsilon?: number;
  bos_token_id?: number;
  eos_token_id?: number;
  pad_token_id?: number;
}

const MASK_VALUE = -3.4028234663852886e38;

/** HF GPT2LMHeadModel parameter names and shapes (Conv1D weights are [in, out]; lm_head is tied to wte). */
export function gpt2ParameterShapes(c: Gpt2Config): Map<string, number[]> {
  const d = c.n_embd;
  const shapes = new Map<string, number[]>([
    ["transformer.wte.weight", [c.vocab_size, d]],
    ["transformer.wpe.weight", [c.n_positions, d]],
  ]);
  for (let i = 0; i < c.n_layer; i++) {
    const h = `transformer.h.${i}`;
    for (const ln of ["ln_1", "ln_2"]) {
      shapes.set(`${h}.${ln}.weight`, [d]);
      shapes.set(`${h}.${ln}.bias`, [d]);
    }
    shapes.set(`${h}.attn.c_attn.weight`, [d, 3 * d]);
    shapes.set(`${h}.attn.c_attn.bias`, [3 * d]);
    shapes.set(`${h}.attn.c_proj.weight`, [d, d]);
    shapes.set(`${h}.attn.c_proj.bias`, [d]);
    shapes.set(`${h}.mlp.c_fc.weight`, [d, 4 * d]);
    shapes.set(`${h}.mlp.c_fc.bias`, [4 * d]);
    shapes.set(`${h}.mlp.c_proj.weight`, [4 * d, d]);
    shapes.set(`${h}.mlp.c_proj.bias`, [d]);
  }
  shapes.set("transformer.ln_f.weight", [d]);
  shapes.set("transformer.ln_f.bias", [d]);
  return shapes;
}

function columns(t: WeightTensor, from: number, to: number): Float32Array {
  const [rows = 0, cols = 0] = t.shape;
  const out = new Float32Array(rows * (to - from));
  for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * cols + from, r * cols + to), r * (to - from));
  return out;
}

/**
 * The decoder-only graph transformers.js runs for `model_type: "gpt2"`: input_ids, attention_mask
 * (over past + new positions), position_ids, past_key_values.{i}.key/value → logits, present.{i}.key/value.
 */
export function buildGpt2(c: Gpt2Config, weights: Map<string, WeightTensor>): OnnxGraph {
  const g = new OnnxGraph("gpt2");
  const d = c.n_embd;
  const heads = c.n_head;
  const dh = d / heads;
  if (!Number.isInteger(dh)) throw new Error("GPT-2 config: n_embd must be divisible by n_head");
  const get = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`GPT-2 weights: missing ${name}`);
    return t;
  };
  const param = (name: string) => g.weight(name, get(name).data, get(name).shape);
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"]);
  const mask = g.input("attention_mask", "int64", ["batch_size", "past_sequence_length + sequence_length"]);
  const positions = g.input("position_ids", "int64", ["batch_size", "sequence_length"]);
  const past = Array.from({ length: c.n_layer }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, "float", ["batch_size", heads, "past_sequence_length", dh]),
    value: g.input(`past_key_values.${i}.value`, "float", ["batch_size", heads, "past_sequence_length", dh]),
  }));
  const dim = (x: string, axis: number) =>
    g.node("Gather", [g.node("Shape", [x]), g.ints([axis], true)], { axis: 0 });
  const layerNorm = (x: string, prefix: string) =>
    g.node("LayerNormalization", [x, param(`${prefix}.weight`), param(`${prefix}.bias`)], {
      axis: -1,
      epsilon: { float: c.layer_norm_epsilon ?? 1e-5 },
    });
  const heads4 = (x: string) =>
    g.node("Transpose", [g.node("Reshape", [x, g.ints([0, 0, heads, dh])])], { perm: [0, 2, 1, 3] });

  let h = g.node("Add", [
    g.node("Gather", [param("transformer.wte.weight"), ids], { axis: 0 }),
    g.node("Gather", [param("transformer.wpe.weight"), positions], { axis: 0 }),
  ]);
  // causal + padding bias [B, 1, T, P+T]
  const first = past[0];
  if (!first) throw new Error("GPT-2 config: n_layer must be at least 1");
  const pastLength = dim(first.key, 2);
  const total = g.node("Add", [pastLength, dim(ids, 1)]);
  const qpos = g.node("Range", [pastLength, total, g.ints([1], true)]);
  const kpos = g.node("Range", [g.ints([0], true), total, g.ints([1], true)]);
  const future = g.node("Less", [
    g.node("Unsqueeze", [qpos, g.ints([1])]),
    g.node("Unsqueeze", [kpos, g.ints([0])]),
  ]);
  const padded = g.node("Equal", [g.node("Unsqueeze", [mask, g.ints([1, 2])]), g.ints([0], true)]);
  const blocked = g.node("Or", [g.node("Unsqueeze", [future, g.ints([0, 1])]), padded]);
  const bias = g.node("Where", [blocked, g.floats([MASK_VALUE]), g.floats([0])]);

  for (let i = 0; i < c.n_layer; i++) {
    const p = `transformer.h.${i}`;
    const layerPast = past[i] as { key: string; value: string };
    const n = layerNorm(h, `${p}.ln_1`);
    const attn = get(`${p}.attn.c_attn.weight`);
    const attnBias = get(`${p}.attn.c_attn.bias`).data;
    const proj = (part: number, name: string) =>
      g.node("Add", [
        g.node("MatMul", [
          n,
          g.weight(`${p}.attn.${name}.weight`, columns(attn, part * d, (part + 1) * d), [d, d]),
        ]),
        g.weight(`${p}.attn.${name}.bias`, attnBias.slice(part * d, (part + 1) * d), [d]),
      ]);
    const q = heads4(proj(0, "q"));
    const k = g.node("Concat", [layerPast.key, heads4(proj(1, "k"))], { axis: 2 });
    const v = g.node("Concat", [layerPast.value, heads4(proj(2, "v"))], { axis: 2 });
    g.output(`present.${i}.key`, k, "float", ["batch_size", heads, "total_sequence_length", dh]);
    g.output(`present.${i}.value`, v, "float", ["batch_size", heads, "total_sequence_length", dh]);
    const scores = g.node("Add", [
      g.node("Mul", [
        g.node("MatMul", [q, g.node("Transpose", [k], { perm: [0, 1, 3, 2] })]),
        g.floats([1 / Math.sqrt(dh)]),
      ]),
      bias,
    ]);
    const ctx = g.node("MatMul", [g.node("Softmax", [scores], { axis: -1 }), v]);
    const merged = g.node("Reshape", [g.node("Transpose", [ctx], { perm: [0, 2, 1, 3] }), g.ints([0, 0, d])]);
    h = g.node("Add", [
      h,
      g.node("Add", [
        g.node("MatMul", [merged, param(`${p}.attn.c_proj.weight`)]),
        param(`${p}.attn.c_proj.bias`),
      ]),
    ]);
    const m = g.node("Add", [
      g.node("MatMul", [layerNorm(h, `${p}.ln_2`), param(`${p}.mlp.c_fc.weight`)]),
      param(`${p}.mlp.c_fc.bias`),
    ]);
    // gelu_new: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
    const cube = g.node("Mul", [m, g.node("Mul", [m, m])]);
    const inner = g.node("Mul", [
      g.node("Add", [m, g.node("Mul", [cube, g.floats([0.044715])])]),
      g.floats([Math.sqrt(2 / Math.PI)]),
    ]);
    const gelu = g.node("Mul", [
      g.node("Mul", [m, g.floats([0.5])]),
      g.node("Add", [g.floats([1]), g.node("Tanh", [inner])]),
    ]);
    h = g.node("Add", [
      h,
      g.node("Add", [
        g.node("MatMul", [gelu, param(`${p}.mlp.c_proj.weight`)]),
        param(`${p}.mlp.c_proj.bias`),
      ]),
    ]);
  }
  const out = layerNorm(h, "transformer.ln_f");
  const wte = get("transformer.wte.weight");
  const head = new Float32Array(wte.data.length);
  for (let v = 0; v < c.vocab_size; v++)
    for (let j = 0; j < d; j++) head[j * c.vocab_size + v] = wte.data[v * d + j] as number;
  g.output("logits", g.node("MatMul", [out, g.weight("lm_head.weight", head, [d, c.vocab_size])]), "float", [
    "batch_size",
    "sequence_length",
    c.vocab_size,
  ]);
  return g;
}

export function randomGpt2Weights(c: Gpt2Config, seed: number): Map<string, WeightTensor> {
  const random = seededRandom(seed);
  const weights = new Map<string, WeightTensor>();
  for (const [name, shape] of gpt2ParameterShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (/ln_.*\.weight$/.test(name)) data = new Float32Array(size).fill(1);
    else if (name.endsWith(".bias")) data = normalArray(random, size, 0.02);
    else if (name.endsWith("wte.weight")) data = normalArray(random, size, 0.5);
    else data = normalArray(random, size, 0.2);
    weights.set(name, { data, shape });
  }
  return weights;
}

/** Writes a decoder-only (GPT-2 layout) model folder: config, tokenizer, model.safetensors, onnx/model.onnx. */
export async function writeGpt2ModelFolder(
  folder: string,
  options: {
    config: Gpt2Config;
    weights: Map<string, WeightTensor>;
    vocab: readonly string[] | { texts: Iterable<string> };
    tokenizer?: WordLevelTokenizerOptions;
  },
): Promise<void> {
  const c = options.config;
  const vocab = await writeWordLevelTokenizer(folder, options.vocab, {
    ...options.tokenizer,
    appendEos: false,
    tokenizerClass: "GPT2Tokenizer",
  });
  if (vocab.length > c.vocab_size)
    throw new Error(
      `GPT-2 model folder: tokenizer has ${vocab.length} tokens, vocab_size is ${c.vocab_size}`,
    );
  const config = {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    activation_function: "gelu_new",
    n_ctx: c.n_positions,
    tie_word_embeddings: true,
    use_cache: true,
    ...c,
    layer_norm_epsilon: c.layer_norm_epsilon ?? 1e-5,
    bos_token_id: c.bos_token_id ?? 1,
    eos_token_id: c.eos_token_id ?? 1,
    pad_token_id: c.pad_token_id ?? 0,
  };
  await mkdir(join(folder, "onnx"), { recursive: true });
  await writeFile(join(folder, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  await writeFile(
    join(folder, "generation_config.json"),
    `${JSON.stringify({ bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id, pad_token_id: config.pad_token_id, max_new_tokens: 32 }, null, 2)}\n`,
  );
  await writeSafetensors(join(folder, "model.safetensors"), options.weights);
  await writeFile(join(folder, "onnx", "model.onnx"), buildGpt2(c, options.weights).toBytes());
}
