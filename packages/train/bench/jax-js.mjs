/**
 * The @jax-js/jax side of bench/libraries.ts, with the same workloads: fp32 matmul GFLOP/s at 256² and
 * 512², the 64×256 → 256 → 256 MLP step (SGD), and the attention + feed-forward block step (d_model
 * 256, 4 heads, d_ff 1024, batch 8 × 64 tokens, Adam). jax-js is not a dependency of lmcot, so this
 * runs from a scratch folder:
 *   mkdir /tmp/jaxbench && cd /tmp/jaxbench && npm init -y && npm i @jax-js/jax@0.1.25
 *   cp <repo>/packages/train/bench/jax-js.mjs . && node jax-js.mjs
 * jax-js arrays have move semantics: every use consumes an array, `.ref` keeps it for another use.
 */
import { init, jit, nn, numpy as np, random, valueAndGrad } from "@jax-js/jax";

await init("wasm");

async function matmulGflops(n, reps) {
  const a = random.normal(random.key(0), [n, n]);
  const b = random.normal(random.key(1), [n, n]);
  const f = jit((x, y) => np.matmul(x, y));
  await f(a.ref, b.ref).data();
  const start = performance.now();
  for (let i = 0; i < reps; i++) await f(a.ref, b.ref).data();
  return (2 * n ** 3 * reps) / ((performance.now() - start) / 1000) / 1e9;
}

async function stepsPerSecond(step, reps) {
  await step();
  const start = performance.now();
  for (let i = 0; i < reps; i++) await step();
  return reps / ((performance.now() - start) / 1000);
}

/** 64×256 → relu 256 → 256, mean-square loss, SGD 0.01. */
function mlpStep() {
  const loss = (p, x) => {
    const o = np.matmul(np.maximum(np.matmul(x, p.w1), 0), p.w2);
    return np.mean(o.ref.mul(o));
  };
  const grads = jit((p, x) => valueAndGrad(loss)(p, x));
  const x = random.normal(random.key(4), [64, 256]);
  let p = {
    w1: random.normal(random.key(2), [256, 256]).mul(0.05),
    w2: random.normal(random.key(3), [256, 256]).mul(0.05),
  };
  return async () => {
    const [l, g] = grads({ w1: p.w1.ref, w2: p.w2.ref }, x.ref);
    p = { w1: p.w1.sub(g.w1.mul(0.01)), w2: p.w2.sub(g.w2.mul(0.01)) };
    await l.data();
  };
}

/** Pre-norm self-attention + relu FF block, mean-square loss, Adam 1e-3 (as bench/libraries.ts). */
function blockStep() {
  const [d, heads, b, s] = [256, 4, 8, 64];
  const dk = d / heads;
  const w = (shape, seed) => random.normal(random.key(seed), shape).mul(0.05);
  let p = {
    wq: w([d, d], 6),
    wk: w([d, d], 7),
    wv: w([d, d], 8),
    wo: w([d, d], 9),
    wi: w([d, 4 * d], 10),
    wf: w([4 * d, d], 11),
  };
  const x = random.normal(random.key(12), [b * s, d]);
  const split = (t) => t.reshape([b, s, heads, dk]).transpose([0, 2, 1, 3]);
  const loss = (p, x) => {
    const n = x.ref.div(np.sqrt(x.ref.mul(x.ref).mean(-1, { keepdims: true }).add(1e-6)));
    const q = split(np.matmul(n.ref, p.wq));
    const k = split(np.matmul(n.ref, p.wk));
    const v = split(np.matmul(n, p.wv));
    const att = nn.softmax(np.matmul(q, np.swapaxes(k, -1, -2)), -1);
    const ctx = np
      .matmul(att, v)
      .transpose([0, 2, 1, 3])
      .reshape([b * s, d]);
    const h = x.add(np.matmul(ctx, p.wo));
    const out = h.ref.add(np.matmul(nn.relu(np.matmul(h, p.wi)), p.wf));
    return out.ref.mul(out).mean();
  };
  const grads = jit((p, x) => valueAndGrad(loss)(p, x));
  const adam = jit((p, g, m, v, lr) => {
    const m2 = m.mul(0.9).add(g.ref.mul(0.1));
    const v2 = v.mul(0.999).add(g.ref.mul(g).mul(0.001));
    return [p.sub(m2.ref.mul(lr).div(np.sqrt(v2.ref).add(1e-8))), m2, v2];
  });
  const names = Object.keys(p);
  let m = Object.fromEntries(names.map((k) => [k, np.zeros(p[k].shape)]));
  let v = Object.fromEntries(names.map((k) => [k, np.zeros(p[k].shape)]));
  let t = 0;
  return async () => {
    t += 1;
    const [l, g] = grads(Object.fromEntries(names.map((k) => [k, p[k].ref])), x.ref);
    const lr = np.array((1e-3 * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t));
    const [p2, m2, v2] = [{}, {}, {}];
    for (const k of names) [p2[k], m2[k], v2[k]] = adam(p[k], g[k], m[k], v[k], lr.ref);
    lr.dispose();
    [p, m, v] = [p2, m2, v2];
    await l.data();
    for (const k of names) await p[k].ref.data();
  };
}

const r = {
  matmul256: await matmulGflops(256, 40),
  matmul512: await matmulGflops(512, 10),
  mlpSteps: await stepsPerSecond(mlpStep(), 50),
  blockSteps: await stepsPerSecond(blockStep(), 10),
};
console.log("library           matmul256 GFLOP/s  matmul512 GFLOP/s  MLP steps/s  block steps/s");
console.log(
  `jax-js 0.1.25 wasm ${r.matmul256.toFixed(2).padStart(16)} ${r.matmul512.toFixed(2).padStart(18)} ${r.mlpSteps.toFixed(2).padStart(12)} ${r.blockSteps.toFixed(2).padStart(14)}`,
);
