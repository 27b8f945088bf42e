import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { faultServer } from "@lmcot/llm/testing";
import { describe, expect, it } from "vitest";
import { bin, lmcot, lmcotEnv } from "./run-cli";

const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n");

/** A micro KD run on three pairs: its command line, output folder and metrics line count. */
function kdRun(name: string, config: object, flags: string[] = []) {
  const root = mkdtempSync(join(tmpdir(), `lmcot-train-${name}-`));
  const data = join(root, "pairs.jsonl");
  writeFileSync(
    data,
    ["who wrote it ? ada wrote it .", "where is it ? it is in paris .", "when was it ? it was in 1890 ."]
      .map((t) => JSON.stringify({ input: t.split(" ? ")[0], target: t.split(" ? ")[1] }))
      .join("\n"),
  );
  const file = join(root, "kd.json");
  writeFileSync(file, JSON.stringify({ model: "micro", batchSize: 1, evalFraction: 0, ...config }));
  const out = join(root, "kd");
  const args = ["train", "kd", "--data", data, "--out", out, "--config", file, "--no-onnx", ...flags];
  const metrics = join(out, "metrics.jsonl");
  const count = () =>
    existsSync(metrics) ? readFileSync(metrics, "utf8").split("\n").filter(Boolean).length : 0;
  return { out, args, metrics, count };
}

