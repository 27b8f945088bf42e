import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadRequestError, type LanguageModel } from "@lmcot/core";
import { afterEach, describe, expect, it } from "vitest";
import { BatchRounds, isBatchDeferred } from "../src/batch/rounds";
import type { BatchSessionOptions } from "../src/batch/session";
import { createModel } from "../src/create";
import { type BatchServer, type BatchServerOptions, batchServer } from "../src/testing/index";

const KEY = "sk-test-rounds0123456789abcdefgh";
let servers: BatchServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function setup(provider: "openai" | "anthropic", server: BatchServerOptions = {}) {
  const s = await batchServer({ apiKey: KEY, ...server });
  servers.push(s);
  const dir = mkdtempSync(join(tmpdir(), "lmcot-rounds-"));
  const make = (extra: Partial<BatchSessionOptions> = {}) => {
    const events: string[] = [];
    const rounds = new BatchRounds({ dir, pollIntervalMs: 5, onEvent: (e) => events.push(e.type), ...extra });
    const model = createModel(
      provider === "openai" ? "openai:gpt-4o-mini" : "anthropic:claude-3-5-haiku-latest",
      { apiKey: KEY, baseURL: provider === "openai" ? s.openaiBaseURL : s.anthropicBaseURL, batch: rounds },
    );
    return { rounds, model, events };
  };
  return { server: s, dir, make };
}

const ask = (model: LanguageModel, q: string) => model.generate({ prompt: q, maxTokens: 16, temperature: 0 });

/** Each question's outcome this round: its text, `deferred`, or the error's message. */
const round = (model: LanguageModel, qs: string[]) =>
  Promise.all(
    qs.map((q) =>
      ask(model, q).then(
        (r) => r.text,
        (e) => (isBatchDeferred(e) ? "deferred" : String(e.message)),
      ),
    ),
  );

describe("BatchRounds", () => {
  for (const provider of ["openai", "anthropic"] as const)
    it(`${provider}: a call is deferred and spilled, one request per custom id, answered after collect()`, async () => {
      const { server, make } = await setup(provider);
      const { rounds, model, events } = make();
      expect(await round(model, ["q1", "q2", "q1"])).toEqual(["deferred", "deferred", "deferred"]);
      expect(await rounds.collect()).toBe(1);
      expect(server.created.map((b) => b.customIds.length)).toEqual([2]);
      expect(await round(model, ["q1", "q2"])).toEqual(["answer: q1", "answer: q2"]);
      expect(events).toEqual(expect.arrayContaining(["submitted", "ended"]));
      expect(rounds.stats).toMatchObject({ submitted: 1, requests: 2 });
      expect(rounds.spentUsd).toBeGreaterThan(0);
    });

  it("splits a round's calls at the limits into several batches", async () => {
    const { server, make } = await setup("openai");
    const { rounds, model } = make({ limits: { maxRequests: 2 } });
    await round(model, ["a", "b", "c", "d", "e"]);
    await rounds.collect();
    expect(server.created.map((b) => b.customIds.length)).toEqual([2, 2, 1]);
    expect(await round(model, ["a", "e"])).toEqual(["answer: a", "answer: e"]);
  });

  it("a new process re-attaches to a running batch and reads collected results from disk: nothing sent twice", async () => {
    const { server, make } = await setup("openai", { pollsToEnd: 1_000_000 });
    const controller = new AbortController();
    // The first process stops while polling (as after a kill: the journal says running).
    const stop = make({ signal: controller.signal });
    await round(stop.model, ["c"]);
    const collecting = stop.rounds.collect();
    while ((server.calls["batches.retrieve"] ?? 0) < 2) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await collecting;
    expect(stop.rounds.runningBatches()).toHaveLength(1);

    const again = make();
    expect(await round(again.model, ["c"])).toEqual(["deferred"]);
    server.end(server.created[0]!.id);
    await again.rounds.collect();
    expect(again.events).toContain("attached");
    expect(await round(again.model, ["c"])).toEqual(["answer: c"]);
    expect(server.created).toHaveLength(1);

    const third = make();
    expect(await round(third.model, ["c"])).toEqual(["answer: c"]);
    expect(third.rounds.stats.fromFile).toBe(1);
    expect(server.created).toHaveLength(1);
  });

  it("an expired request goes into a follow-up batch; a 400 fails its call with the reason", async () => {
    const { server, make } = await setup("openai", {
      fate: ({ index }) => (index === 0 ? { status: "expired", finished: 1 } : { status: "completed" }),
      answer: (r) =>
        JSON.stringify(r.body).includes("bad")
          ? { status: 400, message: "context_length_exceeded" }
          : { text: "ok" },
    });
    const { rounds, model, events } = make();
    await round(model, ["bad", "fine"]);
    await rounds.collect();
    const second = await round(model, ["bad", "fine"]);
    expect(second[0]).toContain("context_length_exceeded");
    expect(second[1]).toBe("deferred");
    await rounds.collect();
    expect(events).toContain("follow-up");
    expect(await round(model, ["fine"])).toEqual(["ok"]);
    expect(server.created.map((b) => b.customIds.length)).toEqual([2, 1]);
    await expect(ask(model, "bad")).rejects.toBeInstanceOf(BadRequestError);
  });

  it("the budget is checked before each submission: over it, the calls fail with BudgetExceededError", async () => {
    const { server, make } = await setup("openai");
    const { rounds, model } = make({ budgetUsd: 1e-9 });
    await round(model, ["a"]);
    await rounds.collect();
    expect(await round(model, ["a"])).toEqual([expect.stringMatching(/budget of .* it was not submitted/)]);
    expect(server.created).toHaveLength(0);
  });

  it("leaves no submission files behind once a round is sent", async () => {
    const { dir, make } = await setup("openai");
    const { rounds, model } = make();
    await round(model, ["a"]);
    await rounds.collect();
    expect(readdirSync(join(dir, "batches", "spool"))).toEqual([]);
  });
});
