/** USD per million tokens; batch prices default to `BATCH_DISCOUNT` of the online ones. */
export interface Price {
  input: number;
  output: number;
  batchInput?: number;
  batchOutput?: number;
}

/** OpenAI's Batch API and Anthropic's Message Batches both charge 50 % of the online price. */
export const BATCH_DISCOUNT = 0.5;

/**
 * Default list prices (USD per million tokens) as the providers published them on 2025-06-01.
 * Prices change: pass your own table (`prices` option) or call `setPrices` to override.
 */
export const DEFAULT_PRICES_DATE = "2025-06-01";
export const DEFAULT_PRICES: Record<string, Price> = {
  "openai:gpt-4o-mini": { input: 0.15, output: 0.6 },
  "openai:gpt-4o": { input: 2.5, output: 10 },
  "openai:gpt-4.1": { input: 2, output: 8 },
  "openai:gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "openai:gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "openai:o4-mini": { input: 1.1, output: 4.4 },
  "anthropic:claude-3-5-haiku-latest": { input: 0.8, output: 4 },
  "anthropic:claude-3-haiku-20240307": { input: 0.25, output: 1.25 },
  "anthropic:claude-sonnet-4-0": { input: 3, output: 15 },
  "anthropic:claude-opus-4-0": { input: 15, output: 75 },
};

const overrides: Record<string, Price> = {};

/** Adds or replaces prices for model ids (`provider:model`). */
export function setPrices(prices: Record<string, Price>): void {
  Object.assign(overrides, prices);
}

/** The price of a model id, from overrides, then defaults; dated snapshots match their alias (`gpt-4o-mini-2024-07-18`). */
export function priceOf(id: string, table: Record<string, Price> = {}): Price | undefined {
  const all = { ...DEFAULT_PRICES, ...overrides, ...table };
  if (all[id]) return all[id];
  const base = Object.keys(all)
    .filter((k) => id.startsWith(`${k}-`))
    .sort((a, b) => b.length - a.length)[0];
  return base ? all[base] : undefined;
}

export function costUsd(
  id: string,
  usage: { inputTokens: number; outputTokens: number },
  table?: Record<string, Price>,
): number | undefined {
  return priced(priceOf(id, table), usage);
}

const priced = (price: Price | undefined, usage: { inputTokens: number; outputTokens: number }) =>
  price ? (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1e6 : undefined;

/** The price of a model id when its calls go through the provider's batch API. */
export function batchPriceOf(id: string, table?: Record<string, Price>): Price | undefined {
  const price = priceOf(id, table);
  return price
    ? {
        input: price.batchInput ?? price.input * BATCH_DISCOUNT,
        output: price.batchOutput ?? price.output * BATCH_DISCOUNT,
      }
    : undefined;
}

/** What a call cost at batch prices. */
export function batchCostUsd(
  id: string,
  usage: { inputTokens: number; outputTokens: number },
  table?: Record<string, Price>,
): number | undefined {
  return priced(batchPriceOf(id, table), usage);
}

/**
 * The most a request body can cost at batch prices, before it is sent: its text at ≈ 4 characters a
 * token, and its whole reply limit (1,024 tokens where it sets none).
 */
export function estimateBatchCostUsd(
  id: string,
  body: Record<string, unknown>,
  table?: Record<string, Price>,
): number | undefined {
  const { max_tokens, max_completion_tokens, ...rest } = body as Record<string, unknown> & {
    max_tokens?: number;
    max_completion_tokens?: number;
  };
  const inputTokens = Math.ceil(JSON.stringify(rest).length / 4);
  const outputTokens = max_completion_tokens ?? max_tokens ?? 1024;
  return batchCostUsd(id, { inputTokens, outputTokens }, table);
}
