import { approximateTokens, type Example, formatContext } from "@lmcot/core";
import { expectedReasoningTokens } from "@lmcot/llm";
import type { BenchConfig } from "./config";
import { loadExamples } from "./data";
import { type Cell, cells } from "./grid";
import { parseLarge } from "./large";

/** What a cell (or the whole grid) would take, without calling anything. */
export interface Estimate {
  examples: number;
  /** Large-LM calls. */
  calls: number;
  inputTokens: number;
  /** Reply tokens, reasoning included. */
  outputTokens: number;
  /** Of `outputTokens`, what reasoning models are expected to spend thinking (`expectedReasoningTokens`). */
  reasoningTokens: number;
  /** USD, or undefined when a model's price is unknown. */
  costUsd: number | undefined;
}

export interface CellEstimate extends Estimate {
  cell: Cell;
}

/** Typical reply lengths (tokens) used for estimates. */
const REPLY_TOKENS = { answer: 8, cot: 120, rationale: 80 };

type PriceOf = (modelId: string) => { input: number; output: number } | undefined;

function estimateCell(
  config: BenchConfig,
  cell: Cell,
  items: Example[],
  priceOf: PriceOf,
  scale = 1,
): CellEstimate {
  const k = cell.method === "lm-guided" ? config.selfConsistency : 1;
  const rationale = cell.method === "lm-guided" ? REPLY_TOKENS.rationale : 0;
  let sampled = 0;
  for (const e of items)
    sampled += (approximateTokens(formatContext(e, config.context)) + 80 + rationale) * k;
  const examples = Math.round(items.length * scale);
  const inputTokens = Math.round(sampled * scale);
  const id = parseLarge(cell.large).id;
  // Every large-LM call of a reasoning model thinks first, and thinking is billed as output.
  const reasoningTokens = examples * k * expectedReasoningTokens(id, cell.effort);
  const outputTokens =
    examples * k * (cell.method === "cot" ? REPLY_TOKENS.cot : REPLY_TOKENS.answer) + reasoningTokens;
  const price = id.startsWith("extractive:") ? { input: 0, output: 0 } : priceOf(id);
  return {
    cell,
    examples,
    calls: examples * k,
    inputTokens,
    outputTokens,
    reasoningTokens,
    costUsd: price ? (inputTokens * price.input + outputTokens * price.output) / 1e6 : undefined,
  };
}

/**
 * `--dry-run`: counts calls and estimates tokens (≈ 4 characters a token) and cost per cell from
 * the rendered prompts, calling nothing. `priceOf` gives USD per million input/output tokens (batch
 * prices for `batch: true`); `examples` (by dataset name, e.g. from `checkBench`) saves loading the
 * datasets again, and `scale` counts each of a dataset's examples that many times (a stand-in sample).
 */
export async function estimateBench(
  config: BenchConfig,
  priceOf: PriceOf,
  examples?: ReadonlyMap<string, Example[]>,
  scale?: ReadonlyMap<string, number>,
): Promise<CellEstimate[]> {
  const loaded = new Map(examples);
  for (const d of config.datasets) if (!loaded.has(d.name)) loaded.set(d.name, await loadExamples(d, config));
  return cells(config).map((cell) =>
    estimateCell(config, cell, loaded.get(cell.dataset) ?? [], priceOf, scale?.get(cell.dataset)),
  );
}

/** The grand total of a grid's estimates; its cost is the sum of the known costs. */
export function totalEstimate(estimates: readonly Estimate[]): Estimate & { unpriced: number } {
  const sum = (f: (e: Estimate) => number) => estimates.reduce((a, e) => a + f(e), 0);
  return {
    examples: sum((e) => e.examples),
    calls: sum((e) => e.calls),
    inputTokens: sum((e) => e.inputTokens),
    outputTokens: sum((e) => e.outputTokens),
    reasoningTokens: sum((e) => e.reasoningTokens),
    costUsd: sum((e) => e.costUsd ?? 0),
    unpriced: estimates.filter((e) => e.costUsd === undefined).length,
  };
}

/** One line of the dry run: `<label>: 57 examples, 57 large-LM calls, ~… tokens (~… of them reasoning), ~$0.0123`. */
export function formatEstimate(label: string, e: Estimate & { unpriced?: number }): string {
  const cost =
    e.costUsd === undefined
      ? "cost unknown (no price for this model)"
      : `~$${e.costUsd.toFixed(4)}${e.unpriced ? ` (+ ${e.unpriced} cell(s) with no price for their model)` : ""}`;
  const thinking = e.reasoningTokens ? ` (~${e.reasoningTokens} of them reasoning)` : "";
  return `${label}: ${e.examples} examples, ${e.calls} large-LM calls, ~${e.inputTokens} input + ~${e.outputTokens} output tokens${thinking}, ${cost}`;
}
