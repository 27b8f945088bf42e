import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedLanguageModel } from "@lmcot/core/testing";
import { diskCache, wrapModel } from "@lmcot/llm";
import { describe, expect, it } from "vitest";
import { aspectRewards } from "../src/aspect-reward";
import { ASPECTS } from "../src/aspects";
import {
  combineRewards,
  minMaxNormalize,
  RunningNormalizer,
  rewardConfig,
  rewardPresets,
  sumAspects,
} from "../src/combine";
import { RewardScorer } from "../src/scorer";
import { scoreTask, taskReward } from "../src/task-reward";
import { answering, aspectOf, constantJudge, example, FunctionModel, rationale } from "./helpers";

describe("taskReward", () => {
  it("runs the large LM on core's answer prompt with the rationale and scores EM", async () => {
    const large = new ScriptedLanguageModel(["Answer: Arthur's Magazine."]);
    const r = await taskReward(example, rationale, { large });
    expect(r).toMatchObject({ reward: 1, answer: "Arthur's Magazine", em: 1, f1: 1 });
    const req = large.requests[0]!;
    expect(req.prompt).toContain(`Reasoning: ${rationale}`);
    expect(req.prompt).toContain(`Question: ${example.question}`);
    expect(req.promptVersion).toMatch(/^answer@/);
    expect(r.usage.calls.large).toBe(1);
  });

  it("scores F1 or a mix when configured", async () => {
    const large = new ScriptedLanguageModel(["Answer: the Arthur's Magazine of Philadelphia"]);
    const em = await taskReward(example, rationale, { large, metric: "em" });
    const f1 = await taskReward(example, rationale, { large, metric: "f1" });
    const mix = await taskReward(example, rationale, { large, metric: { em: 1, f1: 1 } });
    expect(em.reward).toBe(0);
    expect(f1.reward).toBeCloseTo((2 * (2 / 4) * 1) / (2 / 4 + 1), 12);
    expect(mix.reward).toBeCloseTo(f1.reward / 2, 12);
  });

  it("counts any alias as correct", () => {
    expect(scoreTask("USA", ["United States", "USA"]).reward).toBe(1);
  });
});

describe("aspectRewards", () => {
  it("asks one judge call per aspect and maps 1–5 onto [0, 1]", async () => {
    const scores: Record<string, number> = { factuality: 5, relevance: 4, logicality: 3, consistency: 2 };
    const judge = new FunctionModel((r) => `Score: ${scores[aspectOf(r)] ?? 1}`);
    const r = await aspectRewards({ example, rationale }, { judge });
    expect(judge.requests).toHaveLength(8);
    expect(new Set(judge.requests.map((q) => q.promptVersion)).size).toBe(8);
    expect(judge.requests.every((q) => q.temperature === 0)).toBe(true);
    expect(r.scores).toEqual({
      factuality: 1,
      relevance: 0.75,
      logicality: 0.5,
      consistency: 0.25,
      coherence: 0,
      fluency: 0,
      naturalness: 0,
      readability: 0,
    });
    expect(r.failures).toEqual([]);
    expect(r.usage.calls.judge).toBe(8);
    expect(r.usage.costUsd).toBeCloseTo(0.008, 12);
  });

  it("scores all aspects in one call when asked", async () => {
    const judge = constantJudge(4);
    const r = await aspectRewards({ example, rationale }, { judge, mode: "one-call" });
    expect(judge.requests).toHaveLength(1);
    for (const a of ASPECTS) expect(r.scores[a]).toBe(0.75);
  });

  it("never throws on malformed replies and applies the failure policy", async () => {
    const replies: Record<string, string> = {
      factuality: "Score: 5",
      relevance: "",
      logicality: "It is fine, I guess.",
      consistency: "Score: 11",
    };
    const judge = new FunctionModel((r) => replies[aspectOf(r)] ?? "Score: 3");
    const aspects = ["factuality", "relevance", "logicality", "consistency"] as const;
    const zero = await aspectRewards({ example, rationale }, { judge, aspects, onFailure: "zero" });
    expect(zero.scores).toEqual({ factuality: 1, relevance: 0, logicality: 0, consistency: 0 });
    expect(zero.failures.map((f) => [f.aspect, f.reply])).toEqual([
      ["relevance", ""],
      ["logicality", "It is fine, I guess."],
      ["consistency", "Score: 11"],
    ]);
    const excluded = await aspectRewards({ example, rationale }, { judge, aspects, onFailure: "exclude" });
    expect(excluded.scores.factuality).toBe(1);
    expect(excluded.scores.relevance).toBeNaN();
    const fallback = await aspectRewards(
      { example, rationale },
      { judge, aspects, onFailure: { default: 0.5 } },
    );
    expect(fallback.scores).toEqual({ factuality: 1, relevance: 0.5, logicality: 0.5, consistency: 0.5 });
  });

  it("records a partly malformed all-in-one reply per aspect", async () => {
    const judge = new ScriptedLanguageModel(["factuality: 5\nrelevance: three"]);
    const r = await aspectRewards(
      { example, rationale },
      { judge, aspects: ["factuality", "relevance"], mode: "one-call" },
    );
    expect(r.scores).toEqual({ factuality: 1, relevance: 0 });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]!.aspect).toBe("relevance");
  });
});

