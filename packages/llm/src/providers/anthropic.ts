import type Anthropic from "@anthropic-ai/sdk";
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
  type WireContext,
} from "@lmcot/core";
import { AnthropicBatchAPI } from "../batch/anthropic";
import type { Batchable } from "../batch/types";
import { bodyText, chatTurns, finished, type StreamPart } from "./messages";
import { answered, thinkingBudget } from "./reasoning";

export interface AnthropicOptions {
  apiKey?: string;
  baseURL?: string;
  headers?: Record<string, string>;
  /** Messages API requires max_tokens; used when a request gives none. */
  defaultMaxTokens?: number;
}

const FINISH: Record<string, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  refusal: "content-filter",
};

/** The Messages API through the official `@anthropic-ai/sdk` client. */
export class AnthropicModel implements LanguageModel {
  readonly specificationVersion = "v1" as const;
  readonly id: string;
  private client?: Promise<Anthropic>;
  /** Where the client sends requests (the SDK's default or `ANTHROPIC_BASE_URL` when none was given). */
  private baseURL?: string;
  private readonly apiKey: string | undefined;
  private readonly defaultMaxTokens: number;
  private readonly options: AnthropicOptions;

  constructor(
    readonly model: string,
    options: AnthropicOptions = {},
  ) {
    this.id = `anthropic:${model}`;
    this.apiKey = options.apiKey;
    this.defaultMaxTokens = options.defaultMaxTokens ?? 1024;
    this.options = options;
  }

  /** The SDK is imported on the first call, so importing this package stays cheap. */
  private connect(): Promise<Anthropic> {
    const o = this.options;
    this.client ??= import("@anthropic-ai/sdk").then(({ default: Anthropic }) => {
      const client = new Anthropic({
        apiKey: o.apiKey ?? "missing-key",
        baseURL: o.baseURL,
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

  /** The endpoint and format errors name when the reply is not a message. */
  private wire(): WireContext {
    return { baseURL: this.baseURL ?? this.options.baseURL, expected: "an Anthropic message" };
  }

  private body(request: GenerateRequest): {
    body: Anthropic.MessageCreateParamsNonStreaming;
    warnings: CallWarning[];
  } {
    const { system, turns } = chatTurns(request, "anthropic");
    const warnings: CallWarning[] = [];
    if (request.seed !== undefined)
      warnings.push({ setting: "seed", message: "Anthropic's Messages API has no seed; results may vary" });
    if (request.logprobs)
      warnings.push({ setting: "logprobs", message: "Anthropic's Messages API returns no log-probs" });
    // Thinking needs at least 1024 tokens, counted inside max_tokens, and no sampling settings.
    const budget = request.reasoning ? Math.max(1024, thinkingBudget(request.reasoning)) : 0;
    if (budget && (request.temperature !== undefined || request.topP !== undefined))
      warnings.push({
        setting: "temperature",
        message: "Anthropic takes no temperature or topP with thinking",
      });
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: this.model,
      max_tokens: (request.maxTokens ?? this.defaultMaxTokens) + budget,
      messages: turns.map((t) => ({ role: t.role as "user" | "assistant", content: t.content })),
      ...(system ? { system } : {}),
      ...(budget ? { thinking: { type: "enabled" as const, budget_tokens: budget } } : {}),
      ...(request.temperature !== undefined && !budget ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined && !budget ? { top_p: request.topP } : {}),
      ...(request.stop?.length ? { stop_sequences: request.stop } : {}),
      ...(request.providerOptions?.anthropic ?? {}),
    };
    return { body, warnings };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const { body, warnings } = this.body(request);
    let response: Anthropic.Message;
    let raw: Response;
    try {
      const client = await this.connect();
      ({ data: response, response: raw } = await client.messages
        .create(body, { signal: request.signal })
        .withResponse());
    } catch (error) {
      throw toLmcotError(error, "anthropic", [this.apiKey], this.wire());
    }
    return this.parse(response, body, warnings, {
      ...this.wire(),
      provider: "anthropic",
      status: raw.status,
      contentType: raw.headers.get("content-type"),
    });
  }

  /** A message (online, with what the server sent; or a succeeded result of a batch) → the result. */
  private parse(
    response: Anthropic.Message,
    body: Anthropic.MessageCreateParams,
    warnings: CallWarning[],
    seen?: Omit<ReplySeen, "body">,
  ): GenerateResult {
    if (!Array.isArray(response?.content)) {
      // Not a message at all: the base URL points elsewhere.
      if (seen && response?.type !== "message")
        throw notWireFormat({ ...seen, body: response }, [this.apiKey]);
      throw new UnreadableReplyError("anthropic: the response has no content", {
        provider: "anthropic",
        retryable: true,
      });
    }
    const text = response.content.map((block) => (block.type === "text" ? block.text : "")).join("");
    const thought = response.content
      .map((block) => (block.type === "thinking" ? block.thinking : ""))
      .join("");
    const raw = response.stop_reason ?? "unknown";
    const usage = {
      inputTokens: response.usage?.input_tokens ?? 0,
      outputTokens: response.usage?.output_tokens ?? 0,
    };
    const result = {
      ...finished(text, usage, raw, FINISH, warnings),
      ...(thought ? { reasoning: thought } : {}),
      ...(response.model ? { responseModel: response.model } : {}),
    };
    return answered(result, this.id, body.max_tokens);
  }

  /** Anthropic's Message Batches for this model. */
  batchable(): Batchable {
    return {
      api: new AnthropicBatchAPI(() => this.connect(), [this.apiKey]),
      model: this.model,
      body: (request) => this.body(request) as unknown as ReturnType<Batchable["body"]>,
      parse: (response, body, warnings) => this.parse(response as Anthropic.Message, body as never, warnings),
    };
  }

  /** Streams text deltas (server-sent events), then one final part with usage and finish reason. */
  async *stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    const { body, warnings } = this.body(request);
    let text = "";
    let thought = "";
    let raw = "unknown";
    const usage = { inputTokens: 0, outputTokens: 0 };
    try {
      const client = await this.connect();
      const { data: stream, response: reply } = await client.messages
        .create({ ...body, stream: true }, { signal: request.signal })
        .withResponse();
      const contentType = reply.headers.get("content-type");
      // Read as events, an HTML page would be an empty answer.
      if (!/event-stream/i.test(contentType ?? ""))
        throw notWireFormat(
          {
            ...this.wire(),
            provider: "anthropic",
            status: reply.status,
            contentType,
            body: await bodyText(reply),
          },
          [this.apiKey],
        );
      for await (const event of stream) {
        if (event.type === "message_start") usage.inputTokens = event.message.usage.input_tokens;
        if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
          text += event.delta.text;
          yield { textDelta: event.delta.text };
        }
        if (event.type === "content_block_delta" && event.delta.type === "thinking_delta")
          thought += event.delta.thinking;
        if (event.type === "message_delta") {
          raw = event.delta.stop_reason ?? raw;
          usage.outputTokens = event.usage.output_tokens;
        }
      }
    } catch (error) {
      throw toLmcotError(error, "anthropic", [this.apiKey], this.wire());
    }
    const result = finished(text, usage, raw, FINISH, warnings);
    yield {
      finish: answered(thought ? { ...result, reasoning: thought } : result, this.id, body.max_tokens),
    };
  }
}
