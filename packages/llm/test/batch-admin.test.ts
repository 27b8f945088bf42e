import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LanguageModel } from "@lmcot/core";
import { afterEach, describe, expect, it } from "vitest";
import { Journal } from "../src/batch/journal";
import {
  AnthropicModel,
  BatchSession,
  batchStatuses,
  cancelBatches,
  listBatches,
  OpenAIChatModel,
} from "../src/index";
import { type BatchServer, type BatchServerOptions, batchServer } from "../src/testing/index";

const KEY = "sk-test-batch-admin-0123456789";
let server: BatchServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const env = (s: BatchServer): NodeJS.ProcessEnv => ({
  OPENAI_API_KEY: KEY,
  OPENAI_BASE_URL: s.openaiBaseURL,
  ANTHROPIC_API_KEY: KEY,
  ANTHROPIC_BASE_URL: s.anthropicBaseURL,
});

/**
 * Runs a session over `counts` questions per provider (one batch each); with `stopAfter`, it is
 * aborted once that many batches are submitted, leaving them running at the provider.
 */
async function run(
  options: BatchServerOptions,
  counts: { openai: number; anthropic: number },
  stopAfter?: number,
) {
  server = await batchServer({ apiKey: KEY, ...options });
  const dir = mkdtempSync(join(tmpdir(), "lmcot-batch-admin-"));
  dirs.push(dir);
  const ac = new AbortController();
  let submitted = 0;
  const session = new BatchSession({
    dir,
    pollIntervalMs: 20,
    signal: ac.signal,
    onEvent: (e) => {
      if (e.type === "submitted" && ++submitted === stopAfter) ac.abort();
    },
  });
  const openai = new OpenAIChatModel("gpt-4o-mini", { apiKey: KEY, baseURL: server.openaiBaseURL });
  const anthropic = new AnthropicModel("claude-3-5-haiku-latest", {
    apiKey: KEY,
    baseURL: server.anthropicBaseURL,
  });
  const models: [LanguageModel, number][] = [
    [session.wrap(openai, openai.batchable()!), counts.openai],
    [session.wrap(anthropic, anthropic.batchable()), counts.anthropic],
  ];
  const settled = await Promise.allSettled(
    models.flatMap(([m, n]) =>
      Array.from({ length: n }, (_, i) =>
        session.track(() => m.generate({ prompt: `question ${i}?`, maxTokens: 16 })),
      ),
    ),
  );
  return { dir, s: server, settled };
}

const byProvider = <T extends { provider: string }>(rows: T[], provider: string) =>
  rows.find((r) => r.provider === provider)!;

