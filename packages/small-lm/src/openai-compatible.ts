import {
  AbortError,
  BadRequestError,
  type CallPolicy,
  callWithPolicy,
  InvalidResponseError,
  mapLimited,
  notWireFormat,
  type RationaleGenerateOptions,
  type RationaleModel,
  type RationaleOutput,
  type ScoredSequence,
  type ScoreRequest,
  toLmcotError,
} from "@lmcot/core";
import OpenAI from "openai";
import { z } from "zod";
import { resolveGenerateOptions } from "./transformers/options";

/**
 * Besides its own settings, core's call policy: `timeoutMs` per attempt (default 60 s), `retries`
 * (default 4, honouring `retry-after`), `totalTimeoutMs` over all attempts (default 300 s), backoff.
 */
export interface OpenAICompatibleOptions extends CallPolicy {
  /** Sent as the bearer token; default `$OPENAI_COMPATIBLE_API_KEY` or "none" (local servers ignore it). */
  apiKey?: string;
  /** Requests in flight at once (the server batches them). Default 8. */
  concurrency?: number;
  /** Default max new tokens. Default 128. */
  maxNewTokens?: number;
}

const logprobsSchema = z.object({
  tokens: z.array(z.string()).optional(),
  token_logprobs: z.array(z.number().nullable()),
  text_offset: z.array(z.number()).optional(),
});

const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        index: z.number().int().min(0),
        text: z.string(),
        finish_reason: z.string().nullable().optional(),
        logprobs: logprobsSchema.nullable().optional(),
      }),
    )
    .min(1),
  usage: z
    .object({ prompt_tokens: z.number(), completion_tokens: z.number().optional() })
    .nullable()
    .optional(),
});

type Completion = z.infer<typeof completionSchema>;

/** vLLM's `return_tokens_as_token_ids` writes tokens as `token_id:123`. */
function tokenId(token: string): number | undefined {
  const m = /^token_id:(\d+)$/.exec(token);
  return m ? Number(m[1]) : undefined;
}

/**
 * A small model hosted by an OpenAI-compatible completions server (vLLM, TGI, llama.cpp server).
 * Id: `openai-compatible:<baseURL>#<model>`, e.g. `openai-compatible:http://127.0.0.1:8000/v1#flan-t5-large`.
 * Uses the legacy completions API (raw prompt in, text out) with `logprobs` requested.
 */
export class OpenAICompatibleRationaleModel implements RationaleModel {
  readonly specificationVersion = "v1" as const;
  readonly id: string;
  readonly baseURL: string;
  readonly model: string;
  private readonly client: OpenAI;
  private readonly options: OpenAICompatibleOptions;
  private readonly apiKey: string;

  constructor(spec: string, options: OpenAICompatibleOptions = {}) {
    const hash = spec.lastIndexOf("#");
    if (hash <= 0 || hash === spec.length - 1) {
      throw new BadRequestError(
        `openai-compatible model "${spec}" must look like <baseURL>#<model>, e.g. http://127.0.0.1:8000/v1#flan-t5-large`,
      );
    }
    this.baseURL = spec.slice(0, hash);
    this.model = spec.slice(hash + 1);
    if (!/^https?:\/\//.test(this.baseURL))
      throw new BadRequestError(
        `openai-compatible base URL "${this.baseURL}" must start with http:// or https://`,
      );
    this.id = `openai-compatible:${spec}`;
    this.options = options;
    this.apiKey = options.apiKey ?? globalThis.process?.env.OPENAI_COMPATIBLE_API_KEY ?? "none";
    // Retries and timeouts belong to the call policy: the client's own are off, so none are doubled.
    this.client = new OpenAI({
      baseURL: this.baseURL,
      apiKey: this.apiKey,
      maxRetries: 0,
      timeout: 10 * 60_000,
      // In a browser the key is the user's own (see the browser entry in the README).
      dangerouslyAllowBrowser: true,
    });
  }

  /** One completions call under core's call policy, its errors typed and the key redacted from them. */
  private complete(body: Record<string, unknown>, signal?: AbortSignal): Promise<Completion> {
    return callWithPolicy(
      async (attempt) => {
        let raw: unknown;
        let reply: Response;
        try {
          ({ data: raw, response: reply } = await this.client.completions
            .create(body as never, { signal: attempt })
            .withResponse());
        } catch (error) {
          throw toLmcotError(error, "openai-compatible", [this.apiKey], this.wire);
        }
        return this.parse(raw, reply);
      },
      this.options,
      { ...(signal ? { signal } : {}), label: this.id },
    );
  }

  /** Where errors say the calls went, and what they expected back. */
  private get wire() {
    return { baseURL: this.baseURL, expected: "an OpenAI completion" };
  }

  private parse(raw: unknown, reply: Response): Completion {
    // Not even an object with choices: the base URL points at something else (a web page, another API).
    if (typeof raw !== "object" || raw === null || !("choices" in raw))
      throw notWireFormat(
        {
          provider: "openai-compatible",
          ...this.wire,
          status: reply.status,
          contentType: reply.headers.get("content-type"),
          body: raw,
        },
        [this.apiKey],
      );
    const parsed = completionSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidResponseError(
        `${this.id}: response ${issue?.path.join(".") || "body"}: ${issue?.message}`,
        {
          provider: "openai-compatible",
        },
      );
    }
    return parsed.data;
  }

