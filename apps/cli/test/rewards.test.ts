import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rationalePrompt } from "@lmcot/core";
import { loadSample } from "@lmcot/datasets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFile } from "./rewards-helpers";
import { bin, lmcot } from "./run-cli";

/** A loopback OpenAI-compatible judge: `Score: 4` for every one-aspect judge prompt. */
let judge: Server;
let judgeId = "";
let judgeCalls = 0;
beforeAll(async () => {
  judge = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      judgeCalls++;
      const model = (JSON.parse(body) as { model: string }).model;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: `c${judgeCalls}`,
          object: "chat.completion",
          created: 0,
          model,
          choices: [{ index: 0, message: { role: "assistant", content: "Score: 4" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 100, completion_tokens: 3, total_tokens: 103 },
        }),
      );
    });
  });
  await new Promise<void>((r) => judge.listen(0, "127.0.0.1", r));
  judgeId = `openai-compatible:http://127.0.0.1:${(judge.address() as AddressInfo).port}/v1#judge`;
});
afterAll(() => new Promise<void>((r) => judge.close(() => r())));

describe("lmcot rewards score", () => {
  it("computes the paper's reward for a run's predictions, and a re-score hits the cache", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-"));
    const run = await runFile(dir);
    const args = [
      "rewards",
      "score",
      "--run",
      run,
      "--judge",
      judgeId,
      "--cache-dir",
      join(dir, "cache"),
      "--json",
    ];
    const first = await lmcot(...args, "--out", join(dir, "rewards.jsonl"));
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary.items).toBe(3);
    expect(summary.calls).toEqual({ judge: 24, large: 0 });
    expect(summary.meanAspectReward).toBe(6);
    const rows = readFileSync(join(dir, "rewards.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.aspectReward).toBe(6);
      expect(row.reward).toBe(6 + row.taskReward);
      expect([0, 1]).toContain(row.taskReward);
    }
    expect(summary.meanReward).toBeCloseTo(6 + summary.meanTaskReward, 12);
    const calls = judgeCalls;
    const second = JSON.parse((await lmcot(...args)).stdout);
    expect(judgeCalls).toBe(calls);
    expect(second.cachedCalls).toBe(24);
    expect(second.meanReward).toBe(summary.meanReward);
  });

  it("re-asks the large LM with --large, and needs no judge for task-only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-"));
    const run = await runFile(dir, 2);
    const r = await lmcot(
      "rewards",
      "score",
      "--run",
      run,
      "--preset",
      "task-only",
      "--large",
      "extractive:reader",
      "--json",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).calls).toEqual({ judge: 0, large: 2 });
  });

  it("names the file, line and field of a bad run line, and flags usage errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-"));
    const path = join(dir, "bad.jsonl");
    writeFileSync(
      path,
      `${JSON.stringify({ exampleId: "x", answer: "a", rationale: "r", dataset: "hotpotqa" })}\n{"answer": 3}\n`,
    );
    const bad = await lmcot("rewards", "score", "--run", path, "--preset", "task-only");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.jsonl: line 1: exampleId names example "x"/);
    writeFileSync(path, '{"exampleId": 3}\n');
    expect((await lmcot("rewards", "score", "--run", path, "--preset", "task-only")).stderr).toMatch(
      /bad\.jsonl: line 1: exampleId/,
    );
    const noJudge = await lmcot("rewards", "score", "--run", path);
    expect(noJudge.code).toBe(2);
    expect(noJudge.stderr).toMatch(/--judge/);
    expect(
      (await lmcot("rewards", "score", "--run", path, "--aspects", "wit", "--judge", judgeId)).stderr,
    ).toMatch(/unknown aspect "wit"/);
  });
});

describe("lmcot rewards serve", () => {
  it("warns at start-up without a token and refuses what a web page can send (text/plain 415, Origin 403)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-guard-"));
    const env = { ...process.env };
    delete env.LMCOT_REWARD_TOKEN;
    const child = spawn(
      process.execPath,
      [bin, "rewards", "serve", "--port", "0", "--judge", judgeId, "--preset", "aspects-only"].concat([
        "--cache-dir",
        join(dir, "cache"),
      ]),
      { env },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    while (!/reward server on (\S+) /.test(stdout) && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 20));
    const url = /reward server on (\S+) /.exec(stdout)?.[1];
    expect(url, stderr).toBeDefined();
    expect(stderr).toContain("warning: no bearer token (LMCOT_REWARD_TOKEN is not set)");
    const example = (await loadSample("hotpotqa"))[0]!;
    const prompt = rationalePrompt.render(example);
    const body = JSON.stringify({ query: [`${prompt} r</s>`], prompts: [prompt], labels: [example.answer] });
    const before = judgeCalls;
    const plain = await fetch(`${url!}/get_reward`, { method: "POST", body });
    expect(plain.status).toBe(415);
    const page = await fetch(`${url!}/get_reward`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body,
    });
    expect(page.status).toBe(403);
    expect(judgeCalls).toBe(before);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("serves OpenRLHF requests on loopback and shuts down gracefully on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-"));
    const child = spawn(
      process.execPath,
      [
        bin,
        "rewards",
        "serve",
        "--port",
        "0",
        "--judge",
        judgeId,
        "--large",
        "extractive:reader",
        "--cache-dir",
        join(dir, "cache"),
      ],
      {
        env: { ...process.env, LMCOT_REWARD_TOKEN: "tok" },
      },
    );
    let stdout = "";
    child.stdout.on("data", (c) => (stdout += c));
    while (!/reward server on (\S+) /.test(stdout)) await new Promise((r) => setTimeout(r, 20));
    const url = /reward server on (\S+) /.exec(stdout)![1]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const example = (await loadSample("hotpotqa"))[0]!;
    const prompt = rationalePrompt.render(example);
    const res = await fetch(`${url}/get_reward`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer tok" },
      body: JSON.stringify({
        query: [`${prompt} some rationale</s>`],
        prompts: [prompt],
        labels: [example.answer],
      }),
    });
    expect(res.status).toBe(200);
    const { rewards } = (await res.json()) as { rewards: number[] };
    expect(rewards).toHaveLength(1);
    expect(rewards[0]).toBeGreaterThanOrEqual(6);
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/served 1 items/);
  });
});
