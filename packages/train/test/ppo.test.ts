import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "@lmcot/model-writer";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { useWasmBackend } from "../src/backend";
import { KdTrainer } from "../src/kd/trainer";
import { explainedVariance, gae, KlController, whiten } from "../src/ppo/advantages";
import type { PpoConfigInput } from "../src/ppo/config";
import type { RewardFunction } from "../src/ppo/rewards";
import { type PpoStepMetrics, PpoTrainer } from "../src/ppo/trainer";
import { TrainedRationaleModel } from "../src/rationale-model";

/**
 * Each question has two distilled rationales: one through the bridge entity, one straight to the
 * answer. KD learns both (about half the samples name the bridge); the synthetic reward pays 1 for
 * naming it, so PPO should move the policy to the bridge rationale.
 */
const questions = [
  {
    input:
      "question : which country is the city where ada was born in ? context : ada was born in lyon . lyon is in france .",
    bridge: "lyon",
    via: "ada was born in lyon . lyon is in france .",
    direct: "so the answer is france .",
  },
  {
    input:
      "question : who directed the film that won the prize ? context : the prize went to blue river . blue river was directed by kim .",
    bridge: "blue river",
    via: "the prize went to blue river . kim directed blue river .",
    direct: "so the answer is kim .",
  },
  {
    input:
      "question : what river flows through the capital of peru ? context : lima is the capital of peru . the rimac flows through lima .",
    bridge: "lima",
    via: "the capital of peru is lima . the rimac flows through lima .",
    direct: "so the answer is rimac .",
  },
  {
    input:
      "question : when was the author of dune born ? context : dune was written by herbert . herbert was born in 1920 .",
    bridge: "herbert",
    via: "dune was written by herbert . herbert was born in 1920 .",
    direct: "so the answer is 1920 .",
  },
];
type Q = (typeof questions)[number];

const mentionsBridge: RewardFunction<Q> = async (rollouts) =>
  rollouts.map((r) => (r.rationale.includes(r.data.bridge) ? 1 : 0));

