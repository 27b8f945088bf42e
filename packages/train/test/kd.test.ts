import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "@lmcot/model-writer";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { useWasmBackend } from "../src/backend";
import { readDistillation } from "../src/kd/data";
import { type KdConfigInput, KdTrainer } from "../src/kd/trainer";
import { TrainedRationaleModel } from "../src/rationale-model";

let dir: string;
beforeAll(async () => {
  await useWasmBackend();
  dir = await mkdtemp(join(tmpdir(), "lmcot-kd-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pairs = [
  {
    input: "question : who wrote hamlet ? context : hamlet was written by shakespeare .",
    target: "hamlet was written by shakespeare .",
  },
  {
    input: "question : where is the louvre ? context : the louvre is in paris .",
    target: "the louvre is in paris .",
  },
  {
    input: "question : when was the bridge built ? context : the bridge was built in 1890 .",
    target: "the bridge was built in 1890 .",
  },
  {
    input: "question : what color is the sky ? context : the sky is blue today .",
    target: "the sky is blue .",
  },
];

const tiny: KdConfigInput = {
  model: "micro",
  seed: 3,
  epochs: 60,
  batchSize: 4,
  evalFraction: 0,
  optimizer: { learningRate: 1e-2, warmupSteps: 5, schedule: "linear", weightDecay: 0 },
  saveEvery: 1000,
};

describe("KD trainer", () => {
  test("drives a tiny set to near-zero loss and greedy decoding reproduces the targets", async () => {
    const out = join(dir, "fit");
    // memorising four pairs is a check of the optimiser, not of regularisation: no dropout
    const result = await new KdTrainer({ ...tiny, dropoutRate: 0 }).train(pairs, out, { exportOnnx: false });
    expect(result.steps).toBe(60);
    expect(result.finalLoss).toBeLessThan(0.05);
    const model = await TrainedRationaleModel.load(out);
    const outputs = await model.generate(
      pairs.map((p) => p.input),
      { maxNewTokens: 12 },
    );
    expect(outputs.map((o) => o.text)).toEqual(pairs.map((p) => p.target));
    const metrics = (await readFile(join(out, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(60);
    expect(metrics[0].loss).toBeGreaterThan(2);
    await model.dispose();
  });

  test("a run killed mid-way and resumed ends with the same weights as an uninterrupted run", async () => {
    const config: KdConfigInput = { ...tiny, epochs: 8, saveEvery: 2 };
    const straight = join(dir, "straight");
    await new KdTrainer(config).train(pairs, straight, { exportOnnx: false });
    const killed = join(dir, "killed");
    const abort = new AbortController();
    await expect(
      new KdTrainer(config).train(pairs, killed, {
        exportOnnx: false,
        signal: abort.signal,
        onStep: (m) => m.step === 5 && abort.abort(),
      }),
    ).rejects.toThrow();
    const resumed = await new KdTrainer(config).train(pairs, killed, { exportOnnx: false, resume: true });
    expect(resumed.resumedFrom).toBe(5); // Ctrl-C saved the step it stopped after
    const a = await readSafetensors(join(straight, "model.safetensors"));
    const b = await readSafetensors(join(killed, "model.safetensors"));
    for (const [name, t] of a) expect(Array.from(b.get(name)?.data ?? []), name).toEqual(Array.from(t.data));
    const steps = (await readFile(join(killed, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test("identical seeds give identical runs; a different seed does not", async () => {
    const config: KdConfigInput = { ...tiny, epochs: 3 };
    const losses = async (seed: number, name: string) => {
      const out = join(dir, name);
      await new KdTrainer({ ...config, seed }).train(pairs, out, { exportOnnx: false });
      return (await readFile(join(out, "metrics.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).loss);
    };
    const first = await losses(11, "s1");
    expect(await losses(11, "s2")).toEqual(first);
    expect(await losses(12, "s3")).not.toEqual(first);
  });
});

describe("distillation data", () => {
  test("accepts input/target, TRL prompt/completion and seq2seq source/target lines", async () => {
    const file = join(dir, "mixed.jsonl");
    await writeFile(
      file,
      [
        { input: "a", target: "b" },
        { prompt: "c", completion: "d" },
        { source: "e", target: "f" },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    expect(await readDistillation(file)).toEqual([
      { input: "a", target: "b" },
      { input: "c", target: "d" },
      { input: "e", target: "f" },
    ]);
  });

  test("bad lines are reported with file, line and field", async () => {
    const file = join(dir, "bad.jsonl");
    await writeFile(
      file,
      `${JSON.stringify({ prompt: "x", completion: "y" })}\n${JSON.stringify({ prompt: "x", completion: 3 })}\n`,
    );
    await expect(readDistillation(file)).rejects.toThrow(/bad\.jsonl.*line 2.*completion|completion.*line 2/);
    await writeFile(file, "{not json\n");
    await expect(readDistillation(file)).rejects.toThrow(/line 1/);
    await writeFile(file, `${JSON.stringify({ question: "x" })}\n`);
    await expect(readDistillation(file)).rejects.toThrow(/input \/ prompt \/ source/);
  });
});
