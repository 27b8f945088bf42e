/**
 * Training throughput of the in-process T5 (KD step: teacher-forced cross-entropy, backward, AdamW)
 * for two or more model sizes, against the machine's 2-D matmul throughput measured in the same run.
 * Synthetic batches: 8 sequences × 128 input tokens → 32 target tokens, vocabulary 2,000.
 * FLOPs are counted analytically (every matmul of encoder, decoder, attention and LM head; a training
 * step = 3 × forward). The matmul peak is the best 2-D matmul GFLOP/s measured in the same run
 * (squares at d_model, d_ff and 512; the step's feed-forward and LM-head shapes); the fraction of it
 * that a step achieves is the number that travels between machines.
 * Run: npx tsx bench/train-throughput.ts [--sizes tiny,small,base] [--steps 6] [--json out.json]
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { seededRandom } from "@lmcot/core";
import { type TF, tf, useWasmBackend } from "../src/backend";
import { AdamW, optimizerConfigSchema, valueAndGrads } from "../src/optim";
import {
  MODEL_PRESETS,
  type ModelPreset,
  parameterCount,
  type T5Config,
  t5ConfigFor,
} from "../src/t5/config";
import { crossEntropy } from "../src/t5/forward";
import { T5Model } from "../src/t5/model";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "tiny,small" },
    steps: { type: "string", default: "6" },
    json: { type: "string" },
  },
});
const [B, S, T, V] = [8, 128, 32, 2000];

/** Matmul FLOPs of one forward pass over a batch (2 per multiply-add). */
function forwardFlops(c: T5Config): number {
  const inner = c.num_heads * c.d_kv;
  const proj = (rows: number) => 2 * rows * c.d_model * inner;
  const ff = (rows: number) => 2 * 2 * rows * c.d_model * c.d_ff;
  const attend = (q: number, k: number) => 2 * 2 * q * k * inner;
  const encoder = c.num_layers * (4 * proj(S) + attend(S, S) + ff(S));
  const decoder =
    c.num_decoder_layers * (4 * proj(T) + attend(T, T) + 2 * proj(T) + 2 * proj(S) + attend(T, S) + ff(T));
  return B * (encoder + decoder + 2 * T * c.d_model * c.vocab_size);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function matmulGflops(m: number, k: number, n: number, reps = 8): number {
  const a = tf.randomNormal([m, k], 0, 1, "float32", 1) as TF.Tensor2D;
  const b = tf.randomNormal([k, n], 0, 1, "float32", 2) as TF.Tensor2D;
  tf.tidy(() => tf.matMul(a, b)).dataSync();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    tf.tidy(() => tf.matMul(a, b)).dataSync();
    times.push((performance.now() - start) / 1000);
  }
  tf.dispose([a, b]);
  return (2 * m * k * n) / median(times) / 1e9;
}

function trainStep(preset: ModelPreset, steps: number) {
  const config = t5ConfigFor(preset, V);
  const model = T5Model.random(config, 0);
  const optimizer = new AdamW(optimizerConfigSchema.parse({}), model.params);
  const random = seededRandom(1);
  const ids = (n: number) => Array.from({ length: n }, () => 3 + Math.floor(random() * (V - 3)));
  const inputs = Array.from({ length: B }, () => [...ids(S - 1), 1]);
  const targets = Array.from({ length: B }, () => [...ids(T - 1), 1]);
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const start = performance.now();
    const { grads } = valueAndGrads(model.params, () => crossEntropy(model, inputs, targets));
    optimizer.apply(grads, 1e-4);
    tf.dispose([...grads.values()]);
    if (i >= 2) times.push((performance.now() - start) / 1000);
  }
  optimizer.dispose();
  model.dispose();
  const seconds = median(times);
  const flops = 3 * forwardFlops(config);
  return {
    preset,
    parameters: parameterCount(config),
    flopsPerStep: flops,
    seconds,
    tokensPerSecond: (B * (S + T)) / seconds,
    gflops: flops / seconds / 1e9,
    config,
  };
}

await useWasmBackend();
const sizes = (values.sizes ?? "").split(",").filter((s): s is ModelPreset => s in MODEL_PRESETS);
const rows = [];
for (const preset of sizes) {
  const run = trainStep(preset, Number(values.steps));
  const c = run.config;
  // Square matmuls at d_model, d_ff and 512, and the step's own feed-forward and LM-head shapes,
  // measured right after it; the best of them is the machine's reference peak for this row.
  const shapes = {
    squareDModel: matmulGflops(c.d_model, c.d_model, c.d_model, 32),
    squareDFf: matmulGflops(c.d_ff, c.d_ff, c.d_ff),
    ff: matmulGflops(B * S, c.d_model, c.d_ff),
    head: matmulGflops(B * T, c.d_model, V),
    square512: matmulGflops(512, 512, 512),
  };
  const peak = Math.max(...Object.values(shapes));
  rows.push({ ...run, config: undefined, matmul: shapes, peak, fractionOfPeak: run.gflops / peak });
}
console.log(
  `batch ${B} × (${S} input + ${T} target) tokens, vocab ${V}, tfjs ${tf.version_core} wasm, median of ${values.steps} steps`,
);
console.log(
  "size    params      step s   tokens/s   step GFLOP/s   matmul peak GFLOP/s (d_model² / d_ff² / ff / head / 512²)   fraction of peak",
);
for (const r of rows)
  console.log(
    `${r.preset.padEnd(7)} ${(r.parameters / 1e6).toFixed(2).padStart(6)} M ${r.seconds.toFixed(3).padStart(9)} ${Math.round(r.tokensPerSecond).toString().padStart(10)} ${r.gflops.toFixed(2).padStart(14)}   ${r.peak.toFixed(2).padStart(6)} (${[r.matmul.squareDModel, r.matmul.squareDFf, r.matmul.ff, r.matmul.head, r.matmul.square512].map((x) => x.toFixed(1)).join(" / ")})${"".padStart(8)}${(100 * r.fractionOfPeak).toFixed(1)} %`,
  );
if (values.json) {
  const setup = {
    batch: B,
    inputTokens: S,
    targetTokens: T,
    vocab: V,
    tfjs: tf.version_core,
    steps: Number(values.steps),
  };
  writeFileSync(values.json, `${JSON.stringify({ setup, rows }, null, 2)}\n`);
}
