import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePrompt } from "@lmcot/core";
import { loadSample } from "@lmcot/datasets";
import { type BatchRequestInfo, type BatchServer, batchServer } from "@lmcot/llm/testing";
import { afterAll, describe, expect, it } from "vitest";
import { lmcotEnv } from "./run-cli";

const KEY = "sk-test-reproduce-batch0123456789";
let server: BatchServer | undefined;
afterAll(() => server?.close());

/** One loopback OpenAI for every role: the teacher and CoT reason, answers are gold, the judge says 4. */
async function openai(): Promise<BatchServer> {
  const gold = new Map((await loadSample("hotpotqa")).map((e) => [e.question, e.answer]));
  const answer = ({ body }: BatchRequestInfo) => {
    const messages = body.messages as { role: string; content: string }[];
    const user = messages.at(-1)!.content;
    const system = messages.find((m) => m.role === "system")?.content ?? "";
    const usage = { inputTokens: 300, outputTokens: 20 };
    if (user.startsWith("Aspect:")) return { text: "Score: 4", ...usage };
    if (user.startsWith("Aspects:"))
      return { text: [...user.matchAll(/^- (\w+):/gm)].map((m) => `${m[1]}: 4`).join("\n"), ...usage };
    const parsed = parsePrompt(user, system);
    const answer = gold.get(parsed?.question ?? "") ?? "unknown";
    return parsed?.replyFormat === "reasoning-prediction"
      ? { text: `Reasoning: The passages say so.\nPrediction: ${answer}`, ...usage }
      : { text: `Answer: ${answer}`, ...usage };
  };
  server = await batchServer({ apiKey: KEY, answer });
  return server;
}

describe("lmcot reproduce with batch: true", () => {
  it("distill, the grid and the scores go as provider batches, PPO online; the costs add up over the stages", async () => {
    const s = await openai();
    const cwd = mkdtempSync(join(tmpdir(), "lmcot-reproduce-batch-"));
    const config = join(cwd, "batch.yaml");
    writeFileSync(
      config,
      `extends: paper-offline
out: ${join(cwd, "run")}
cacheDir: ${join(cwd, "cache")}
large: openai:gpt-4o-mini
judge: openai:gpt-4o-mini
batch: true
batchPoll: 0.02
train:
  kd: { model: micro, epochs: 1, maxSteps: 1 }
  rl: { steps: 1, batchSize: 2, miniBatchSize: 2, maxNewTokens: 12 }
bench: { datasets: [{ name: hotpotqa, split: eval, evalSize: 2 }], methods: [standard, lm-guided], selfConsistency: 1 }
scores: { judgeMode: one-call }
`,
    );
    const r = await lmcotEnv({ ...s.env(KEY), CI: "1" }, "reproduce", "--config", config);
    expect(r.code, r.stderr).toBe(0);
    // One batch for the teacher, one per round of the grid, one for the judge.
    expect(s.created.length).toBeGreaterThanOrEqual(3);
    expect(s.created[0]!.customIds).toHaveLength(37);
    expect(s.calls["chat.completions"]).toBeGreaterThan(0);
    const report = JSON.parse(readFileSync(join(cwd, "run", "report", "report.json"), "utf8"));
    const costs = Object.fromEntries(
      Object.entries(report.stages as Record<string, { costUsd: number }>).map(([k, v]) => [k, v.costUsd]),
    );
    for (const stage of ["distill", "rl", "bench", "scores"]) expect(costs[stage]).toBeGreaterThan(0);
    const total = Object.values(costs).reduce((a, b) => a + b, 0);
    expect(r.stdout).toMatch(
      new RegExp(`^total\\s+[\\d.]+ s\\s+\\$${total.toFixed(4).replace(".", "\\.")}`, "m"),
    );
    const md = readFileSync(join(cwd, "run", "report", "report.md"), "utf8");
    expect(md).toContain("kd+rl − kd");
  }, 300_000);
});
