// The parts of the AI SDK's LanguageModelV2 / V3 specification (`@ai-sdk/provider`) the bridge uses,
// written out so that no AI SDK package is needed at runtime or to build.

export type AISDKPrompt = (
  | { role: "system"; content: string }
  | { role: "user" | "assistant"; content: { type: "text"; text: string }[] }
)[];

export interface AISDKCallOptions {
  prompt: AISDKPrompt;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
  seed?: number;
  abortSignal?: AbortSignal;
  headers?: Record<string, string | undefined>;
  providerOptions?: Record<string, Record<string, unknown>>;
}

/** V2: a string; V3: `{ unified, raw }`. */
export type AISDKFinishReason = string | { unified: string; raw?: string };

/** V2: flat numbers; V3: `{ inputTokens: { total }, outputTokens: { total, reasoning } }`. */
export interface AISDKUsage {
  inputTokens?: number | { total?: number };
  outputTokens?: number | { total?: number; reasoning?: number };
  reasoningTokens?: number;
}

/** V2: `unsupported-setting` with `setting`; V3: `unsupported` / `compatibility` with `feature`. */
export interface AISDKWarning {
  type: string;
  setting?: string;
  feature?: string;
  details?: string;
  message?: string;
}

export interface AISDKGenerateResult {
  content: { type: string; text?: string }[];
  finishReason: AISDKFinishReason;
  usage: AISDKUsage;
  warnings?: AISDKWarning[];
  response?: { modelId?: string };
}

export type AISDKStreamPart =
  | { type: "text-delta"; delta?: string; textDelta?: string }
  | { type: "reasoning-delta"; delta?: string }
  | { type: "stream-start"; warnings?: AISDKWarning[] }
  | { type: "finish"; finishReason: AISDKFinishReason; usage: AISDKUsage }
  | { type: "error"; error: unknown }
  | { type: string };

/** An AI SDK language model object, e.g. `google("gemini-2.5-flash")`. */
export interface AISDKLanguageModel {
  readonly specificationVersion: "v2" | "v3";
  /** `google.generative-ai`, `mistral.chat`, …: the part before the dot keys `providerOptions`. */
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: AISDKCallOptions): PromiseLike<AISDKGenerateResult>;
  doStream(options: AISDKCallOptions): PromiseLike<{ stream: ReadableStream<AISDKStreamPart> }>;
}
