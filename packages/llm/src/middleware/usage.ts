import type { Usage } from "@lmcot/core";
import { costUsd, type Price } from "../prices";
import { type Middleware, withGenerate } from "./types";

/** Running totals of one or more models' calls. */
export class UsageMeter {
  calls = 0;
  cacheHits = 0;
  inputTokens = 0;
  outputTokens = 0;
  /** Reasoning tokens, where providers report them (already counted in `outputTokens`). */
  reasoningTokens = 0;
  costUsd = 0;
  /** Calls whose model had no known price (their cost is not in `costUsd`). */
  unpricedCalls = 0;
  readonly byModel = new Map<
    string,
    { calls: number; inputTokens: number; outputTokens: number; costUsd: number }
  >();

  record(modelId: string, usage: Usage, cost: number | undefined, cached: boolean): void {
    this.calls++;
    if (cached) {
      this.cacheHits++;
      return;
    }
    this.inputTokens += usage.inputTokens;
    this.outputTokens += usage.outputTokens;
    this.reasoningTokens += usage.reasoningTokens ?? 0;
    if (cost === undefined) this.unpricedCalls++;
    else this.costUsd += cost;
    const m = this.byModel.get(modelId) ?? { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    m.calls++;
    m.inputTokens += usage.inputTokens;
    m.outputTokens += usage.outputTokens;
    m.costUsd += cost ?? 0;
    this.byModel.set(modelId, m);
  }
}

/** Prices each call (`costUsd`) from the price table and records it in the meter; cache hits cost 0. */
export function usageMeter(meter: UsageMeter, prices?: Record<string, Price>): Middleware {
  return (model) =>
    withGenerate(model, async (request) => {
      const result = await model.generate(request);
      const cost = result.cached ? 0 : (result.costUsd ?? costUsd(model.id, result.usage, prices));
      meter.record(model.id, result.usage, cost, result.cached === true);
      return cost === undefined ? result : { ...result, costUsd: cost };
    });
}
