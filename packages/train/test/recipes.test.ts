import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Example, type GenerateRequest, parsePrompt } from "@lmcot/core";
import { ScriptedLanguageModel } from "@lmcot/core/testing";
import { loadSample } from "@lmcot/datasets";
import { RewardScorer, type RewardServer, startRewardServer } from "@lmcot/rewards";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { distill, exportSchemas, readKept, validateExport, writeExport } from "../src/index";

/**
 * The contracts docs/training.md relies on: the exported files carry the documented fields, and
 * `lmcot rewards serve` answers the exact request bodies the OpenRLHF, TRL and verl recipes send.
 */
const examples: Example[] = (await loadSample("hotpotqa")).slice(0, 4);
const goldOf = (r: GenerateRequest) =>
  examples.find((e) => e.question === parsePrompt(r.prompt!)!.question)!.answer;
const lines = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let out: string;
let server: RewardServer;
let sft: { prompt: string; completion: string }[];
let rl: { prompt: string; label: string }[];

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "lmcot-recipes-"));
  const teacher = new ScriptedLanguageModel(
    [(r) => `Reasoning: It says so.\nPrediction: ${goldOf(r)}`],
    "scripted:teacher",
  );
  await distill({ teacher, examples, outDir: out });
  const rows = await readKept(join(out, "kept.jsonl"));
  writeExport(rows, "trl", join(out, "sft-trl.jsonl"));
  writeExport(rows, "rl", join(out, "rl-prompts.jsonl"));
  sft = lines(join(out, "sft-trl.jsonl")) as typeof sft;
  rl = lines(join(out, "rl-prompts.jsonl")) as typeof rl;
  // A judge rating 4/5 on every aspect and a large LM that answers correctly: R = 8 · 0.75 + 1 = 7.
  const judge = new ScriptedLanguageModel(["Score: 4"], "scripted:judge");
  const large = new ScriptedLanguageModel([(r) => `Answer: ${goldOf(r)}`], "scripted:large");
  server = await startRewardServer({ scorer: new RewardScorer({ judge, large }) });
});
afterAll(() => server.close());

async function post(body: unknown) {
  const res = await fetch(`${server.url}/get_reward`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { rewards: number[] } };
}

describe("training recipes' contracts", () => {
  it("exports the documented fields: sft-trl {prompt, completion}, rl-prompts {prompt, label}", async () => {
    expect(sft).toHaveLength(4);
    expect(rl).toHaveLength(4);
    for (const row of sft) expect(Object.keys(row)).toEqual(["prompt", "completion"]);
    for (const row of rl) expect(Object.keys(row)).toEqual(["prompt", "label"]);
    expect(rl.map((r) => r.prompt)).toEqual(sft.map((r) => r.prompt));
    expect(rl.map((r) => r.label)).toEqual(examples.map((e) => e.answer));
    expect(await validateExport(join(out, "rl-prompts.jsonl"), "rl")).toBe(4);
    expect(exportSchemas.rl.safeParse({ prompt: "p" }).success).toBe(false);
  });

  it("OpenRLHF --remote_rm_url: query = prompt + response + eos, prompts, labels from --label_key", async () => {
    const body = {
      query: rl.map((r, i) => `${r.prompt}${sft[i]!.completion}</s>`),
      prompts: rl.map((r) => r.prompt),
      labels: rl.map((r) => r.label),
    };
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.body.rewards).toEqual([7, 7, 7, 7]);
  });

  it("TRL reward function: [p + c for p, c in zip(prompts, completions)], prompts, label column", async () => {
    const prompts = rl.map((r) => r.prompt);
    const completions = ["It says so.", "", "Unrelated words.", "It says so."];
    const res = await post({
      query: prompts.map((p, i) => p + completions[i]),
      prompts,
      labels: rl.map((r) => r.label),
    });
    expect(res.status).toBe(200);
    expect(res.body.rewards).toHaveLength(4);
    expect(res.body.rewards.every((x) => x === 7)).toBe(true);
  });

  it("verl compute_score: one item, the prompt from extra_info, ground_truth as the label", async () => {
    const { prompt, label } = rl[0]!;
    const res = await post({ query: [prompt + " It says so."], prompts: [prompt], labels: [label] });
    expect(res.status).toBe(200);
    expect(res.body.rewards).toEqual([7]);
  });
});