let dir: string;
let kd: string;
beforeAll(async () => {
  await useWasmBackend();
  dir = await mkdtemp(join(tmpdir(), "lmcot-ppo-"));
  kd = join(dir, "kd");
  const pairs = questions.flatMap((q) => [
    { input: q.input, target: q.via },
    { input: q.input, target: q.direct },
  ]);
  const kdRun = await new KdTrainer({
    model: "micro",
    seed: 1,
    epochs: 150,
    dropoutRate: 0,
    batchSize: 8,
    evalFraction: 0,
    optimizer: { learningRate: 1e-2, warmupSteps: 5, weightDecay: 0 },
    saveEvery: 1000,
    gradientCheckpointing: false, // see `config` below
  }).train(pairs, kd, { exportOnnx: false });
  expect(kdRun.finalLoss).toBeLessThan(0.2);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const queries = [...questions, ...questions, ...questions, ...questions].map((q) => ({
  input: q.input,
  data: q,
}));
const config: PpoConfigInput = {
  seed: 4,
  steps: 25,
  batchSize: 16,
  miniBatchSize: 8,
  ppoEpochs: 4,
  maxNewTokens: 14,
  kl: { coef: 0.3, adaptive: false },
  optimizer: { learningRate: 5e-4 },
  saveEvery: 1000,
  // The bridge test's thresholds belong to this seeded trajectory; recomputed blocks give the same
  // gradients to float rounding (memory-ops.test.ts) but another sampled trajectory (0.77, not 0.83).
  gradientCheckpointing: false,
};

/** Share of 16 sampled rationales per question (temperature 1) that name the bridge entity. */
async function bridgeRate(folder: string): Promise<number> {
  const model = await TrainedRationaleModel.load(folder);
  const outputs = await model.generate(
    questions.map((q) => q.input),
    { temperature: 1, numReturnSequences: 16, seed: 99, maxNewTokens: 14 },
  );
  await model.dispose();
  return (
    outputs.filter((o) => o.text.includes((questions[o.inputIndex] as Q).bridge)).length / outputs.length
  );
}

async function run(name: string, extra: PpoConfigInput = {}) {
  const metrics: PpoStepMetrics[] = [];
  const out = join(dir, name);
  const result = await new PpoTrainer({ ...config, ...extra }).train(kd, queries, mentionsBridge, out, {
    exportOnnx: false,
    onStep: (m) => metrics.push(m),
  });
  return { out, result, metrics };
}

describe("PPO trainer", () => {
  test("raises a synthetic reward (naming the bridge entity) while the KL stays bounded", async () => {
    const { out, metrics } = await run("bridge");
    const before = await bridgeRate(kd);
    const after = await bridgeRate(out);
    const lastTen = metrics.slice(-10).reduce((a, m) => a + m.rewardMean, 0) / 10;
    console.log(
      `bridge named: KD ${before.toFixed(2)} → PPO ${after.toFixed(2)}; reward step 1 ${metrics[0]?.rewardMean.toFixed(2)} → last 10 ${lastTen.toFixed(2)}`,
    );
    expect(before).toBeLessThan(0.7);
    expect(after).toBeGreaterThan(0.8);
    expect(after - before).toBeGreaterThan(0.25);
    expect(lastTen - (metrics[0]?.rewardMean ?? 1)).toBeGreaterThan(0.25);
    for (const m of metrics) {
      expect(m.kl).toBeLessThan(10);
      for (const key of [
        "entropy",
        "clipFraction",
        "valueLoss",
        "policyLoss",
        "approxKl",
        "rewardStd",
      ] as const)
        expect(Number.isFinite(m[key]), key).toBe(true);
    }
    const logged = (await readFile(join(out, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(logged).toHaveLength(25);
    const policy = await TrainedRationaleModel.load(out);
    const greedy = await policy.generate(
      questions.map((q) => q.input),
      { maxNewTokens: 14 },
    );
    expect(
      greedy.filter((g, i) => g.text.includes((questions[i] as Q).bridge)).length,
    ).toBeGreaterThanOrEqual(3);
    await policy.dispose();
  });
});

describe("PPO runs", () => {
  const short: PpoConfigInput = { steps: 4, saveEvery: 2, gradientCheckpointing: true };
  const steps = async (out: string) =>
    (await readFile(join(out, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as PpoStepMetrics);
  const sameButTime = (ms: PpoStepMetrics[]) =>
    ms.map(
      ({
        seconds: _s,
        rolloutSeconds: _r,
        elapsedSeconds: _e,
        etaSeconds: _eta,
        tokensPerSecond: _t,
        ...m
      }) => m,
    );

  test("identical seeds give identical runs; a different seed does not", async () => {
    const a = await run("seed-a", short);
    const b = await run("seed-b", short);
    const c = await run("seed-c", { ...short, seed: 5 });
    expect(sameButTime(b.metrics)).toEqual(sameButTime(a.metrics));
    expect(sameButTime(c.metrics)).not.toEqual(sameButTime(a.metrics));
  });

  test("a run stopped mid-way resumes from its checkpoint (value head, optimizer, β) to the same end", async () => {
    const straight = await run("straight", {
      ...short,
      kl: { coef: 0.3, adaptive: true, target: 1, horizon: 50 },
    });
    const out = join(dir, "stopped");
    const abort = new AbortController();
    const trainer = new PpoTrainer({
      ...config,
      ...short,
      kl: { coef: 0.3, adaptive: true, target: 1, horizon: 50 },
    });
    await expect(
      trainer.train(kd, queries, mentionsBridge, out, {
        exportOnnx: false,
        signal: abort.signal,
        onStep: (m) => m.step === 3 && abort.abort(),
      }),
    ).rejects.toThrow();
    const resumed = await trainer.train(kd, queries, mentionsBridge, out, {
      exportOnnx: false,
      resume: true,
    });
    expect(resumed.resumedFrom).toBe(3); // Ctrl-C saved the step it stopped after
    expect(sameButTime(await steps(out))).toEqual(sameButTime(straight.metrics));
    const a = await readSafetensors(join(straight.out, "value_head.safetensors"));
    const b = await readSafetensors(join(out, "value_head.safetensors"));
    for (const [name, t] of a) expect(Array.from(b.get(name)?.data ?? []), name).toEqual(Array.from(t.data));
  });

  test("a reward function that returns the wrong number of scores is a clear error", async () => {
    const bad: RewardFunction<Q> = async () => [1];
    await expect(
      new PpoTrainer({ ...config, steps: 1 }).train(kd, queries, bad, join(dir, "bad"), {
        exportOnnx: false,
      }),
    ).rejects.toThrow(/returned 1 scores for 16 rollouts/);
  });
});

describe("PPO pieces", () => {
  test("GAE matches a hand computation", () => {
    const { advantages, returns } = gae([0, 0, 1], [0.5, 0.25, 0.75], 0.9, 0.8);
    // δ2 = 1 − 0.75; δ1 = 0 + 0.9·0.75 − 0.25; δ0 = 0 + 0.9·0.25 − 0.5; A_t = δ_t + γλ·A_{t+1}
    const d2 = 0.25;
    const d1 = 0.9 * 0.75 - 0.25;
    const d0 = 0.9 * 0.25 - 0.5;
    const a2 = d2;
    const a1 = d1 + 0.72 * a2;
    const a0 = d0 + 0.72 * a1;
    expect(advantages[0]).toBeCloseTo(a0, 12);
    expect(advantages[1]).toBeCloseTo(a1, 12);
    expect(advantages[2]).toBeCloseTo(a2, 12);
    expect(returns[0]).toBeCloseTo(a0 + 0.5, 12);
    expect(returns[1]).toBeCloseTo(a1 + 0.25, 12);
    expect(returns[2]).toBeCloseTo(a2 + 0.75, 12);
  });

  test("whitening, explained variance and the adaptive KL controller", () => {
    const w = whiten([1, 2, 3, 4]);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 9);
    expect(w.reduce((a, b) => a + b * b, 0) / 4).toBeCloseTo(1, 6);
    const kept = whiten([1, 2, 3, 4], false);
    expect(kept.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(2.5, 9);
    expect(explainedVariance([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(explainedVariance([2, 2, 2], [1, 2, 3])).toBeCloseTo(0, 12);
    const fixed = new KlController(0.1);
    fixed.update(100, 8);
    expect(fixed.value).toBe(0.1);
    const adaptive = new KlController(0.1, { target: 6, horizon: 100 });
    adaptive.update(12, 10); // error clipped to +0.2 → β · (1 + 0.2 · 10 / 100)
    expect(adaptive.value).toBeCloseTo(0.102, 12);
    adaptive.update(3, 10); // error −0.5 clipped to −0.2
    expect(adaptive.value).toBeCloseTo(0.102 * 0.98, 12);
  });
});
