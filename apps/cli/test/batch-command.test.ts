import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AnthropicModel, BatchSession, OpenAIChatModel } from "@lmcot/llm";
import { type BatchServer, batchServer } from "@lmcot/llm/testing";
import { afterEach, describe, expect, it } from "vitest";
import { lmcotEnv } from "./run-cli";

const KEY = "sk-test-batch-command-0123456789";
let server: BatchServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * A run directory whose journal (`<name>.jsonl`) holds a running OpenAI batch of 2 requests and a
 * running Anthropic batch of 1: the session is stopped once both are submitted.
 */
async function interruptedRun(name?: string) {
  const s = await batchServer({ apiKey: KEY, pollsToEnd: 1000 });
  server = s;
  const dir = mkdtempSync(join(tmpdir(), "lmcot-batch-command-"));
  const ac = new AbortController();
  let submitted = 0;
  const session = new BatchSession({
    dir,
    ...(name ? { name } : {}),
    pollIntervalMs: 20,
    signal: ac.signal,
    onEvent: (e) => {
      if (e.type === "submitted" && ++submitted === 2) ac.abort();
    },
  });
  const openai = new OpenAIChatModel("gpt-4o-mini", { apiKey: KEY, baseURL: s.openaiBaseURL });
  const anthropic = new AnthropicModel("claude-3-5-haiku-latest", {
    apiKey: KEY,
    baseURL: s.anthropicBaseURL,
  });
  const o = session.wrap(openai, openai.batchable()!);
  const a = session.wrap(anthropic, anthropic.batchable());
  // Tracked, the three are submitted together once all wait (two batches: one per provider).
  await Promise.allSettled([
    session.track(() => o.generate({ prompt: "first?", maxTokens: 16 })),
    session.track(() => o.generate({ prompt: "second?", maxTokens: 16 })),
    session.track(() => a.generate({ prompt: "third?", maxTokens: 16 })),
  ]);
  const ids = {
    openai: s.created.find((c) => c.provider === "openai")!.id,
    anthropic: s.created.find((c) => c.provider === "anthropic")!.id,
  };
  const env = s.env(KEY);
  return { s, dir, ids, env };
}

const byProvider = (rows: { provider: string }[], provider: string) =>
  rows.find((r) => r.provider === provider) as Record<string, unknown> & { live?: Record<string, unknown> };

