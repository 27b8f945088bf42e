import { randomT5Weights } from "@lmcot/model-writer";
import { flanConfig } from "../bench/flan-fixture.ts";
import { OrtT5 } from "../src/ort/session.ts";
const size = (process.argv[2] ?? "small") as "small";
const [B, S, T] = (process.argv[3] ?? "8,256,64").split(",").map(Number);
const dropout = process.argv[4] === "dropout";
const config = flanConfig(size);
const w = randomT5Weights(config, 0);
const weights = new Map([...w].map(([n, t]) => [n, t.data]));
const t0 = performance.now();
const decays = (name: string) => !name.includes("layer_norm") && !name.includes("relative_attention_bias");
const ort = await OrtT5.create(config, { backward: true, dropout, entropy: false, valueHead: false, adamw: { decays } });
const m = new Map([...weights].map(([n, w]) => [n, new Float32Array(w.length)]));
const v = new Map([...weights].map(([n, w]) => [n, new Float32Array(w.length)]));
console.log("session", ((performance.now() - t0) / 1000).toFixed(2), "s");
const rnd = (n: number, len: number) => Array.from({ length: n }, (_, i) => Array.from({ length: len }, (_, j) => 3 + ((i * 7919 + j * 104729) % 32000)));
const inputs = rnd(B, S), targets = rnd(B, T);

const seed = new Float32Array(B * T).fill(-1 / (B * T));
const { Worker } = await import("node:worker_threads");
const sampler = new Worker(`const fs=require("fs");const t0=Date.now();let max=0;setInterval(()=>{const m=+fs.readFileSync("/proc/self/status","utf8").match(/VmRSS:\\s+(\\d+)/)[1];if(m>max+50000||m<max-300000){max=m;console.log("rss",((Date.now()-t0)/1000).toFixed(1),(m/1024).toFixed(0))}},100)`, { eval: true });
for (let step = 0; step < Number(process.env.STEPS ?? 3); step++) {
  const t = performance.now();
  const out = await ort.run(weights, { inputs, targets, gradLogprobs: seed, dropoutSeed: step, adamw: { m, v, lr: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, bias1: 1 - 0.9 ** (step + 1), bias2: 1 - 0.999 ** (step + 1), decay: 1 - 1e-6, maxGradNorm: 1 } });
  const dt = (performance.now() - t) / 1000;
  const loss = -out.logprobs.reduce((a, b) => a + b, 0) / (B * T);
  console.log(`step ${step} ends at`, performance.now().toFixed(0));
  console.log(`step ${step}: ${dt.toFixed(2)} s, loss ${loss.toFixed(4)}, tokens/s ${((B * (S + T)) / dt).toFixed(0)}, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
}
const status = (await import("node:fs")).readFileSync("/proc/self/status", "utf8");
console.log(status.match(/VmHWM.*/)?.[0]);

process.exit(0);
