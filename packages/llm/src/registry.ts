import {
  AuthenticationError,
  BadRequestError,
  didYouMean,
  type LanguageModel,
  parseModelId,
} from "@lmcot/core";
import { processEnv } from "./env";
import { AISDK_PACKAGES, aisdkModel } from "./providers/ai-sdk/packages";
import { AnthropicModel } from "./providers/anthropic";
import { ExtractiveReader } from "./providers/extractive";
import { LexicalJudge } from "./providers/lexical-judge";
import { OpenAIChatModel } from "./providers/openai";

export interface ProviderOptions {
  apiKey?: string;
  baseURL?: string;
  headers?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

/** Makes a model from the part of the id after `provider:`. */
export type ProviderFactory = (model: string, options: ProviderOptions) => LanguageModel;

/** What `lmcot models` shows about a provider. */
export interface ProviderInfo {
  name: string;
  description: string;
  example: string;
  /** Environment variables it reads (their values are never shown). */
  env: string[];
}

const providers = new Map<string, { factory: ProviderFactory; info: ProviderInfo }>();

/** Adds a provider, or replaces one: `registerProvider("mine", (model) => new MyModel(model), info)`. */
export function registerProvider(
  name: string,
  factory: ProviderFactory,
  info: Partial<ProviderInfo> = {},
): void {
  providers.set(name, {
    factory,
    info: {
      name,
      description: info.description ?? "user-registered provider",
      example: info.example ?? `${name}:<model>`,
      env: info.env ?? [],
    },
  });
}

export function listProviders(): ProviderInfo[] {
  return [...providers.values()].map((p) => p.info);
}

/** The values of every API key variable a provider reads, to redact from anything written or printed. */
export function apiKeysInEnv(env: Record<string, string | undefined> = processEnv()): string[] {
  return listProviders()
    .flatMap((p) => p.env)
    .filter((name) => /KEY|TOKEN/.test(name))
    .flatMap((name) => (env[name] ? [env[name]] : []));
}

function keyFrom(name: string, variable: string, options: ProviderOptions): string {
  const key = options.apiKey ?? (options.env ?? processEnv())[variable];
  if (!key)
    throw new AuthenticationError(`${name}: no API key; set ${variable} or pass apiKey`, { provider: name });
  return key;
}

/** Registers a hosted provider: its key from `apiKey` or `vars.key` (required), its URL from `baseURL` or `vars.baseURL`. */
function registerHosted(
  name: string,
  vars: { key: string; baseURL: string },
  make: (
    model: string,
    o: { apiKey: string; baseURL?: string; headers?: Record<string, string> },
  ) => LanguageModel,
  info: Pick<ProviderInfo, "description" | "example">,
): void {
  registerProvider(
    name,
    (model, o) =>
      make(model, {
        apiKey: keyFrom(name, vars.key, o),
        baseURL: o.baseURL ?? (o.env ?? processEnv())[vars.baseURL],
        headers: o.headers,
      }),
    { ...info, env: [vars.key, vars.baseURL] },
  );
}

registerHosted(
  "openai",
  { key: "OPENAI_API_KEY", baseURL: "OPENAI_BASE_URL" },
  (model, o) => new OpenAIChatModel(model, o),
  { description: "OpenAI chat completions (official openai client)", example: "openai:gpt-4o-mini" },
);
registerHosted(
  "anthropic",
  { key: "ANTHROPIC_API_KEY", baseURL: "ANTHROPIC_BASE_URL" },
  (model, o) => new AnthropicModel(model, o),
  {
    description: "Anthropic Messages API (official @anthropic-ai/sdk client)",
    example: "anthropic:claude-3-5-haiku-latest",
  },
);
registerProvider(
  "openai-compatible",
  (spec, o) => {
    const hash = spec.lastIndexOf("#");
    if (hash <= 0 || hash === spec.length - 1) {
      throw new BadRequestError(
        `openai-compatible ids look like openai-compatible:<baseURL>#<model>, e.g. openai-compatible:http://127.0.0.1:8000/v1#qwen; got "${spec}"`,
      );
    }
    return new OpenAIChatModel(spec.slice(hash + 1), {
      provider: "openai-compatible",
      baseURL: spec.slice(0, hash),
      apiKey: o.apiKey ?? (o.env ?? processEnv()).OPENAI_COMPATIBLE_API_KEY ?? "not-needed",
      headers: o.headers,
    });
  },
  {
    description: "any OpenAI-compatible server: vLLM, Ollama, llama.cpp, TGI",
    example: "openai-compatible:http://127.0.0.1:8000/v1#qwen",
    env: ["OPENAI_COMPATIBLE_API_KEY"],
  },
);
registerProvider(
  "extractive",
  (name) => (name === "judge" ? new LexicalJudge() : new ExtractiveReader(name)),
  {
    description:
      "offline stand-ins: classical extractive QA over the prompt's context (reader), a lexical aspect judge (judge); no network, free",
    example: "extractive:reader",
  },
);

for (const entry of AISDK_PACKAGES)
  registerProvider(entry.name, (model, o) => aisdkModel(entry, model, o), {
    description: `through the AI SDK (needs the optional package ${entry.pkg})`,
    example: entry.example,
    env: [entry.key, entry.baseURL],
  });

/** Resolves `provider:model` to a bare adapter (no middleware). */
export function getModel(id: string, options: ProviderOptions = {}): LanguageModel {
  const { provider, model } = parseModelId(id);
  const entry = providers.get(provider);
  if (!entry)
    throw new BadRequestError(
      `unknown provider ${provider} in "${id}"${didYouMean(provider, providers.keys())} (known: ${[...providers.keys()].join(", ")}; add one with registerProvider)`,
    );
  return entry.factory(model, options);
}
