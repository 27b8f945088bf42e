import {
  BadRequestError,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type Usage,
} from "@lmcot/core";
import type { StreamPart } from "../messages";
import { answered } from "../reasoning";
import { callOptions, finishOf, toTypedError, usageOf, warningsOf } from "./convert";
import type { AISDKLanguageModel, AISDKStreamPart } from "./spec";

export interface FromAISDKOptions {
  /** The id's provider part (default: the AI SDK provider name before its first dot, e.g. `google`). */
  provider?: string;
  /** Secrets to redact from error messages (the key the provider object was made with). */
  secrets?: (string | undefined)[];
}

/** A model object, or a promise of one (a provider package loaded on first use). */
type Source = AISDKLanguageModel | (() => Promise<AISDKLanguageModel>);

/** Any AI SDK language model (`LanguageModelV2` / `V3`) behind lmcot's `LanguageModel`. */
export class AISDKModel implements LanguageModel {
  readonly specificationVersion = "v1" as const;
  readonly id: string;
  private model?: Promise<AISDKLanguageModel>;

  constructor(
    private readonly source: Source,
    id: string,
    private readonly secrets: (string | undefined)[] = [],
  ) {
    this.id = id;
  }

  private get provider(): string {
    return this.id.split(":")[0] ?? "ai-sdk";
  }

  private resolve(): Promise<AISDKLanguageModel> {
    const source = this.source;
    this.model ??= (typeof source === "function" ? source() : Promise.resolve(source)).then((model) => {
      if (model.specificationVersion !== "v2" && model.specificationVersion !== "v3")
        throw new BadRequestError(
          `${this.id}: AI SDK model specification ${String(model.specificationVersion)} is not supported (v2 and v3 are)`,
          { provider: this.provider },
        );
      return model;
    });
    // A failed load (a missing package) is not remembered, so installing it needs no restart.
    this.model.catch(() => (this.model = undefined));
    return this.model;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const model = await this.resolve();
    const { options, warnings } = callOptions(request, this.provider, model.modelId);
    try {
      const r = await model.doGenerate(options);
      const text = r.content.map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("");
      const thought = r.content.map((p) => (p.type === "reasoning" ? (p.text ?? "") : "")).join("");
      const all = [...warnings, ...warningsOf(r.warnings)];
      const result: GenerateResult = {
        text,
        usage: usageOf(r.usage),
        ...finishOf(r.finishReason),
        ...(all.length ? { warnings: all } : {}),
        ...(thought ? { reasoning: thought } : {}),
        ...(r.response?.modelId ? { responseModel: r.response.modelId } : {}),
      };
      return answered(result, this.id, options.maxOutputTokens);
    } catch (error) {
      throw toTypedError(error, this.provider, this.secrets);
    }
  }

  /** Streams text deltas, then one final part with usage and finish reason. */
  async *stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    const model = await this.resolve();
    const { options, warnings } = callOptions(request, this.provider, model.modelId);
    let text = "";
    let thought = "";
    let usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let finish = finishOf("other");
    try {
      const { stream } = await model.doStream(options);
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const part = value as AISDKStreamPart & Record<string, unknown>;
        if (part.type === "error") throw part.error;
        if (part.type === "stream-start") warnings.push(...warningsOf(part.warnings as never));
        if (part.type === "reasoning-delta") thought += String(part.delta ?? "");
        if (part.type === "finish") {
          usage = usageOf(part.usage as never);
          finish = finishOf(part.finishReason as never);
        }
        const delta = part.type === "text-delta" ? String(part.delta ?? part.textDelta ?? "") : "";
        if (delta) {
          text += delta;
          yield { textDelta: delta };
        }
      }
    } catch (error) {
      throw toTypedError(error, this.provider, this.secrets);
    }
    const result: GenerateResult = {
      text,
      usage,
      ...finish,
      ...(warnings.length ? { warnings } : {}),
      ...(thought ? { reasoning: thought } : {}),
    };
    yield { finish: answered(result, this.id, options.maxOutputTokens) };
  }
}

/**
 * Wraps an AI SDK language model object so it is an lmcot `LanguageModel`:
 * `fromAISDK(google("gemini-2.5-flash"))` has the id `google:gemini-2.5-flash`.
 */
export function fromAISDK(model: AISDKLanguageModel, options: FromAISDKOptions = {}): AISDKModel {
  const provider = options.provider ?? model.provider.split(".")[0] ?? "ai-sdk";
  return new AISDKModel(model, `${provider}:${model.modelId}`, options.secrets);
}
