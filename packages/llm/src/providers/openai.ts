import {
  type CallWarning,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  InvalidResponseError,
  type LanguageModel,
  toLmcotError,
} from "@lmcot/core";
import type OpenAI from "openai";
import { chatTurns, finished, type StreamPart } from "./messages";

export interface OpenAIChatOptions {
  apiKey?: string;
  baseURL?: string;
  organization?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Name used in ids and errors (`openai`, `openai-compatible`). */
  provider?: string;
}

/** Reasoning models take `max_completion_tokens` and no sampling settings. */
const REASONING = /^(o\d|gpt-5)/;

const FINISH: Record<string, FinishReason> = {
  stop: "stop",
  length: "length",
  content_filter: "content-filter",
};

/** Chat completions through the official `openai` client; also any OpenAI-compatible server. */
export class OpenAIChatModel implements LanguageModel {
  readonly specificationVersion = "v1" as const;
  readonly id: string;
  private client?: Promise<OpenAI>;
  private readonly provider: string;
  private readonly apiKey: string | undefined;
  private readonly options: OpenAIChatOptions;

  constructor(
    readonly model: string,
    options: OpenAIChatOptions = {},
  ) {
    this.provider = options.provider ?? "openai";
    this.id = `${this.provider}:${options.provider === "openai-compatible" ? `${options.baseURL}#${model}` : model}`;
    this.apiKey = options.apiKey;
    this.options = options;
  }

  /** The SDK is imported on the first call, so importing this package stays cheap. */
  private connect(): Promise<OpenAI> {
    const o = this.options;
    // Retries belong to lmcot's retry middleware: the client's own are off, so none are doubled.
    this.client ??= import("openai").then(
      ({ default: OpenAI }) =>
        new OpenAI({
          apiKey: o.apiKey ?? "missing-key",
          baseURL: o.baseURL,
          organization: o.organization,
          maxRetries: 0,
          timeout: 10 * 60_000,
          defaultHeaders: o.headers,
        }),
    );
    return this.client;
  }

  private body(request: GenerateRequest): {
    body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
    warnings: CallWarning[];
  } {
    const { system, turns } = chatTurns(request, this.provider);
    const warnings: CallWarning[] = [];
    const reasoning = REASONING.test(this.model);
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: [...(system ? [{ role: "system" as const, content: system }] : []), ...turns],
      ...(request.maxTokens !== undefined
        ? reasoning
          ? { max_completion_tokens: request.maxTokens }
          : { max_tokens: request.maxTokens }
        : {}),
      ...(request.stop?.length ? { stop: request.stop.slice(0, 4) } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.logprobs
        ? {
            logprobs: true,
            ...(typeof request.logprobs === "number" ? { top_logprobs: request.logprobs } : {}),
          }
        : {}),
    };
    if (reasoning) {
      if (request.temperature !== undefined)
        warnings.push({ setting: "temperature", message: `${this.model} ignores temperature` });
    } else {
      if (request.temperature !== undefined) body.temperature = request.temperature;
      if (request.topP !== undefined) body.top_p = request.topP;
    }
    if ((request.stop?.length ?? 0) > 4)
      warnings.push({
        setting: "stop",
        message: "OpenAI takes at most 4 stop sequences; the rest were dropped",
      });
    Object.assign(body, request.providerOptions?.[this.provider] ?? request.providerOptions?.openai ?? {});
    return { body, warnings };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const { body, warnings } = this.body(request);
    let response: OpenAI.Chat.ChatCompletion;
    try {
      const client = await this.connect();
      response = await client.chat.completions.create(body, { signal: request.signal });
    } catch (error) {
      throw toLmcotError(error, this.provider, [this.apiKey]);
    }
    const choice = response?.choices?.[0];
    if (!choice || typeof choice.message?.content !== "string") {
      throw new InvalidResponseError(`${this.provider}: the response has no message content`, {
        provider: this.provider,
      });
    }
    const usage = {
      inputTokens: response.usage?.prompt_tokens ?? 0,
      outputTokens: response.usage?.completion_tokens ?? 0,
    };
    return {
      ...finished(choice.message.content, usage, choice.finish_reason, FINISH, warnings),
      ...(response.model ? { responseModel: response.model } : {}),
      ...(choice.logprobs?.content
        ? {
            logprobs: choice.logprobs.content.map((t) => ({
              token: t.token,
              logprob: t.logprob,
              ...(t.top_logprobs?.length
                ? { top: t.top_logprobs.map((x) => ({ token: x.token, logprob: x.logprob })) }
                : {}),
            })),
          }
        : {}),
    };
  }

  /** Streams text deltas (server-sent events), then one final part with usage and finish reason. */
  async *stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    const { body, warnings } = this.body(request);
    let text = "";
    let finish = "stop";
    let usage = { inputTokens: 0, outputTokens: 0 };
    try {
      const client = await this.connect();
      const stream = await client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        { signal: request.signal },
      );
      for await (const chunk of stream) {
        const delta = chunk.choices?.[0]?.delta?.content;
        if (delta) {
          text += delta;
          yield { textDelta: delta };
        }
        if (chunk.choices?.[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
        if (chunk.usage)
          usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
      }
    } catch (error) {
      throw toLmcotError(error, this.provider, [this.apiKey]);
    }
    yield { finish: finished(text, usage, finish, FINISH, warnings) };
  }
}
