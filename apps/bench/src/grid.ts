import {
  type MethodName,
  type Prediction,
  type PromptRecord,
  type ReasoningEffort,
  runKey,
} from "@lmcot/core";
import type { BenchConfig } from "./config";
import { parseLarge } from "./large";

/** One cell of the grid: a method on a dataset with a model pair and a seed. */
export interface Cell {
  id: string;
  method: MethodName;
  dataset: string;
  /** The large LM as the grid names it: a model id, with `@low|@medium|@high` when it sets a reasoning effort. */
  large: string;
  /** The reasoning effort of `large`'s `@` suffix, passed to every large-LM call (absent: none set). */
  effort?: ReasoningEffort;
  small?: { id: string; label: string };
  seed: number;
}

/** What the run file holds per finished item. */
export interface BenchRecord {
  key: string;
  cell: Omit<Cell, "id"> & { id: string };
  exampleId: string;
  type?: string;
  question: string;
  gold: string[];
  /** Characters of context the prompt showed (for the long-context analysis). */
  contextChars: number;
  answer: string;
  rationale?: string;
  em: number;
  f1: number;
  costUsd: number;
  latencyMs: number;
  cached: boolean;
  /**
   * Large-LM tokens summed over the item's calls (`reasoningTokens`: the part of `outputTokens` spent
   * thinking, when the provider reports it); small-LM tokens when a small LM wrote the rationale.
   */
  usage: {
    inputTokens: number;
    outputTokens: number;
    reasoningTokens?: number;
    smallInputTokens?: number;
    smallOutputTokens?: number;
  };
  promptVersion: string;
  /**
   * Each call: prompt (context as `{{context}}`, the text is in contexts.jsonl), raw reply, reasoning
   * text when the model returned one, tokens. Absent in older runs.
   */
  prompts?: PromptRecord[];
  /** Self-consistency: each sampled rationale and its answer. */
  samples?: Prediction["samples"];
}

export function cellId(c: Omit<Cell, "id">): string {
  return [c.method, c.small?.label ?? "", c.dataset, c.large, `seed${c.seed}`].filter(Boolean).join(" · ");
}

/** Every cell of the grid, in a stable order. */
export function cells(config: BenchConfig): Cell[] {
  const out: Cell[] = [];
  for (const dataset of config.datasets)
    for (const large of config.large)
      for (const seed of config.seeds)
        for (const method of config.methods) {
          const smalls = method === "lm-guided" ? config.small : [undefined];
          const { effort } = parseLarge(large);
          for (const small of smalls) {
            const cell = {
              method,
              dataset: dataset.name,
              large,
              ...(effort ? { effort } : {}),
              ...(small ? { small } : {}),
              seed,
            };
            out.push({ id: cellId(cell), ...cell });
          }
        }
  return out;
}

/**
 * The run key of one example in one cell (see `runKey` in `@lmcot/core`). The large LM is keyed as the
 * grid names it, so `openai:o4-mini@low` and `@high` are different items.
 */
export function itemKey(cell: Cell, exampleId: string, promptVersion: string): string {
  return runKey({
    method: cell.method,
    dataset: cell.dataset,
    exampleId,
    models: { large: cell.large, small: cell.small?.id },
    promptVersion,
    seed: cell.seed,
  });
}