describe("lmcot train", () => {
  it("distil → kd → rl on the bundled sample, offline; the models run through lmcot ask", async () => {
    const root = mkdtempSync(join(tmpdir(), "lmcot-train-cli-"));
    const distill = join(root, "distill");
    expect((await lmcot("distill", "--teacher", "extractive:reader", "--out", distill)).code).toBe(0);

    const kd = join(root, "kd");
    const k = await lmcot(
      "train",
      "kd",
      "--data",
      distill,
      "--out",
      kd,
      "--model",
      "micro",
      "--epochs",
      "3",
      "--seed",
      "0",
    );
    expect(k.code, k.stderr).toBe(0);
    expect(k.stdout).toMatch(/^KD: 5 pairs, [\d,]+ parameters, 3 steps; final loss \d/);
    expect(lines(join(kd, "metrics.jsonl"))).toHaveLength(3);
    for (const f of [
      "config.json",
      "tokenizer.json",
      "model.safetensors",
      "onnx/encoder_model.onnx",
      "onnx/decoder_model_merged.onnx",
    ])
      expect(existsSync(join(kd, f)), f).toBe(true);

    const rl = join(root, "rl");
    const args = [
      "train",
      "rl",
      "--policy",
      kd,
      "--out",
      rl,
      "--large",
      "extractive:reader",
      "--preset",
      "task-only",
    ];
    const r = await lmcot(...args, "--steps", "2", "--batch-size", "4", "--max-new-tokens", "8");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PPO: 37 queries, 2 steps; reward [\d.]+ \(first step\)/);
    expect(r.stdout).toMatch(/reward calls: large LM 8, judge 0/);
    const metrics = lines(join(rl, "metrics.jsonl")).map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1, 2]);
    for (const key of [
      "rewardMean",
      "rewardStd",
      "kl",
      "klCoef",
      "entropy",
      "clipFraction",
      "valueLoss",
      "explainedVariance",
      "taskReward",
    ])
      expect(metrics[0], key).toHaveProperty(key);
    expect(r.stderr).toMatch(/rl step 2\/2 \d+ tok\/s, ETA .*, reward/);

    const again = await lmcot(...args, "--steps", "3", "--batch-size", "4", "--max-new-tokens", "8");
    expect(again.stderr).toMatch(/resuming from .*step-2/);
    expect(lines(join(rl, "metrics.jsonl")).map((l) => JSON.parse(l).step)).toEqual([1, 2, 3]);

    const ask = await lmcot(
      "ask",
      "--small",
      `transformers:${rl}`,
      "--example",
      "hotpotqa:5a8b57f25542995d1e6f1371",
      "--json",
    );
    expect(ask.code, ask.stderr).toBe(0);
    expect(typeof JSON.parse(ask.stdout).rationale).toBe("string");

    // Reward calls that fail and are scored by --on-call-failure: training goes on, the command fails.
    const server = await faultServer({ fault: 500, failShare: 0.5 });
    try {
      const failing = await lmcotEnv(
        { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: "sk-test-train0123456789abcdefgh" },
        ...["train", "rl", "--policy", kd, "--out", join(root, "rl-failing"), "--preset", "task-only"],
        ...["--large", "openai:gpt-4o-mini", "--retries", "0", "--no-cache", "--on-call-failure", "zero"],
        ...["--steps", "1", "--batch-size", "4", "--max-new-tokens", "8"],
      );
      expect(server.failed, `${server.seen.length} requests; ${failing.stderr}`).toBeGreaterThan(0);
      expect(failing.code).toBe(1);
      expect(failing.stderr).toContain(
        `${server.failed} reward call${server.failed === 1 ? "" : "s"} failed`,
      );
    } finally {
      await server.close();
    }
  }, 120_000);

  it("a SIGKILLed kd run resumes from its newest checkpoint with one metrics line per step", async () => {
    const { out, args, metrics, count } = kdRun("kill", { epochs: 100, saveEvery: 5 });
    const child = spawn(process.execPath, [bin, ...args], { stdio: "ignore" });
    while (count() < 12) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const killedAt = count();
    expect(killedAt).toBeLessThan(300);

    const resumed = await lmcot(...args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from .*step-\d+/);
    const steps = lines(metrics).map((l) => JSON.parse(l).step);
    expect(steps).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(existsSync(join(out, "model.safetensors"))).toBe(true);
  }, 120_000);

  it("Ctrl-C saves a checkpoint of the finished steps and exits 130; a re-run resumes from it", async () => {
    // saveEvery far past the stop: the only checkpoint is the one Ctrl-C writes.
    const { out, args, metrics, count } = kdRun("int", { epochs: 60, saveEvery: 1000 }, [
      "--grad-accum",
      "2",
    ]);
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    while (count() < 1) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGINT");
    const code = await new Promise((r) => child.once("exit", r));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/stopped; the newest checkpoint is in/);
    // trained in a child with glibc's mmap threshold fixed; Ctrl-C reached it through this process
    if (process.platform === "linux") expect(stderr).toContain("engine: onnxruntime, ");
    if (process.platform === "linux") expect(stderr).toContain("glibc mmap threshold fixed");
    const stoppedAt = count();
    const saved = JSON.parse(
      readFileSync(
        join(
          out,
          "checkpoints",
          readFileSync(join(out, "checkpoints", "latest"), "utf8").trim(),
          "trainer_state.json",
        ),
        "utf8",
      ),
    );
    expect(saved.step).toBe(stoppedAt);
    expect(stoppedAt).toBeLessThan(120);

    const resumed = await lmcot(...args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming from ${join(out, "checkpoints", `step-${stoppedAt}`)}`);
    expect(resumed.stderr).toMatch(/kd step 120\/120 .* tok\/s, .* elapsed, ETA /);
    expect(lines(metrics).map((l) => JSON.parse(l).step)).toEqual(
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
  }, 120_000);

  it("bad input is a clear error naming the file, line and field", async () => {
    const root = mkdtempSync(join(tmpdir(), "lmcot-train-bad-"));
    const data = join(root, "pairs.jsonl");
    writeFileSync(
      data,
      `${JSON.stringify({ prompt: "a", completion: "b" })}\n${JSON.stringify({ prompt: "a", completion: 7 })}\n`,
    );
    const bad = await lmcot("train", "kd", "--data", data, "--out", join(root, "kd"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/pairs\.jsonl.*line 2.*completion/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const noPolicy = await lmcot(
      "train",
      "rl",
      "--policy",
      join(root, "nope"),
      "--out",
      join(root, "rl"),
      "--large",
      "extractive:reader",
    );
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toMatch(/--policy .*not a model folder/);
    const model = await lmcot("train", "kd", "--data", data, "--out", join(root, "kd"), "--model", "huge");
    expect(model.code).toBe(2);
  });

  it("one process per output folder: a second one exits 2 naming the first", async () => {
    const root = mkdtempSync(join(tmpdir(), "lmcot-train-lock-"));
    const data = join(root, "pairs.jsonl");
    writeFileSync(data, `${JSON.stringify({ prompt: "a", completion: "b" })}\n`);
    const out = join(root, "kd");
    mkdirSync(out);
    const holder = { pid: process.pid, host: hostname(), command: "lmcot train kd", startedAt: "now" };
    writeFileSync(join(out, ".lock"), JSON.stringify(holder));
    const r = await lmcot("train", "kd", "--data", data, "--out", out, "--model", "micro");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`is being written by another process: lmcot train kd (pid ${process.pid}`);
    expect(existsSync(join(out, "metrics.jsonl"))).toBe(false);
  });
});