  private mapLimited<T, R>(items: T[], run: (item: T, index: number) => Promise<R>): Promise<R[]> {
    return mapLimited(items, this.options.concurrency ?? 8, run);
  }

  async generate(inputs: string[], options: RationaleGenerateOptions = {}): Promise<RationaleOutput[]> {
    if (options.signal?.aborted) throw new AbortError();
    const resolved = resolveGenerateOptions(options, this.options.maxNewTokens ?? 128);
    const n = resolved.numReturnSequences;
    const perInput = await this.mapLimited(inputs, async (prompt, inputIndex) => {
      const body: Record<string, unknown> = {
        model: this.model,
        prompt,
        max_tokens: resolved.maxNewTokens,
        n,
        temperature: resolved.settings.sample ? resolved.settings.temperature : 0,
        top_p: resolved.settings.topP,
        ...(resolved.settings.topK > 0 ? { top_k: resolved.settings.topK } : {}),
        ...(resolved.settings.sample ? { seed: resolved.seed + inputIndex } : {}),
        ...(options.returnLogprobs ? { logprobs: 1, return_tokens_as_token_ids: true } : {}),
      };
      const completion = await this.complete(body, options.signal);
      const choices = [...completion.choices].sort((a, b) => a.index - b.index);
      if (choices.length !== n) {
        throw new InvalidResponseError(`${this.id}: asked for ${n} completions, got ${choices.length}`, {
          provider: "openai-compatible",
        });
      }
      return choices.map((choice): RationaleOutput => {
        const lp = choice.logprobs ?? undefined;
        const ids = lp?.tokens?.map(tokenId);
        const outputTokens =
          lp?.token_logprobs.length ?? Math.round((completion.usage?.completion_tokens ?? 0) / n);
        return {
          text: choice.text.trim(),
          inputIndex,
          ...(ids?.every((x) => x !== undefined) ? { tokenIds: ids as number[] } : {}),
          ...(options.returnLogprobs && lp?.token_logprobs.every((x) => x !== null)
            ? { logprobs: lp.token_logprobs as number[] }
            : {}),
          finishReason: choice.finish_reason === "length" ? "length" : "stop",
          usage: { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens },
        };
      });
    });
    return perInput.flat();
  }

  /**
   * Teacher-forced log-probs by echo: the server scores `input + output` (`echo`, `logprobs`,
   * `max_tokens: 0`) and the tokens starting at or after the output's first character are kept.
   * The closing EOS is not included (servers do not echo it).
   */
  async scoreLogprobs(
    items: ScoreRequest[],
    options: { signal?: AbortSignal } = {},
  ): Promise<ScoredSequence[]> {
    return this.mapLimited(items, async (item) => {
      const completion = await this.complete(
        {
          model: this.model,
          prompt: item.input + item.output,
          max_tokens: 0,
          echo: true,
          logprobs: 0,
          temperature: 0,
          return_tokens_as_token_ids: true,
        },
        options.signal,
      );
      const lp = completion.choices[0]?.logprobs;
      if (!lp?.text_offset || !lp.tokens) {
        throw new InvalidResponseError(
          `${this.id}: echo response has no logprobs.tokens/text_offset; the server cannot score`,
          {
            provider: "openai-compatible",
          },
        );
      }
      const tokenIds: number[] = [];
      const logprobs: number[] = [];
      lp.text_offset.forEach((offset, i) => {
        if (offset < item.input.length) return;
        const value = lp.token_logprobs[i];
        if (value === null || value === undefined) return;
        logprobs.push(value);
        const id = tokenId(lp.tokens?.[i] ?? "");
        if (id !== undefined) tokenIds.push(id);
      });
      return {
        tokenIds: tokenIds.length === logprobs.length ? tokenIds : [],
        logprobs,
        total: logprobs.reduce((a, b) => a + b, 0),
      };
    });
  }
}
