import { execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { bin } from "./run-cli";

const exec = promisify(execFile);
const example = (name: string) => resolve(__dirname, "..", "..", "..", "examples", name);

/** `lmcot` in `cwd` (the examples' relative paths land there), offline, failing the test on a non-zero exit. */
async function lmcotIn(cwd: string, ...args: string[]) {
  const env = { ...process.env, CI: "1", OPENAI_API_KEY: "", ANTHROPIC_API_KEY: "" };
  return exec(process.execPath, [bin, ...args], { cwd, env });
}

describe("examples/", () => {
  it("bench-paper-grid.yaml checks, estimates and runs offline", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "lmcot-example-bench-"));
    const dry = await lmcotIn(cwd, "bench", "--config", example("bench-paper-grid.yaml"), "--dry-run");
    expect(dry.stdout.trim().split("\n")).toHaveLength(2 * 3 + 1);
    expect(dry.stdout).toMatch(/^TOTAL: 66 examples, 66 large-LM calls/m);
    const run = await lmcotIn(cwd, "bench", "--config", example("bench-paper-grid.yaml"));
    expect(run.stdout).toMatch(/lm-guided/);
    expect(run.stdout).toContain(join("runs", "paper-grid"));
  });

  it("distill.yaml → train-kd.yaml → train-rl.yaml run offline, one after the other", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "lmcot-example-train-"));
    const distill = await lmcotIn(cwd, "distill", "--config", example("distill.yaml"));
    expect(distill.stdout).toMatch(/extractive:reader: kept \d+ of 37/);
    const kd = await lmcotIn(cwd, "train", "kd", "--config", example("train-kd.yaml"), "--no-onnx");
    expect(kd.stdout).toMatch(/KD: \d+ pairs, [\d,]+ parameters, 4 steps/);
    const rl = await lmcotIn(cwd, "train", "rl", "--config", example("train-rl.yaml"));
    expect(rl.stdout).toMatch(/PPO: \d+ queries, 2 steps/);
  }, 120_000);

  it("reproduce.yaml runs every stage offline, then skips them all", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "lmcot-example-reproduce-"));
    const run = await lmcotIn(cwd, "reproduce", "--config", example("reproduce.yaml"));
    expect(run.stdout).toMatch(/^report\s+ran\b/m);
    expect(run.stdout).toContain(join("runs", "reproduce-example", "report", "report.md"));
    const again = await lmcotIn(cwd, "reproduce", "--config", example("reproduce.yaml"));
    expect(again.stdout).not.toMatch(/\bran\b/);
  }, 300_000);

  it("rewards-serve.yaml serves /health on loopback and stops on SIGTERM", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "lmcot-example-serve-"));
    const child = spawn(
      process.execPath,
      [bin, "rewards", "serve", "--config", example("rewards-serve.yaml"), "--port", "0"],
      { cwd },
    );
    let stdout = "";
    let exitedEarly = false;
    child.stdout.on("data", (c) => (stdout += c));
    child.on("exit", () => (exitedEarly = true));
    while (!/reward server on (\S+) /.test(stdout) && !exitedEarly)
      await new Promise((r) => setTimeout(r, 20));
    expect(exitedEarly).toBe(false);
    const url = /reward server on (\S+) /.exec(stdout)![1]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