describe("combiner", () => {
  it("the paper preset sums all eight aspects and adds the EM task reward", () => {
    const config = rewardConfig("paper");
    expect(Object.keys(config.aspects)).toEqual([...ASPECTS]);
    const scores = Object.fromEntries(ASPECTS.map((a) => [a, 0.5]));
    const aspect = sumAspects(scores, config.aspects);
    expect(aspect).toBe(4);
    expect(combineRewards({ aspectReward: aspect, taskReward: 1 }, config)).toBe(5);
  });

  it("weights every part", () => {
    const weights = { factuality: 2, fluency: 0.5 };
    expect(sumAspects({ factuality: 1, fluency: 0.5 }, weights)).toBe(2.25);
    expect(combineRewards({ aspectReward: 2, taskReward: 1 }, { aspectWeight: 0.25, taskWeight: 3 })).toBe(
      3.5,
    );
  });

  it("imputes excluded aspects with the mean of the others, and NaN when all failed", () => {
    expect(
      sumAspects(
        { factuality: 1, fluency: Number.NaN, relevance: 0.5 },
        { factuality: 1, fluency: 1, relevance: 1 },
      ),
    ).toBe(2.25);
    expect(sumAspects({ factuality: Number.NaN }, { factuality: 1 })).toBeNaN();
    expect(
      combineRewards({ aspectReward: Number.NaN, taskReward: 1 }, { aspectWeight: 1, taskWeight: 1 }),
    ).toBe(1);
  });

  it("presets do not share state with configs made from them", () => {
    const c = rewardConfig("paper", { taskWeight: 2 });
    c.aspects.factuality = 9;
    expect(rewardPresets.paper.aspects.factuality).toBe(1);
    expect(c.taskWeight).toBe(2);
  });

  it("normalises by running mean / std and by batch min-max", () => {
    const n = new RunningNormalizer();
    const first = n.normalize([1, 2, 3]);
    expect(n.mean).toBe(2);
    expect(first[0]).toBeCloseTo(-1, 6);
    expect(first[2]).toBeCloseTo(1, 6);
    n.normalize([10]);
    expect(n.mean).toBe(4);
    expect(minMaxNormalize([2, 4, 3])).toEqual([0, 1, 0.5]);
    expect(minMaxNormalize([7, 7])).toEqual([0.5, 0.5]);
  });
});

describe("RewardScorer", () => {
  it("computes the paper's reward with both models and accounts usage", async () => {
    const scorer = new RewardScorer({ judge: constantJudge(4), large: answering("Arthur's Magazine") });
    const r = await scorer.score({ example, rationale });
    expect(r.aspectReward).toBe(6);
    expect(r.taskReward).toBe(1);
    expect(r.reward).toBe(7);
    expect(r.usage.calls).toEqual({ judge: 8, large: 1 });
    expect(scorer.totals.items).toBe(1);
    expect(scorer.totals.usage.costUsd).toBeCloseTo(0.009, 12);
  });

  it("uses a known answer instead of calling the large LM", async () => {
    const large = answering("wrong");
    const scorer = new RewardScorer({ config: "task-only", large });
    const r = await scorer.score({ example, rationale, answer: "Arthur's Magazine" });
    expect(r.reward).toBe(1);
    expect(large.requests).toHaveLength(0);
  });

  it("refuses a config that needs a judge without one", () => {
    expect(() => new RewardScorer({ config: "paper" })).toThrow(/no judge model/);
  });

  it("keeps model calls within the concurrency limit across a batch", async () => {
    const both = new FunctionModel(
      (r) => ((r.prompt ?? "").startsWith("Aspect:") ? "Score: 3" : "Answer: 1989"),
      "scripted:both",
      5,
    );
    const scorer = new RewardScorer({ judge: both, large: both, concurrency: 3 });
    const items = Array.from({ length: 6 }, () => ({ example, rationale }));
    const out = await scorer.scoreBatch(items);
    expect(out.rewards).toEqual(Array(6).fill(4));
    expect(both.maxInFlight).toBe(3);
    expect(out.usage.calls).toEqual({ judge: 48, large: 6 });
  });

  it("normalises a batch when configured, keeping the raw reward", async () => {
    const judge = new FunctionModel((r) => (r.prompt?.includes("GOOD") ? "Score: 5" : "Score: 1"));
    const scorer = new RewardScorer({
      judge,
      config: rewardConfig("aspects-only", { normalization: "batch-minmax" }),
    });
    const out = await scorer.scoreBatch([
      { example, rationale: "GOOD rationale" },
      { example, rationale: "bad" },
    ]);
    expect(out.items.map((i) => i.reward)).toEqual([8, 0]);
    expect(out.rewards).toEqual([1, 0]);
    expect(out.items[0]!.normalized).toBe(1);
  });

  it("a cached re-score costs nothing and is counted as cached", async () => {
    const judge = new FunctionModel(() => ({ text: "Score: 5", cached: true, costUsd: 0 }));
    const scorer = new RewardScorer({ judge, config: "aspects-only" });
    const r = await scorer.score({ example, rationale });
    expect(r.usage.cachedCalls).toBe(8);
    expect(r.usage.costUsd).toBe(0);
  });
});

describe("caching through @lmcot/llm", () => {
  it("a re-score through llm's disk cache makes no judge or large-LM call and costs nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-cache-"));
    const judge = constantJudge(4);
    const large = answering("Arthur's Magazine");
    const cached = (m: FunctionModel) => wrapModel(m, [diskCache({ dir })]);
    const first = await new RewardScorer({ judge: cached(judge), large: cached(large) }).score({
      example,
      rationale,
    });
    expect(first.usage.costUsd).toBeCloseTo(0.009, 12);
    expect(first.usage.cachedCalls).toBe(0);
    const again = await new RewardScorer({ judge: cached(judge), large: cached(large) }).score({
      example,
      rationale,
    });
    expect(judge.requests).toHaveLength(8);
    expect(large.requests).toHaveLength(1);
    expect(again.reward).toBe(first.reward);
    expect(again.usage.cachedCalls).toBe(9);
    expect(again.usage.costUsd).toBe(0);
  });
});
