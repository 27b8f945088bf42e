import { ModelNotFoundError } from "@lmcot/core";
import { processEnv } from "../../env";
import type { ProviderOptions } from "../../registry";
import { AISDKModel } from "./bridge";
import type { AISDKLanguageModel } from "./spec";

/** An AI SDK provider package that ids like `google:gemini-2.5-flash` resolve through. */
export interface AISDKPackage {
  /** The id's provider part. */
  name: string;
  /** The npm package (an optional peer dependency of @lmcot/llm). */
  pkg: string;
  /** Its `createX({ apiKey, baseURL, headers })` export. */
  create: string;
  /** The variable holding the key, and the one for a base URL. */
  key: string;
  baseURL: string;
  example: string;
}

export const AISDK_PACKAGES: readonly AISDKPackage[] = [
  {
    name: "google",
    pkg: "@ai-sdk/google",
    create: "createGoogleGenerativeAI",
    key: "GOOGLE_GENERATIVE_AI_API_KEY",
    baseURL: "GOOGLE_GENERATIVE_AI_BASE_URL",
    example: "google:gemini-2.5-flash",
  },
  {
    name: "mistral",
    pkg: "@ai-sdk/mistral",
    create: "createMistral",
    key: "MISTRAL_API_KEY",
    baseURL: "MISTRAL_BASE_URL",
    example: "mistral:mistral-small-latest",
  },
  {
    name: "groq",
    pkg: "@ai-sdk/groq",
    create: "createGroq",
    key: "GROQ_API_KEY",
    baseURL: "GROQ_BASE_URL",
    example: "groq:llama-3.3-70b-versatile",
  },
  {
    name: "xai",
    pkg: "@ai-sdk/xai",
    create: "createXai",
    key: "XAI_API_KEY",
    baseURL: "XAI_BASE_URL",
    example: "xai:grok-3-mini",
  },
  {
    name: "cohere",
    pkg: "@ai-sdk/cohere",
    create: "createCohere",
    key: "COHERE_API_KEY",
    baseURL: "COHERE_BASE_URL",
    example: "cohere:command-r-plus",
  },
];

/** A variable specifier keeps bundlers and the type checker from resolving packages that may be absent. */
const importOptional = (specifier: string): Promise<Record<string, unknown>> => import(specifier);

const missing = (error: unknown) =>
  ["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND"].includes((error as { code?: string })?.code ?? "");

/** A bridged model whose provider package is imported on the first call. */
export function aisdkModel(entry: AISDKPackage, model: string, options: ProviderOptions): AISDKModel {
  const env = options.env ?? processEnv();
  const apiKey = options.apiKey ?? env[entry.key];
  const baseURL = options.baseURL ?? env[entry.baseURL];
  const id = `${entry.name}:${model}`;
  const load = async (): Promise<AISDKLanguageModel> => {
    const mod = await importOptional(entry.pkg).catch((error) => {
      if (!missing(error)) throw error;
      throw new ModelNotFoundError(
        `${id} needs the AI SDK provider package ${entry.pkg}, which is not installed: npm install ${entry.pkg} (or pnpm add ${entry.pkg})`,
        { provider: entry.name, cause: error },
      );
    });
    const create = mod[entry.create] as (settings: object) => (modelId: string) => AISDKLanguageModel;
    return create({
      ...(apiKey ? { apiKey } : {}),
      ...(baseURL ? { baseURL } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    })(model);
  };
  return new AISDKModel(load, id, [apiKey]);
}