describe("lmcot batch", () => {
  it("list: the journal's batches as a table and as JSON, without asking the provider", async () => {
    const { s, dir, ids, env } = await interruptedRun();
    const before = JSON.stringify(s.calls);
    const r = await lmcotEnv(env, "batch", "list", dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `${ids.openai}\\s+openai\\s+openai:gpt-4o-mini\\s+2\\s+\\d{4}-\\d\\d-\\d\\d [\\d:]+\\s+running`,
      ),
    );
    expect(r.stdout).toMatch(
      new RegExp(`${ids.anthropic}\\s+anthropic\\s+anthropic:claude-3-5-haiku-latest\\s+1\\s+.*running`),
    );
    const json = JSON.parse((await lmcotEnv(env, "batch", "list", dir, "--json")).stdout);
    expect(json.journal).toBe(join(dir, "batches.jsonl"));
    expect(byProvider(json.batches, "openai")).toMatchObject({
      id: ids.openai,
      requests: 2,
      state: "running",
    });
    expect(byProvider(json.batches, "anthropic")).toMatchObject({ id: ids.anthropic, requests: 1 });
    expect(JSON.stringify(s.calls)).toBe(before);
  });

  it("status: each batch's live status, done/total, failed and elapsed time", async () => {
    const { s, dir, ids, env } = await interruptedRun();
    const r = await lmcotEnv(env, "batch", "status", dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/batch\s+model\s+status\s+done\/total\s+failed\s+elapsed\s+ETA/);
    expect(r.stdout).toMatch(
      new RegExp(`${ids.openai}\\s+openai:gpt-4o-mini\\s+in_progress\\s+0/2\\s+0\\s+\\d+ s\\s+-`),
    );
    expect(r.stdout).toMatch(
      new RegExp(`${ids.anthropic}\\s+anthropic:claude-3-5-haiku-latest\\s+in_progress\\s+0/1\\s+0`),
    );
    const json = JSON.parse((await lmcotEnv(env, "batch", "status", dir, "--json")).stdout);
    expect(byProvider(json.batches, "openai").live).toMatchObject({
      id: ids.openai,
      status: "in_progress",
      total: 2,
      done: 0,
    });
    expect(byProvider(json.batches, "anthropic").live).toMatchObject({ id: ids.anthropic, total: 1 });
    expect(s.calls["batches.retrieve"]).toBeGreaterThanOrEqual(2);
  });

  it("cancel: cancels the running batches, records it, and says a re-run submits them again", async () => {
    const { s, dir, ids, env } = await interruptedRun();
    const r = await lmcotEnv(env, "batch", "cancel", dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`batch ${ids.openai} (openai:gpt-4o-mini, 2 requests): cancelling`);
    expect(r.stdout).toContain(
      `batch ${ids.anthropic} (anthropic:claude-3-5-haiku-latest, 1 request): canceling`,
    );
    expect(r.stdout).toMatch(
      /2 batches cancelled\. Requests already done are kept: re-running the original command \(with --batch\) collects them and submits the cancelled ones again/,
    );
    expect(s.calls["batches.cancel"]).toBe(1);
    expect(s.calls["messages.batches.cancel"]).toBe(1);
    const events = readFileSync(join(dir, "batches.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === "cancel-requested");
    expect(events.map((e) => e.batchId).sort()).toEqual([ids.openai, ids.anthropic].sort());
    const listed = await lmcotEnv(env, "batch", "list", dir);
    expect(listed.stdout.match(/running, cancel requested/g)).toHaveLength(2);
    const status = JSON.parse((await lmcotEnv(env, "batch", "status", dir, "--json")).stdout);
    expect(status.batches.map((b: { live: { state: string } }) => b.live.state)).toEqual(["ended", "ended"]);
    const again = JSON.parse((await lmcotEnv(env, "batch", "cancel", dir, "--json")).stdout);
    expect(again.batches.map((b: { outcome: string }) => b.outcome)).toEqual(["ended", "ended"]);
  });

  it("takes rewards score's journal file, or the folder holding it", async () => {
    const { dir, ids, env } = await interruptedRun("scores.batches");
    for (const target of [join(dir, "scores.batches.jsonl"), dir]) {
      const r = await lmcotEnv(env, "batch", "list", target, "--json");
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json.journal).toBe(join(dir, "scores.batches.jsonl"));
      expect(json.batches.map((b: { id: string }) => b.id).sort()).toEqual(
        [ids.openai, ids.anthropic].sort(),
      );
    }
  });

  it("a folder with no journal is a usage error (2) naming it", async () => {
    const empty = mkdtempSync(join(tmpdir(), "lmcot-batch-none-"));
    for (const sub of ["list", "status", "cancel"]) {
      const r = await lmcotEnv({}, "batch", sub, empty);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`no batch journal in ${empty} (no batches.jsonl)`);
    }
  });

  it("a missing key, a model with no batch API or a provider error fails that batch only (exit 1), keys never shown", async () => {
    const { s, dir, ids, env } = await interruptedRun();
    const at = Date.now();
    appendFileSync(
      join(dir, "batches.jsonl"),
      `${JSON.stringify({ event: "submitting", submission: "lmcot-x", provider: "openai", model: "extractive:reader", customIds: ["x"], at })}\n${JSON.stringify({ event: "submitted", submission: "lmcot-x", batchId: "batch_x", at })}\n`,
    );
    const wrong = "sk-wrong-key-for-this-test-0123456789";
    const r = await lmcotEnv(
      { ...env, ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: wrong },
      "batch",
      "status",
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`batch ${ids.anthropic} \\(anthropic:claude-3-5-haiku-latest\\): .*ANTHROPIC_API_KEY`),
    );
    expect(r.stderr).toMatch(/batch batch_x \(extractive:reader\): extractive:reader has no batch API/);
    expect(r.stderr).toMatch(new RegExp(`batch ${ids.openai} \\(openai:gpt-4o-mini\\): `));
    expect(r.stdout).toMatch(/unknown \(see below\)/);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    const c = await lmcotEnv({ ...env, ANTHROPIC_API_KEY: undefined }, "batch", "cancel", dir);
    expect(c.code).toBe(1);
    expect(c.stdout).toContain(`batch ${ids.openai} (openai:gpt-4o-mini, 2 requests): cancelling`);
    expect(c.stdout).toContain(`batch ${ids.anthropic} (anthropic:claude-3-5-haiku-latest): not cancelled`);
    expect(s.calls["batches.cancel"]).toBe(1);
    expect(s.calls["messages.batches.cancel"]).toBeUndefined();
  });
});
