import type { LanguageModel } from "@lmcot/core";
import { createModel, indexedDbStore } from "@lmcot/llm";

export interface LargeForm {
  provider: "openai" | "anthropic" | "openai-compatible";
  baseURL: string;
  model: string;
  apiKey: string;
}

const KEY_ITEM = "lmcot-playground-key";

/** The key kept for this tab, if the user asked for that. */
export const rememberedKey = (): string | null => sessionStorage.getItem(KEY_ITEM);

/** Keeps the key in sessionStorage (this tab only) when asked, else removes any kept copy. */
export function rememberKey(key: string, remember: boolean): void {
  if (remember && key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

/** The large LM through @lmcot/llm's browser entry: the provider's official SDK, the user's key. */
export function largeModel(form: LargeForm): LanguageModel {
  const model = form.model.trim();
  const baseURL = form.baseURL.trim();
  if (!model) throw new Error("name the large LM (e.g. gpt-4o-mini)");
  if (form.provider === "openai-compatible" && !baseURL)
    throw new Error("an OpenAI-compatible server needs its base URL, e.g. http://127.0.0.1:11434/v1");
  const id =
    form.provider === "openai-compatible"
      ? `openai-compatible:${baseURL}#${model}`
      : `${form.provider}:${model}`;
  return createModel(id, {
    env: {},
    ...(form.apiKey ? { apiKey: form.apiKey } : {}),
    ...(baseURL && form.provider !== "openai-compatible" ? { baseURL } : {}),
    retries: 1,
    timeoutMs: 120_000,
    // The same call again (same model, prompt and settings) is answered from this browser, free.
    cacheStore: indexedDbStore({ name: "lmcot-playground" }),
  });
}
