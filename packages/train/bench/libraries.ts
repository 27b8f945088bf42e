/**
 * Candidate tensor/autograd libraries on this machine: fp32 matmul throughput and training steps
 * (an MLP like the one in RUNTIME-NOTES, and one T5-sized attention + feed-forward block), tfjs with
 * its wasm backend against its pure-JS cpu backend (the reference in this run is wasm). The block
 * step runs twice: with tfjs's own (batched / transposed) matmuls, and with src/ops.ts's `mm`/`bmm`,
 * which keep every matmul on the plain 2-D fast path. @jax-js/jax 0.1.25 was measured separately
 * (it is not a dependency; see the README's numbers).
 * Run: npx tsx bench/libraries.ts
 */
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import { bmm, mm } from "../src/ops";

async function matmulGflops(n: number, reps: number): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, "float32", 1);
  const b = tf.randomNormal([n, n], 0, 1, "float32", 2);
  tf.tidy(() => tf.matMul(a, b)).dataSync();
  const start = performance.now();
  for (let i = 0; i < reps; i++) tf.tidy(() => tf.matMul(a, b)).dataSync();
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([a, b]);
  return (2 * n ** 3 * reps) / seconds / 1e9;
}

function stepsPerSecond(step: () => void, reps: number): number {
  step();
  const start = performance.now();
  for (let i = 0; i < reps; i++) step();
  return reps / ((performance.now() - start) / 1000);
}

/** 64×256 → relu 256 → 256, mean-square loss, SGD. */
function mlpStep(): () => void {
  const w1 = tf.variable(tf.randomNormal([256, 256], 0, 0.05, "float32", 3));
  const w2 = tf.variable(tf.randomNormal([256, 256], 0, 0.05, "float32", 4));
  const x = tf.randomNormal([64, 256], 0, 1, "float32", 5);
  const optimizer = tf.train.sgd(0.01);
  return () => {
    const loss = optimizer.minimize(() => tf.mean(tf.square(tf.matMul(tf.relu(tf.matMul(x, w1)), w2))), true);
    loss?.dataSync();
    loss?.dispose();
  };
}

/** One pre-norm self-attention + relu FF block, d_model 256, 4 heads, d_ff 1024, batch 8 × 64 tokens, Adam. */
function blockStep(fast: boolean): () => void {
  const d = 256;
  const heads = 4;
  const dk = d / heads;
  const [b, s] = [8, 64];
  const v = (shape: number[], seed: number) => tf.variable(tf.randomNormal(shape, 0, 0.05, "float32", seed));
  const [wq, wk, wv, wo, wi, wf] = [
    v([d, d], 6),
    v([d, d], 7),
    v([d, d], 8),
    v([d, d], 9),
    v([d, 4 * d], 10),
    v([4 * d, d], 11),
  ];
  const x = tf.randomNormal([b * s, d], 0, 1, "float32", 12);
  const optimizer = tf.train.adam(1e-3);
  const split = (t: tf.Tensor) =>
    tf.reshape(tf.transpose(tf.reshape(t, [b, s, heads, dk]), [0, 2, 1, 3]), [
      b * heads,
      s,
      dk,
    ]) as tf.Tensor3D;
  const lin = (a: tf.Tensor, w: tf.Tensor) =>
    fast ? mm(a, w) : tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D);
  const bat = (a: tf.Tensor3D, c: tf.Tensor3D, transposeB: boolean) =>
    fast
      ? bmm(a, transposeB ? (tf.transpose(c, [0, 2, 1]) as tf.Tensor3D) : c)
      : tf.matMul(a, c, false, transposeB);
  return () => {
    const loss = optimizer.minimize(() => {
      const n = tf.div(x, tf.sqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6)));
      const [q, k, val] = [split(lin(n, wq)), split(lin(n, wk)), split(lin(n, wv))];
      const att = tf.softmax(bat(q, k, true)) as tf.Tensor3D;
      const ctx = tf.reshape(
        tf.transpose(tf.reshape(bat(att, val, false), [b, heads, s, dk]), [0, 2, 1, 3]),
        [b * s, d],
      );
      const h = tf.add(x, lin(ctx, wo));
      const out = tf.add(h, lin(tf.relu(lin(h, wi)), wf));
      return tf.mean(tf.square(out)) as tf.Scalar;
    }, true);
    loss?.dataSync();
    loss?.dispose();
  };
}

async function measure(backend: "wasm" | "cpu") {
  await tf.setBackend(backend);
  await tf.ready();
  const scale = backend === "cpu" ? 0.2 : 1;
  const reps = (n: number) => Math.max(2, Math.round(n * scale));
  return {
    backend,
    matmul256: await matmulGflops(256, reps(40)),
    matmul512: await matmulGflops(512, reps(10)),
    mlpSteps: stepsPerSecond(mlpStep(), reps(50)),
    blockSteps: stepsPerSecond(blockStep(false), reps(10)),
    blockStepsFast: stepsPerSecond(blockStep(true), reps(10)),
  };
}

const wasm = await measure("wasm");
const cpu = await measure("cpu");
const fmt = (x: number) => x.toFixed(2);
console.log(
  "backend  matmul256 GFLOP/s  matmul512 GFLOP/s  MLP steps/s  block steps/s (tfjs matmul)  block steps/s (mm/bmm)",
);
for (const r of [wasm, cpu]) {
  console.log(
    `${r.backend.padEnd(8)} ${fmt(r.matmul256).padStart(17)} ${fmt(r.matmul512).padStart(18)} ${fmt(r.mlpSteps).padStart(12)} ${fmt(r.blockSteps).padStart(27)} ${fmt(r.blockStepsFast).padStart(23)}`,
  );
}
console.log(
  `cpu / wasm: matmul512 ×${fmt(cpu.matmul512 / wasm.matmul512)}, MLP step ×${fmt(cpu.mlpSteps / wasm.mlpSteps)}, block step (mm/bmm) ×${fmt(cpu.blockStepsFast / wasm.blockStepsFast)}; wasm mm/bmm vs tfjs matmul ×${fmt(wasm.blockStepsFast / wasm.blockSteps)}`,
);