describe("batch admin", () => {
  it("lists the running jobs of an interrupted session from the journal, with no network", async () => {
    const { dir, s, settled } = await run({ pollsToEnd: 1000 }, { openai: 2, anthropic: 1 }, 2);
    expect(settled.every((r) => r.status === "rejected")).toBe(true);
    const calls = JSON.stringify(s.calls);
    const jobs = listBatches(dir);
    expect(JSON.stringify(s.calls)).toBe(calls);
    expect(jobs.map((j) => [j.provider, j.model, j.requests, j.state]).sort()).toEqual([
      ["anthropic", "anthropic:claude-3-5-haiku-latest", 1, "running"],
      ["openai", "openai:gpt-4o-mini", 2, "running"],
    ]);
    expect(jobs.map((j) => j.id).sort()).toEqual(s.created.map((c) => c.id).sort());
    for (const j of jobs) {
      expect(j.batchId).toBe(j.id);
      expect(j.submission).toMatch(/^lmcot-/);
      expect(j.cancelRequested).toBe(false);
      expect(j.submittedAt).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(listBatches(join(dir, "nowhere"))).toEqual([]);
  });

  it("asks the provider about running jobs: live status, counts and elapsed time", async () => {
    const { dir, s } = await run({ pollsToEnd: 1000 }, { openai: 2, anthropic: 1 }, 2);
    const rows = await batchStatuses(dir, { env: env(s) });
    const o = byProvider(rows, "openai");
    const a = byProvider(rows, "anthropic");
    expect(o.live).toMatchObject({
      id: o.id,
      state: "running",
      status: "in_progress",
      total: 2,
      done: 0,
      failed: 0,
    });
    expect(a.live).toMatchObject({
      id: a.id,
      state: "running",
      status: "in_progress",
      total: 1,
      done: 0,
      failed: 0,
    });
    for (const r of rows) {
      expect(r.error).toBeUndefined();
      expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
      expect(r.elapsedMs).toBeLessThan(60_000);
      expect(r.etaMs).toBeUndefined();
    }
    expect(s.calls["batches.retrieve"]).toBeGreaterThanOrEqual(1);
    expect(s.calls["messages.batches.retrieve"]).toBeGreaterThanOrEqual(1);
  });

  it("gives an ETA from the rate so far once some requests are done", async () => {
    const { dir, s } = await run({ pollsToEnd: 8 }, { openai: 4, anthropic: 0 }, 1);
    let row = (await batchStatuses(dir, { env: env(s) }))[0]!;
    for (let i = 0; i < 8 && !(row.live!.done > 0 && row.live!.done < 4); i++)
      row = (await batchStatuses(dir, { env: env(s) }))[0]!;
    const { done, total } = row.live!;
    expect(done).toBeGreaterThan(0);
    expect(total).toBe(4);
    expect(row.etaMs).toBeCloseTo((row.elapsedMs! * (total - done)) / done, 6);
  });

  it("reports collected jobs from the journal without asking the provider", async () => {
    const { dir, s, settled } = await run({ pollsToEnd: 1 }, { openai: 2, anthropic: 0 });
    expect(settled.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    const retrieves = s.calls["batches.retrieve"];
    const [row] = await batchStatuses(dir, { env: env(s) });
    expect(s.calls["batches.retrieve"]).toBe(retrieves);
    expect(row).toMatchObject({
      id: s.created[0]!.id,
      state: "collected",
      succeeded: 2,
      failed: 0,
      requests: 2,
    });
    expect(row!.live).toBeUndefined();
    expect((await cancelBatches(dir, { env: env(s) }))[0]!.outcome).toBe("skipped");
    expect(s.calls["batches.cancel"]).toBeUndefined();
  });

  it("cancels every running job and records it in the journal", async () => {
    const { dir, s } = await run({ pollsToEnd: 1000 }, { openai: 2, anthropic: 1 }, 2);
    const results = await cancelBatches(dir, { env: env(s) });
    expect(results.map((r) => r.outcome)).toEqual(["cancelling", "cancelling"]);
    expect(s.calls["batches.cancel"]).toBe(1);
    expect(s.calls["messages.batches.cancel"]).toBe(1);
    expect(byProvider(results, "openai").live?.status).toBe("cancelling");
    expect(byProvider(results, "anthropic").live?.status).toBe("canceling");
    const events = readFileSync(join(dir, "batches.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === "cancel-requested");
    expect(events.map((e) => e.batchId).sort()).toEqual(s.created.map((c) => c.id).sort());
    expect(listBatches(dir).every((j) => j.cancelRequested)).toBe(true);
    // The next look ends them; a second cancel finds them ended and is no failure.
    const after = await batchStatuses(dir, { env: env(s) });
    expect(after.map((r) => r.live?.state)).toEqual(["ended", "ended"]);
    const again = await cancelBatches(dir, { env: env(s) });
    expect(again.map((r) => r.outcome)).toEqual(["ended", "ended"]);
  });

  it("reports a missing key, a model with no batch API and a provider error per job, redacted", async () => {
    const { dir, s } = await run({ pollsToEnd: 1000 }, { openai: 2, anthropic: 1 }, 2);
    const journal = new Journal(join(dir, "batches.jsonl"));
    journal.append({
      event: "submitting",
      submission: "lmcot-extractive",
      provider: "openai",
      model: "extractive:reader",
      customIds: ["x"],
      at: Date.now(),
    });
    journal.append({
      event: "submitted",
      submission: "lmcot-extractive",
      batchId: "batch_x",
      at: Date.now(),
    });
    const wrong = "sk-wrong-key-0123456789abcdef";
    const rows = await batchStatuses(dir, {
      env: { ...env(s), ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: wrong },
    });
    expect(byProvider(rows, "anthropic").error).toMatch(/ANTHROPIC_API_KEY/);
    expect(rows.find((r) => r.model === "extractive:reader")!.error).toMatch(
      /extractive:reader has no batch API/,
    );
    const o = rows.find((r) => r.model === "openai:gpt-4o-mini")!;
    expect(o.error).toBeTruthy();
    expect(JSON.stringify(rows)).not.toContain(wrong);
    const cancelled = await cancelBatches(dir, { env: { ...env(s), ANTHROPIC_API_KEY: undefined } });
    expect(cancelled.map((r) => r.outcome).sort()).toEqual(["cancelling", "failed", "failed"]);
    expect(s.calls["messages.batches.cancel"]).toBeUndefined();
  });
});
