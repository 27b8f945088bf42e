import { createModel } from "@lmcot/llm";
import { describe, expect, it } from "vitest";
import { ASPECTS, RewardScorer, rewardConfig } from "../src/index";
import { example, rationale as grounded } from "./helpers";

const invented = "bananas bananas bananas orbit quietly purple purple purple";

describe("extractive:judge through the rewards' real judge prompts", () => {
  for (const judgeMode of ["per-aspect", "one-call"] as const)
    it(`${judgeMode}: every aspect is read, and a grounded rationale outscores an invented one`, async () => {
      const scorer = new RewardScorer({
        judge: createModel("extractive:judge", { retry: false }),
        config: rewardConfig("aspects-only", { judgeMode }),
      });
      const good = await scorer.score({ example, rationale: grounded });
      const bad = await scorer.score({ example, rationale: invented });
      expect(good.failures).toEqual([]);
      expect(Object.keys(good.aspects).sort()).toEqual([...ASPECTS].sort());
      for (const a of ["factuality", "relevance", "fluency"] as const)
        expect(good.aspects[a]!).toBeGreaterThan(bad.aspects[a]!);
      expect(good.aspectReward!).toBeGreaterThan(bad.aspectReward!);
      expect(good.usage.costUsd).toBe(0);
    });
});
