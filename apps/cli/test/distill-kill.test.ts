import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePrompt } from "@lmcot/core";
import { loadSample } from "@lmcot/datasets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, lmcot } from "./run-cli";

/** A loopback OpenAI-compatible teacher that answers correctly after 40 ms, counting its calls. */
let teacher: Server;
let teacherId = "";
let calls = 0;
beforeAll(async () => {
  const gold = new Map((await loadSample("hotpotqa")).map((e) => [e.question, e.answer]));
  teacher = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      calls++;
      const { messages, model } = JSON.parse(body) as {
        model: string;
        messages: { role: string; content: string }[];
      };
      const question = parsePrompt(messages.at(-1)!.content)?.question ?? "";
      const content = `Reasoning: The context connects the facts.\nPrediction: ${gold.get(question) ?? "unknown"}`;
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: `t${calls}`,
            object: "chat.completion",
            created: 0,
            model,
            choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
            usage: { prompt_tokens: 200, completion_tokens: 20, total_tokens: 220 },
          }),
        );
      }, 40);
    });
  });
  await new Promise<void>((r) => teacher.listen(0, "127.0.0.1", r));
  teacherId = `openai-compatible:http://127.0.0.1:${(teacher.address() as AddressInfo).port}/v1#teacher`;
});
afterAll(() => new Promise<void>((r) => teacher.close(() => r())));

const records = (path: string) =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l.trim())
    : [];

describe("lmcot distill, killed and resumed", () => {
  it("a SIGKILLed run resumes without duplicates, calling the teacher only for what is missing", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "lmcot-distill-kill-")), "d");
    const args = ["distill", "--teacher", teacherId, "--out", out, "--concurrency", "2", "--no-cache"];
    const child = spawn(process.execPath, [bin, ...args], { stdio: "ignore" });
    const run = join(out, "teacher.jsonl");
    while (records(run).length < 6) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const before = records(run).length;
    expect(before).toBeLessThan(37);
    const callsBefore = calls;

    const resumed = await lmcot(...args);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/kept \d+ of 37 rationales/);
    expect(calls - callsBefore).toBe(37 - before);
    const lines = records(run);
    expect(lines).toHaveLength(37);
    expect(new Set(lines.map((l) => JSON.parse(l).key)).size).toBe(37);
    const stats = JSON.parse(readFileSync(join(out, "stats.json"), "utf8"));
    expect(stats.calls).toBe(37);
    expect(stats.kept).toBeGreaterThan(30);
    const kept = records(join(out, "kept.jsonl")).map((l) => JSON.parse(l).id);
    expect(kept).toHaveLength(stats.kept);
    expect(new Set(kept).size).toBe(stats.kept);
    expect(records(join(out, "dropped.jsonl"))).toHaveLength(37 - stats.kept);
    expect(records(join(out, "rl-prompts.jsonl"))).toHaveLength(stats.kept);
  });
});
