import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchCostUsd, costUsd } from "@lmcot/llm";
import { type BatchServer, batchServer } from "@lmcot/llm/testing";
import { afterEach, describe, expect, it } from "vitest";
import { modelAt, runFile } from "./rewards-helpers";
import { lmcot, lmcotEnv } from "./run-cli";

const KEY = "sk-test-rewards-batch0123456789";
const USAGE = { inputTokens: 100, outputTokens: 3 };
let server: BatchServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The judge: `Score: 4` for every one-aspect prompt. */
async function judgeServer(): Promise<BatchServer> {
  server = await batchServer({ apiKey: KEY, answer: () => ({ text: "Score: 4", ...USAGE }) });
  return server;
}

const env = (s: BatchServer) => s.env(KEY);

async function score(judge: string) {
  const s = await judgeServer();
  const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-batch-"));
  const run = await runFile(dir);
  const out = join(dir, "rewards.jsonl");
  const args = ["rewards", "score", "--run", run, "--judge", judge, "--out", out, "--no-cache", "--json"];
  const first = await lmcotEnv(env(s), ...args, "--batch", "--batch-poll", "0.02");
  return { s, dir, out, args, first };
}

describe("lmcot rewards score --batch", () => {
  it("sends every judge call as one OpenAI batch at batch prices; a re-run submits nothing", async () => {
    const { s, dir, out, args, first } = await score("openai:gpt-4o-mini");
    expect(first.code, first.stderr).toBe(0);
    // 3 items × 8 aspects, all in one batch although --concurrency is 8.
    expect(s.created).toHaveLength(1);
    expect(s.created[0]!.customIds).toHaveLength(24);
    const summary = JSON.parse(first.stdout);
    expect(summary.items).toBe(3);
    expect(summary.meanAspectReward).toBe(6);
    expect(summary.costUsd).toBeCloseTo(24 * batchCostUsd("openai:gpt-4o-mini", USAGE)!, 10);
    expect(summary.costUsd).toBeCloseTo((24 * costUsd("openai:gpt-4o-mini", USAGE)!) / 2, 10);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(3);
    // The journal sits next to --out.
    expect(existsSync(join(dir, "rewards.batches.jsonl"))).toBe(true);
    expect(existsSync(join(dir, "rewards.batches"))).toBe(true);

    const again = await lmcotEnv(env(s), ...args, "--batch", "--batch-poll", "0.02");
    expect(again.code, again.stderr).toBe(0);
    expect(s.created).toHaveLength(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ items: 3, resumed: 3 });
  });

  it("sends every judge call as one Anthropic batch", async () => {
    const { s, out, first } = await score("anthropic:claude-3-5-haiku-latest");
    expect(first.code, first.stderr).toBe(0);
    expect(s.created).toHaveLength(1);
    expect(s.created[0]).toMatchObject({ provider: "anthropic" });
    expect(s.created[0]!.customIds).toHaveLength(24);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(3);
    const summary = JSON.parse(first.stdout);
    expect(summary.costUsd).toBeCloseTo(24 * batchCostUsd("anthropic:claude-3-5-haiku-latest", USAGE)!, 10);
  });

  it("--batch with a judge without a batch API, or without --out, is a usage error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-batch-"));
    const run = await runFile(dir);
    const out = join(dir, "rewards.jsonl");
    const base = ["rewards", "score", "--run", run, "--out", out, "--batch"];
    const offline = await lmcot(...base, "--judge", "extractive:reader");
    expect(offline.code).toBe(2);
    expect(offline.stderr).toContain("extractive:reader has no batch API");
    const compatible = await lmcot(...base, "--judge", modelAt("http://127.0.0.1:9"));
    expect(compatible.code).toBe(2);
    expect(compatible.stderr).toContain("has no batch API");
    expect(existsSync(out)).toBe(false);
    const noOut = await lmcot("rewards", "score", "--run", run, "--judge", "openai:gpt-4o-mini", "--batch");
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("--batch needs --out");
  });
});
