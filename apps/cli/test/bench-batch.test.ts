import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchCostUsd, costUsd } from "@lmcot/llm";
import { type BatchServer, batchServer } from "@lmcot/llm/testing";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "./rewards-helpers";
import { bin, jsonl, lmcotEnv } from "./run-cli";

const KEY = "sk-test-batch0123456789abcdefghij";
const servers: BatchServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(options: Parameters<typeof batchServer>[0] = {}) {
  const server = await batchServer({ apiKey: KEY, ...options });
  servers.push(server);
  return server;
}

const MODELS = { openai: "openai:gpt-4o-mini", anthropic: "anthropic:claude-3-5-haiku-latest" } as const;

const env = (server: BatchServer) => ({ ...server.env(KEY), CI: "1" });

/** The whole grid (standard, CoT, LM-guided CoT with the offline selector) on 6 questions, as batches. */
const gridArgs = (provider: keyof typeof MODELS, out: string) => [
  "bench",
  "--batch",
  "--batch-poll",
  "0.02",
  "--large",
  MODELS[provider],
  "--datasets",
  "hotpotqa:6",
  "--out",
  out,
  "--no-cache",
];

const outDir = () => join(mkdtempSync(join(tmpdir(), "lmcot-bench-batch-")), "run");

describe("lmcot bench --batch", () => {
  for (const provider of ["openai", "anthropic"] as const)
    it(`${provider}: the grid runs end to end as batches, at batch prices`, async () => {
      const server = await serve({ shuffle: true });
      const out = outDir();
      const r = await lmcotEnv(env(server), ...gridArgs(provider, out));
      expect(r.stderr).toMatch(/batch \S+: submitted \d+ requests/);
      expect(r.code).toBe(0);
      const records = jsonl(join(out, "run.jsonl"));
      expect(records).toHaveLength(18);
      expect(new Set(records.map((x) => x.key)).size).toBe(18);
      // Every cell's first calls went out together: one batch per round, not one per cell.
      const sent = server.created.flatMap((b) => b.customIds);
      expect(new Set(sent).size).toBe(sent.length);
      expect(server.created.length).toBeLessThanOrEqual(2);
      expect(server.calls[provider === "openai" ? "chat.completions" : "messages"] ?? 0).toBe(0);
      const standard = records.find((x) => x.cell.method === "standard");
      const usage = { inputTokens: standard.usage.inputTokens, outputTokens: standard.usage.outputTokens };
      expect(standard.costUsd).toBeCloseTo(batchCostUsd(MODELS[provider], usage)!, 12);
      expect(standard.costUsd).toBeCloseTo(costUsd(MODELS[provider], usage)! / 2, 12);
      expect(jsonl(join(out, "batches.jsonl")).filter((e) => e.event === "collected")).toHaveLength(
        server.created.length,
      );
      expect(readFileSync(join(out, "report.md"), "utf8")).toContain("## Batches");

      // Finished: a re-run submits nothing and calls nothing.
      const before = JSON.stringify(server.calls);
      const again = await lmcotEnv(env(server), ...gridArgs(provider, out));
      expect(again.code).toBe(0);
      expect(JSON.stringify(server.calls)).toBe(before);
    });

  it("killed while polling, the re-run re-attaches to the same batch: nothing submitted twice", async () => {
    const server = await serve({ pollsToEnd: 1_000_000 });
    const out = outDir();
    const args = [...gridArgs("openai", out), "--methods", "standard"];
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env(server) },
      stdio: "ignore",
    });
    const exited = new Promise((r) => child.once("exit", r));
    await until(() => (server.calls["batches.retrieve"] ?? 0) >= 3);
    child.kill("SIGKILL");
    await exited;
    expect(server.created).toHaveLength(1);
    expect(jsonl(join(out, "batches.jsonl")).map((e) => e.event)).toEqual(["submitting", "submitted"]);
    expect(jsonl(join(out, "run.jsonl"))).toHaveLength(0);

    server.end(server.created[0]!.id);
    const r = await lmcotEnv(env(server), ...args);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("re-attached");
    expect(server.created).toHaveLength(1);
    expect(server.calls["files.create"]).toBe(1);
    expect(jsonl(join(out, "run.jsonl"))).toHaveLength(6);
  });

  it("Ctrl-C while waiting leaves the batch running and says how to resume", async () => {
    const server = await serve({ pollsToEnd: 1_000_000 });
    const out = outDir();
    const args = [...gridArgs("anthropic", out), "--methods", "standard"];
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env(server) } });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    await until(() => (server.calls["messages.batches.retrieve"] ?? 0) >= 2);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/1 batch keep running at the provider \(msgbatch_/);
    expect(stderr).toContain("Re-run the same command");
    expect(stderr).toContain(`lmcot batch status ${out}`);
    expect(server.calls["messages.batches.cancel"] ?? 0).toBe(0);
  });

  it("an expired batch: the unfinished requests go into a follow-up batch and the run completes", async () => {
    const server = await serve({
      fate: ({ index }) => (index === 0 ? { status: "expired", finished: 2 } : { status: "completed" }),
    });
    const out = outDir();
    const r = await lmcotEnv(env(server), ...gridArgs("openai", out), "--methods", "standard");
    expect(r.code).toBe(0);
    expect(server.created.map((b) => b.customIds.length)).toEqual([6, 4]);
    expect(r.stderr).toContain("follow-up batch");
    expect(jsonl(join(out, "run.jsonl"))).toHaveLength(6);
  });

  it("a request the provider rejects is a counted failure with its reason; exit 1", async () => {
    let n = 0;
    const server = await serve({
      answer: () => (n++ === 1 ? { status: 400, message: "context_length_exceeded" } : { text: "Paris" }),
    });
    const out = outDir();
    const r = await lmcotEnv(env(server), ...gridArgs("openai", out), "--methods", "standard");
    expect(r.code).toBe(1);
    expect(jsonl(join(out, "errors.jsonl"))).toMatchObject([{ errorClass: "bad_request", status: 400 }]);
    expect(jsonl(join(out, "errors.jsonl"))[0].message).toContain("context_length_exceeded");
    expect(r.stdout).toContain("| 5 / 6 (1 failed) |");
  });

  it("--batch with a model that has no batch API is a usage error naming why", async () => {
    const r = await lmcotEnv(
      { CI: "1" },
      "bench",
      "--batch",
      "--large",
      "extractive:reader",
      "--datasets",
      "hotpotqa:2",
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("extractive:reader has no batch API");
  });

  it("--dry-run --batch prices the grid at batch rates, with the online total beside", async () => {
    const r = await lmcotEnv(
      { OPENAI_API_KEY: KEY, CI: "1" },
      "bench",
      "--dry-run",
      "--batch",
      "--large",
      "openai:gpt-4o-mini",
      "--datasets",
      "hotpotqa:20",
    );
    expect(r.code).toBe(0);
    const batch = Number(/TOTAL at batch prices: .* ~\$([\d.]+)/.exec(r.stdout)?.[1]);
    const online = Number(/\(online, the same grid: ~\$([\d.]+)\)/.exec(r.stdout)?.[1]);
    expect(batch).toBeGreaterThan(0);
    expect(batch / online).toBeCloseTo(0.5, 2);
  });
});
