import {
  type CallWarning,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  notWireFormat,
  type ReplySeen,
  toLmcotError,
  UnreadableReplyError,
  type Usage,
  type WireContext,
} from "@lmcot/core";
import type OpenAI from "openai";
import { OpenAIBatchAPI } from "../batch/openai";
import type { Batchable } from "../batch/types";
import { bodyText, chatTurns, finished, type StreamPart } from "./messages";
import { answered, OPENAI_REASONING_MODEL, reasoningEffort, thinkingBudget } from "./reasoning";

export interface OpenAIChatOptions {
  apiKey?: string;
  baseURL?: string;
  organization?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Name used in ids and errors (`openai`, `openai-compatible`). */
  provider?: string;
}

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
  /** Where the client sends requests (the SDK's default or `OPENAI_BASE_URL` when none was given). */
  private baseURL?: string;
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
    this.client ??= import("openai").then(({ default: OpenAI }) => {
      const client = new OpenAI({
        apiKey: o.apiKey ?? "missing-key",
        baseURL: o.baseURL,
        organization: o.organization,
        maxRetries: 0,
        timeout: 10 * 60_000,
        defaultHeaders: o.headers,
        // In a browser the key is the user's own, typed into their page (see @lmcot/llm's browser entry).
        dangerouslyAllowBrowser: true,
      });
      this.baseURL = client.baseURL;
      return client;
    });
    return this.client;
  }

  /** The endpoint and format errors name when the reply is not a chat completion. */
  private wire(): WireContext {
    return { baseURL: this.baseURL ?? this.options.baseURL, expected: "an OpenAI chat completion" };
  }

  private body(request: GenerateRequest): {
    body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
    warnings: CallWarning[];
  } {
    const { system, turns } = chatTurns(request, this.provider);
    const warnings: CallWarning[] = [];
    const reasoning = OPENAI_REASONING_MODEL.test(this.model);
    const limit = replyLimit(request, reasoning, this.provider);
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: [...(system ? [{ role: "system" as const, content: system }] : []), ...turns],
      ...(limit !== undefined ? (reasoning ? { max_completion_tokens: limit } : { max_tokens: limit }) : {}),
      ...(request.reasoning && (reasoning || this.provider !== "openai")
        ? { reasoning_effort: reasoningEffort(request.reasoning) }
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
      if (request.reasoning && this.provider === "openai")
        warnings.push({ setting: "reasoning", message: `${this.model} is not a reasoning model` });
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
    let raw: Response;
    try {
      const client = await this.connect();
      ({ data: response, response: raw } = await client.chat.completions
        .create(body, { signal: request.signal })
        .withResponse());
    } catch (error) {
      throw toLmcotError(error, this.provider, [this.apiKey], this.wire());
    }
    return this.parse(response, body, warnings, {
      ...this.wire(),
      provider: this.provider,
      status: raw.status,
      contentType: raw.headers.get("content-type"),
    });
  }

  /** A chat completion (online, with what the server sent; or a line of a batch's output) → the result. */
  private parse(
    response: OpenAI.Chat.ChatCompletion,
    body: OpenAI.Chat.ChatCompletionCreateParams,
    warnings: CallWarning[],
    seen?: Omit<ReplySeen, "body">,
  ): GenerateResult {
    // No `choices` at all: not a chat completion, so the base URL points elsewhere.
    if (seen && !Array.isArray(response?.choices))
      throw notWireFormat({ ...seen, body: response }, [this.apiKey]);
    const choice = response?.choices?.[0];
    if (!choice || typeof choice.message?.content !== "string") {
      // A chat completion without text (a refusal, a tool call): the next call may read fine.
      throw new UnreadableReplyError(`${this.provider}: the response has no message content`, {
        provider: this.provider,
        retryable: true,
      });
    }
    const thought = reasoningText(choice.message);
    const result: GenerateResult = {
      ...finished(choice.message.content, usageOf(response.usage), choice.finish_reason, FINISH, warnings),
      ...(thought ? { reasoning: thought } : {}),
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
    return answered(result, this.id, limitOf(body));
  }

  /** OpenAI's Batch API for this model; undefined for OpenAI-compatible servers, which have none. */
  batchable(): Batchable | undefined {
    if (this.provider !== "openai") return undefined;
    return {
      api: new OpenAIBatchAPI(() => this.connect(), [this.apiKey]),
      model: this.model,
      body: (request) => this.body(request) as unknown as ReturnType<Batchable["body"]>,
      parse: (response, body, warnings) =>
        this.parse(response as OpenAI.Chat.ChatCompletion, body as never, warnings),
    };
  }

  /** Streams text deltas (server-sent events), then one final part with usage and finish reason. */
  async *stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    const { body, warnings } = this.body(request);
    let text = "";
    let thought = "";
    let finish = "stop";
    let usage: Usage = { inputTokens: 0, outputTokens: 0 };
    try {
      const client = await this.connect();
      const { data: stream, response: raw } = await client.chat.completions
        .create(
          { ...body, stream: true, stream_options: { include_usage: true } },
          { signal: request.signal },
        )
        .withResponse();
      const contentType = raw.headers.get("content-type");
      // Read as events, an HTML page would be an empty answer.
      if (!/event-stream/i.test(contentType ?? ""))
        throw notWireFormat(
          {
            ...this.wire(),
            provider: this.provider,
            status: raw.status,
            contentType,
            body: await bodyText(raw),
          },
          [this.apiKey],
        );
      for await (const chunk of stream) {
        thought += reasoningText(chunk.choices?.[0]?.delta) ?? "";
        const delta = chunk.choices?.[0]?.delta?.content;
        if (delta) {
          text += delta;
          yield { textDelta: delta };
        }
        if (chunk.choices?.[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
        if (chunk.usage) usage = usageOf(chunk.usage);
      }
    } catch (error) {
      throw toLmcotError(error, this.provider, [this.apiKey], this.wire());
    }
    const result = finished(text, usage, finish, FINISH, warnings);
    yield { finish: answered(thought ? { ...result, reasoning: thought } : result, this.id, limitOf(body)) };
  }
}

/** The reply budget sent: `maxTokens`, plus room to think for reasoning models or when reasoning is asked for. */
function replyLimit(request: GenerateRequest, reasoningModel: boolean, provider: string): number | undefined {
  if (request.maxTokens === undefined) return undefined;
  const thinks = reasoningModel || (request.reasoning !== undefined && provider !== "openai");
  return thinks ? request.maxTokens + thinkingBudget(request.reasoning) : request.maxTokens;
}

const limitOf = (body: OpenAI.Chat.ChatCompletionCreateParams) =>
  body.max_completion_tokens ?? body.max_tokens ?? undefined;

function usageOf(usage: OpenAI.CompletionUsage | undefined): Usage {
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens;
  return {
    inputTokens: usage?.prompt_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
    ...(reasoning ? { reasoningTokens: reasoning } : {}),
  };
}

/** DeepSeek and vLLM put the reasoning in `reasoning_content`, some servers in `reasoning`. */
function reasoningText(message: object | undefined): string | undefined {
  const m = (message ?? {}) as { reasoning_content?: unknown; reasoning?: unknown };
  const text = m.reasoning_content ?? m.reasoning;
  return typeof text === "string" && text !== "" ? text : undefined;
}
