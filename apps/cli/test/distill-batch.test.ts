import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSample, trainEvalSplit } from "@lmcot/datasets";
import { batchCostUsd, costUsd } from "@lmcot/llm";
import { type BatchRequestInfo, type BatchServer, batchServer } from "@lmcot/llm/testing";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "./rewards-helpers";
import { bin, lmcot, lmcotEnv } from "./run-cli";

const KEY = "sk-test-distill-batch0123456789";
const USAGE = { inputTokens: 200, outputTokens: 20 };
let server: BatchServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The teacher: a rationale and the gold answer of the question the request asks. */
async function teacherServer(pollsToEnd?: number): Promise<BatchServer> {
  const train = trainEvalSplit(await loadSample("hotpotqa"), 20, 0).train;
  const answer = ({ body }: BatchRequestInfo) => {
    const text = JSON.stringify(body);
    const example = train.find((e) => text.includes(JSON.stringify(e.question).slice(1, -1)));
    return { text: `Reasoning: the passages say so. Prediction: ${example?.answer ?? "?"}`, ...USAGE };
  };
  server = await batchServer({ apiKey: KEY, answer, ...(pollsToEnd ? { pollsToEnd } : {}) });
  return server;
}

const distillEnv = (s: BatchServer) => s.env(KEY);

const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n").filter(Boolean);

describe("lmcot distill --batch", () => {
  it("sends every question as one OpenAI batch at batch prices; a re-run submits nothing", async () => {
    const s = await teacherServer();
    const out = join(mkdtempSync(join(tmpdir(), "lmcot-distill-batch-")), "d");
    const args = ["distill", "--teacher", "openai:gpt-4o-mini", "--out", out, "--no-cache", "--json"];
    const first = await lmcotEnv(distillEnv(s), ...args, "--batch", "--batch-poll", "0.02");
    expect(first.code, first.stderr).toBe(0);
    expect(s.created).toHaveLength(1);
    expect(s.created[0]!.customIds).toHaveLength(37);
    expect(first.stderr).toMatch(/batch \S+: submitted 37 requests to openai:gpt-4o-mini/);
    expect(lines(join(out, "kept.jsonl"))).toHaveLength(37);
    const summary = JSON.parse(first.stdout);
    const batch = batchCostUsd("openai:gpt-4o-mini", USAGE)!;
    expect(summary.costUsd).toBeCloseTo(37 * batch, 10);
    expect(summary.costUsd).toBeCloseTo((37 * costUsd("openai:gpt-4o-mini", USAGE)!) / 2, 10);
    expect(lines(join(out, "batches.jsonl")).length).toBeGreaterThan(0);

    const teacher = readFileSync(join(out, "teacher.jsonl"), "utf8");
    const again = await lmcotEnv(distillEnv(s), ...args, "--batch", "--batch-poll", "0.02");
    expect(again.code, again.stderr).toBe(0);
    expect(s.created).toHaveLength(1);
    expect(readFileSync(join(out, "teacher.jsonl"), "utf8")).toBe(teacher);
    expect(JSON.parse(again.stdout).costUsd).toBeCloseTo(summary.costUsd, 10);
  });

  it("puts every sample of --samples into the same Anthropic batch", async () => {
    const s = await teacherServer();
    const out = join(mkdtempSync(join(tmpdir(), "lmcot-distill-batch-")), "d");
    const r = await lmcotEnv(
      distillEnv(s),
      ...["distill", "--teacher", "anthropic:claude-3-5-haiku-latest", "--out", out, "--no-cache"],
      ...["--samples", "2", "--batch", "--batch-poll", "0.02", "--json"],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(s.created).toHaveLength(1);
    expect(s.created[0]).toMatchObject({ provider: "anthropic" });
    expect(s.created[0]!.customIds).toHaveLength(74);
    expect(lines(join(out, "kept.jsonl"))).toHaveLength(74);
    const summary = JSON.parse(r.stdout);
    expect(summary.costUsd).toBeCloseTo(74 * batchCostUsd("anthropic:claude-3-5-haiku-latest", USAGE)!, 10);
  });

  it("after Ctrl-C says which batch keeps running; the re-run re-attaches to it", async () => {
    const s = await teacherServer(1_000_000);
    const out = join(mkdtempSync(join(tmpdir(), "lmcot-distill-batch-")), "d");
    const args = ["distill", "--teacher", "openai:gpt-4o-mini", "--out", out, "--no-cache"];
    const batch = [...args, "--batch", "--batch-poll", "0.02"];
    const child = spawn(process.execPath, [bin, ...batch], {
      env: { ...process.env, ...distillEnv(s) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await until(() => s.created.length === 1 && stderr.includes("submitted"));
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    const id = s.created[0]!.id;
    expect(stderr).toContain(`1 batch keep running at the provider (${id})`);
    expect(stderr).toContain("Re-run the same command");
    s.end(id);
    const again = await lmcotEnv(distillEnv(s), ...batch);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`batch ${id}: re-attached`);
    expect(s.created).toHaveLength(1);
    expect(lines(join(out, "kept.jsonl"))).toHaveLength(37);
  });

  it("--batch with a model without a batch API is a usage error naming why", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-distill-batch-"));
    const offline = await lmcot(
      "distill",
      "--teacher",
      "extractive:reader",
      "--out",
      join(dir, "a"),
      "--batch",
    );
    expect(offline.code).toBe(2);
    expect(offline.stderr).toContain("extractive:reader has no batch API");
    const compatible = await lmcot(
      ...["distill", "--teacher", "openai-compatible:http://127.0.0.1:9/v1#qwen", "--out", join(dir, "b")],
      "--batch",
    );
    expect(compatible.code).toBe(2);
    expect(compatible.stderr).toContain("has no batch API");
    const poll = await lmcot(
      "distill",
      "--teacher",
      "extractive:reader",
      "--out",
      join(dir, "c"),
      "--batch-poll",
      "1",
    );
    expect(poll.code).toBe(2);
    expect(poll.stderr).toContain("need --batch");
  });
});
