import { describe, it } from "vitest";
import { getModel } from "../src/index";
import { languageModelConformance } from "../src/testing/index";

const example = {
  system: "Answer from the context.",
  prompt:
    "Context:\nParis: Paris is the capital of France.\nBerlin: Berlin is the capital of Germany.\n\nQuestion: What is the capital of France?\nAnswer:",
  maxTokens: 32,
};

// One suite, every adapter: the same cases third parties run on theirs through @lmcot/llm/testing.
languageModelConformance(
  { describe, it },
  {
    name: "openai",
    make: (url, key) => getModel("openai:gpt-4o-mini", { apiKey: key, baseURL: `${url}/v1` }),
    logprobs: true,
  },
);
languageModelConformance(
  { describe, it },
  {
    name: "openai-compatible",
    make: (url, key) => getModel(`openai-compatible:${url}/v1#qwen2.5-7b`, { apiKey: key }),
    logprobs: true,
  },
);
languageModelConformance(
  { describe, it },
  {
    name: "anthropic",
    make: (url, key) => getModel("anthropic:claude-3-5-haiku-latest", { apiKey: key, baseURL: url }),
  },
);
languageModelConformance(
  { describe, it },
  {
    name: "AI SDK bridge (google:gemini-2.5-flash via @ai-sdk/google)",
    make: (url, key) => getModel("google:gemini-2.5-flash", { apiKey: key, baseURL: `${url}/v1beta` }),
  },
);
languageModelConformance(
  { describe, it },
  {
    name: "AI SDK bridge (mistral:mistral-small-latest via @ai-sdk/mistral)",
    make: (url, key) => getModel("mistral:mistral-small-latest", { apiKey: key, baseURL: `${url}/v1` }),
  },
);
languageModelConformance(
  { describe, it },
  {
    name: "extractive",
    make: () => getModel("extractive:reader"),
    offline: true,
    prompt: example,
  },
);
