import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { AuthenticationError, Limiter, ServerError, UnreadableReplyError } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { aspectRewards } from "../src/aspect-reward";
import { rewardConfig } from "../src/combine";
import { RewardScorer } from "../src/scorer";
import { answering, aspectOf, constantJudge, example, FunctionModel, rationale } from "./helpers";

const input = { example, rationale };
const down = (aspects: string[]) =>
  new FunctionModel((r) => {
    if (aspects.includes(aspectOf(r))) throw new ServerError(`${aspectOf(r)} judge is down`);
    return "Score: 5";
  });

describe("aspectRewards: failed calls", () => {
  it("fails the item under `error` (the default), only once every call has ended", async () => {
    const judge = down(["relevance"]);
    await expect(aspectRewards(input, { judge })).rejects.toThrow(/relevance judge is down/);
    expect(judge.requests).toHaveLength(8);
    expect(judge.inFlight).toBe(0);
  });

  it("scores a failed call by the policy and records it", async () => {
    const judge = down(["relevance", "fluency"]);
    const r = await aspectRewards(input, { judge, onCallFailure: "zero" });
    expect(r.scores.relevance).toBe(0);
    expect(r.scores.factuality).toBe(1);
    expect(r.callFailures).toEqual([
      { role: "judge", aspect: "relevance", errorClass: "server", error: "relevance judge is down" },
      { role: "judge", aspect: "fluency", errorClass: "server", error: "fluency judge is down" },
    ]);
    const excluded = await aspectRewards(input, { judge, onCallFailure: "exclude" });
    expect(excluded.scores.relevance).toBeNaN();
  });

  it("never scores a fatal error, and stops the item's other calls at once", async () => {
    const judge = new FunctionModel(() => {
      throw new AuthenticationError("invalid api key", { status: 401 });
    });
    const limiter = new Limiter(1);
    await expect(aspectRewards(input, { judge, onCallFailure: "zero", limiter })).rejects.toThrow(
      /invalid api key/,
    );
    expect(judge.requests).toHaveLength(1);
  });

  it("fails the item on an unreadable reply under `error`", async () => {
    const judge = new FunctionModel(() => "no idea");
    const error = await aspectRewards(input, { judge, onFailure: "error" }).catch((e) => e);
    expect(UnreadableReplyError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/judge reply for factuality has no score/);
  });
});

describe("RewardScorer: failed calls", () => {
  it("scores a failed large-LM call by the policy: excluded, the reward is the aspect part", async () => {
    const large = new FunctionModel(() => {
      throw new ServerError("large LM is down");
    });
    const scorer = new RewardScorer({
      judge: constantJudge(4),
      large,
      config: rewardConfig("paper", { onCallFailure: "exclude" }),
    });
    const r = await scorer.score(input);
    expect(r.reward).toBe(6);
    expect(r.taskReward).toBeNaN();
    expect(r.callFailures).toEqual([{ role: "large", errorClass: "server", error: "large LM is down" }]);
    expect(scorer.totals).toMatchObject({ items: 1, failedItems: 0, callFailures: 1 });
  });

  it("scoreEach reports each failed item and keeps the others", async () => {
    const judge = new FunctionModel((r) => {
      if (r.prompt?.includes("#1")) throw new ServerError("judge is down");
      return "Score: 4";
    });
    const scorer = new RewardScorer({ judge, large: answering("Arthur's Magazine") });
    const items = [0, 1, 2].map((i) => ({ example, rationale: `${rationale} #${i}` }));
    const outcomes = await scorer.scoreEach(items);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(scorer.totals).toMatchObject({ items: 2, failedItems: 1 });
    await expect(scorer.scoreBatch(items)).rejects.toThrow(/judge is down/);
  });

  it("scoreEach starts nothing after a fatal error: every item left fails with it", async () => {
    const judge = new FunctionModel(() => {
      throw new AuthenticationError("invalid api key", { status: 401 });
    });
    const scorer = new RewardScorer({ judge, config: "aspects-only", concurrency: 1 });
    const items = Array.from({ length: 5 }, () => input);
    const outcomes = await scorer.scoreEach(items);
    expect(outcomes.every((o) => !o.ok && AuthenticationError.isInstance(o.error))).toBe(true);
    expect(judge.requests).toHaveLength(1);
  });
});

describe("aspectRewards: the caller's signal", () => {
  it("does not keep each item's signals alive once the item ends, when the judge leaves a listener on them (as the OpenAI SDK does)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const outer = new AbortController();
    const seen: WeakRef<AbortSignal>[] = [];
    const judge = new FunctionModel((r) => {
      r.signal?.addEventListener("abort", () => undefined);
      if (r.signal) seen.push(new WeakRef(r.signal));
      return "Score: 4";
    });
    for (let i = 0; i < 20; i++) await aspectRewards(input, { judge, signal: outer.signal });
    judge.requests.length = 0;
    await new Promise((r) => setTimeout(r, 10));
    gc();
    await new Promise((r) => setTimeout(r, 10));
    gc();
    expect(seen).toHaveLength(20 * 8);
    // An item's eight calls share its signal. With AbortSignal.any on Node 20 all 20 items' signals
    // were still alive here; now at most the last item's is (V8 may still hold it).
    const alive = new Set(seen.map((w) => w.deref()).filter(Boolean));
    expect(alive.size).toBeLessThanOrEqual(1);
  });
});
