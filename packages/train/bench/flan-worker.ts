/**
 * Our side of bench/flan-vs-torch.ts: one process runs `--steps` steps of one mode on a folder from
 * flan-fixture.ts and prints one JSON line (step seconds, tokens per step, peak RSS of this whole
 * process from the kernel's high-water mark).
 *   kd:  the KD trainer's step (micro-batches of `--batch`, `--grad-accum` of them, AdamW) on
 *        B × (S input + T target) random tokens, on `--engine onnxruntime` (the default; AdamW fused
 *        into the step) or `tfjs` (checkpointed blocks).
 *   ppo: PpoTrainer itself (policy, frozen reference, value head) on `--engine`: B rollouts of N
 *        sampled tokens with the KV cache (tfjs), scoring, one PPO epoch over 2 mini-batches; a
 *        stand-in reward.
 * Run: npx tsx bench/flan-worker.ts --folder F --mode kd|ppo [--steps 2] [--batch 8] [--grad-accum 1]
 *      [--engine onnxruntime|tfjs] [--moments wasm|js] [--no-checkpointing]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { seededRandom } from "@lmcot/core";
import { readSafetensors, resolveT5Config } from "@lmcot/model-writer";
import * as tf from "@tensorflow/tfjs-core";
// The built package (`pnpm --filter @lmcot/train build`): what users run, with tfjs's gradients bundled.
import {
  AdamW,
  accumulatedValueAndGrads,
  createKdEngine,
  crossEntropy,
  optimizerConfigSchema,
  PpoTrainer,
  T5Model,
  useWasmBackend,
} from "../dist/index.js";
import { word } from "./flan-fixture";

const { values: a } = parseArgs({
  options: {
    folder: { type: "string" },
    mode: { type: "string", default: "kd" },
    steps: { type: "string", default: "2" },
    batch: { type: "string", default: "8" },
    "grad-accum": { type: "string", default: "1" },
    input: { type: "string", default: "256" },
    target: { type: "string", default: "64" },
    "new-tokens": { type: "string", default: "64" },
    "no-checkpointing": { type: "boolean", default: false },
    /** Where AdamW keeps its moments: `wasm` or `js` (outside the wasm heap; flan-t5-base needs it). */
    moments: { type: "string", default: "wasm" },
    engine: { type: "string", default: "onnxruntime" },
  },
});
const folder = a.folder as string;
const [steps, B, accum, S, T, N] = [
  a.steps,
  a.batch,
  a["grad-accum"],
  a.input,
  a.target,
  a["new-tokens"],
].map(Number) as [number, number, number, number, number, number];
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

await useWasmBackend();
const config = resolveT5Config(JSON.parse(readFileSync(join(folder, "config.json"), "utf8")));
const random = seededRandom(1);
const ids = (n: number) =>
  Array.from({ length: n }, () => 3 + Math.floor(random() * (config.vocab_size - 3)));
const times: number[] = [];
const extra: Record<string, number[]> = { rolloutSeconds: [] };

if (a.mode === "kd" && a.engine === "onnxruntime") {
  const engine = await createKdEngine("onnxruntime", {
    config,
    weights: await readSafetensors(join(folder, "model.safetensors")),
    optimizer: optimizerConfigSchema.parse({ learningRate: 1e-4 }),
    dropoutRate: 0,
    gradientCheckpointing: false,
  });
  const micro = Array.from({ length: accum }, () =>
    Array.from({ length: B }, () => ({ input: ids(S), target: ids(T) })),
  );
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    await engine.step(micro, accum * B * T, 1e-4, i);
    times.push((performance.now() - start) / 1000);
  }
  report(accum * B * (S + T));
} else if (a.mode === "kd") {
  const model = new T5Model(config, await readSafetensors(join(folder, "model.safetensors")));
  model.recompute = !a["no-checkpointing"];
  const optimizer = new AdamW(
    optimizerConfigSchema.parse({ learningRate: 1e-4, momentsIn: a.moments }),
    model.params,
  );
  const micro = Array.from({ length: accum }, () => ({
    inputs: Array.from({ length: B }, () => ids(S)),
    targets: Array.from({ length: B }, () => ids(T)),
  }));
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    const { grads } = accumulatedValueAndGrads(
      model.params,
      micro.map((m) => () => crossEntropy(model, m.inputs, m.targets, accum * B * T)),
    );
    optimizer.apply(grads, 1e-4);
    tf.dispose([...grads.values()]);
    times.push((performance.now() - start) / 1000);
  }
  report(accum * B * (S + T));
} else {
  const out = mkdtempSync(join(tmpdir(), "lmcot-flan-ppo-"));
  const queries = Array.from({ length: B }, () => ({
    input: ids(S - 1)
      .map((i) => word(i))
      .join(" "),
    data: null,
  }));
  const trainer = new PpoTrainer({
    steps,
    batchSize: B,
    miniBatchSize: B / 2,
    gradAccum: accum,
    ppoEpochs: 1,
    maxInputTokens: S,
    maxNewTokens: N,
    temperature: 1,
    saveEvery: 1_000_000,
    gradientCheckpointing: !a["no-checkpointing"],
    engine: a.engine as "onnxruntime" | "tfjs",
  });
  await trainer.train(folder, queries, async (rollouts) => rollouts.map(() => random()), out, {
    exportOnnx: false,
    onStep: (m) => {
      times.push(m.seconds);
      extra.rolloutSeconds?.push(m.rolloutSeconds as number);
      if (m.step === steps) {
        // Measured here, before the run's closing checkpoint and export.
        report(B * N);
        rmSync(out, { recursive: true, force: true });
        process.exit(0);
      }
    },
  });
}

function report(tokensPerStep: number): void {
  console.log(
    JSON.stringify({
      side: "ours",
      mode: a.mode,
      stepSeconds: times,
      tokensPerStep,
      peakRssMb: peakRssMb(),
      engine: a.engine,
      tensorMb: tf.memory().numBytes / 2 ** 20,
      // The wasm memory never shrinks: its size is the backend's high-water mark.
      wasmMemoryMb:
        (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength / 2 ** 20,
      ...extra,
    }),
  );
}
