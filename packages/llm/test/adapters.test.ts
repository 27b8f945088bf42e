import {
  AbortError,
  AuthenticationError,
  BadRequestError,
  type LanguageModel,
  OverloadedError,
  RateLimitError,
} from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { createModel, getModel, listProviders, registerProvider } from "../src/index";
import {
  anthropicError,
  anthropicMessage,
  delayed,
  FlakyLanguageModel,
  json,
  openaiCompletion,
  openaiError,
  sse,
} from "../src/testing/index";
import { KEY, loopbackServers } from "./helpers";

const start = loopbackServers();

interface Flavour {
  name: string;
  make: (url: string) => LanguageModel;
  ok: (text: string) => ReturnType<typeof json>;
  unauthorized: ReturnType<typeof json>;
  path: string;
}

const flavours: Flavour[] = [
  {
    name: "openai",
    make: (url) => getModel("openai:gpt-4o-mini", { apiKey: KEY, baseURL: `${url}/v1` }),
    ok: (text) => json(200, openaiCompletion(text)),
    unauthorized: openaiError(401, `Incorrect API key provided: ${KEY}.`),
    path: "/v1/chat/completions",
  },
  {
    name: "openai-compatible",
    make: (url) => getModel(`openai-compatible:${url}/v1#qwen2.5-7b`, {}),
    ok: (text) => json(200, openaiCompletion(text, { model: "qwen2.5-7b" })),
    unauthorized: openaiError(401, "bad token"),
    path: "/v1/chat/completions",
  },
  {
    name: "anthropic",
    make: (url) => getModel("anthropic:claude-3-5-haiku-latest", { apiKey: KEY, baseURL: url }),
    ok: (text) => json(200, anthropicMessage(text)),
    unauthorized: anthropicError(401, "authentication_error", `invalid x-api-key ${KEY}`),
    path: "/v1/messages",
  },
];

// One conformance suite, run by every adapter.
describe.each(flavours)("$name adapter conformance", (f) => {
  it("sends the request in the provider's format and returns text, usage and finish reason", async () => {
    const s = await start([f.ok("Answer: Paris")]);
    const model = f.make(s.url);
    const r = await model.generate({
      system: "Be brief.",
      prompt: "Capital of France?",
      maxTokens: 16,
      temperature: 0,
      seed: 7,
      stop: ["\n\n"],
    });
    expect(r.text).toBe("Answer: Paris");
    expect(r.finishReason).toBe("stop");
    expect(r.usage.inputTokens).toBeGreaterThan(0);
    expect(r.usage.outputTokens).toBeGreaterThan(0);
    expect(s.seen[0]!.url).toBe(f.path);
    const body = s.seen[0]!.body;
    if (f.name === "anthropic") {
      expect(body).toMatchObject({
        system: "Be brief.",
        max_tokens: 16,
        stop_sequences: ["\n\n"],
        temperature: 0,
        messages: [{ role: "user", content: "Capital of France?" }],
      });
      const h = s.seen[0]!.headers;
      expect(h["x-api-key"] ?? h.authorization).toMatch(new RegExp(`^(Bearer )?${KEY}$`));
      expect(h["anthropic-version"]).toBeDefined();
      expect(r.warnings?.map((w) => w.setting)).toContain("seed");
    } else {
      expect(body).toMatchObject({
        seed: 7,
        stop: ["\n\n"],
        max_tokens: 16,
        temperature: 0,
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Capital of France?" },
        ],
      });
    }
  });

  it("raises typed, redacted errors and never leaks the key", async () => {
    const s = await start([f.unauthorized]);
    const error = await f
      .make(s.url)
      .generate({ prompt: "x" })
      .catch((e) => e);
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(error.retryable).toBe(false);
    expect(String(error.message)).not.toContain(KEY);
    expect(s.seen).toHaveLength(1);
  });

  it("maps 400 to a bad request and 429 to a rate limit with its retry-after", async () => {
    const s = await start([
      f.name === "anthropic" ? anthropicError(400, "invalid_request_error", "bad") : openaiError(400, "bad"),
      f.name === "anthropic"
        ? anthropicError(429, "rate_limit_error", "slow down", { "retry-after": "3" })
        : openaiError(429, "slow down", { "retry-after-ms": "1500" }),
    ]);
    const model = f.make(s.url);
    expect(BadRequestError.isInstance(await model.generate({ prompt: "x" }).catch((e) => e))).toBe(true);
    const limited = await model.generate({ prompt: "x" }).catch((e) => e);
    expect(RateLimitError.isInstance(limited)).toBe(true);
    expect(limited.retryAfterMs).toBe(f.name === "anthropic" ? 3000 : 1500);
  });

  it("honours an abort mid-call", async () => {
    const s = await start([delayed(5000, f.ok("late"))]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await f
      .make(s.url)
      .generate({ prompt: "x", signal: controller.signal })
      .catch((e) => e);
    expect(AbortError.isInstance(error)).toBe(true);
  });
});

describe("provider specifics", () => {
  it("Anthropic 529 is an overloaded error", async () => {
    const s = await start([anthropicError(529, "overloaded_error", "Overloaded")]);
    const e = await flavours[2]!
      .make(s.url)
      .generate({ prompt: "x" })
      .catch((x) => x);
    expect(OverloadedError.isInstance(e)).toBe(true);
    expect(e.retryable).toBe(true);
  });

  it("a JSON body cut short is a retryable server error (a transfer fault, not a wrong endpoint)", async () => {
    const s = await start([
      (_r, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"id":"chatcmpl-1","choices":[{"index":0,"mess');
      },
    ]);
    const e = await flavours[0]!
      .make(s.url)
      .generate({ prompt: "x" })
      .catch((x) => x);
    expect(e.code).toBe("server");
    expect(e.message).toMatch(/cut short or malformed/);
    expect(e.retryable).toBe(true);
  });

  it("a connection reset is a retryable server error", async () => {
    const s = await start([(_r, res) => void res.socket?.destroy()]);
    const e = await flavours[0]!
      .make(s.url)
      .generate({ prompt: "x" })
      .catch((x) => x);
    expect(e.code).toBe("server");
    expect(e.retryable).toBe(true);
  });

  it("uses max_completion_tokens for reasoning models and returns logprobs when asked", async () => {
    const s = await start([
      json(
        200,
        openaiCompletion("yes", {
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: "yes" },
              finish_reason: "length",
              logprobs: {
                content: [
                  {
                    token: "yes",
                    logprob: -0.1,
                    bytes: null,
                    top_logprobs: [{ token: "yes", logprob: -0.1, bytes: null }],
                  },
                ],
              },
            },
          ],
        }),
      ),
    ]);
    const o = getModel("openai:o4-mini", { apiKey: KEY, baseURL: `${s.url}/v1` });
    const r = await o.generate({ prompt: "x", maxTokens: 5, temperature: 0.3, logprobs: 1 });
    // The answer's 5 tokens plus the default (medium) room to think.
    expect(s.seen[0]!.body).toMatchObject({
      max_completion_tokens: 5 + 8192,
      logprobs: true,
      top_logprobs: 1,
    });
    expect(s.seen[0]!.body).not.toHaveProperty("temperature");
    expect(r).toMatchObject({ finishReason: "length", logprobs: [{ token: "yes", logprob: -0.1 }] });
    expect(r.warnings?.[0]?.setting).toBe("temperature");
  });

  it("streams OpenAI and Anthropic server-sent events", async () => {
    const chunk = (content: string | null, finish: string | null) => ({
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: content ? { content } : {}, finish_reason: finish }],
    });
    const s = await start([
      sse([
        { data: chunk("Par", null) },
        { data: chunk("is", null) },
        { data: chunk(null, "stop") },
        {
          data: {
            id: "c",
            object: "chat.completion.chunk",
            created: 1,
            model: "m",
            choices: [],
            usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
          },
        },
        { data: "[DONE]" },
      ]),
      sse([
        {
          event: "message_start",
          data: {
            type: "message_start",
            message: {
              id: "m",
              type: "message",
              role: "assistant",
              content: [],
              model: "c",
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: 12, output_tokens: 1 },
            },
          },
        },
        {
          event: "content_block_start",
          data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
        },
        {
          event: "content_block_delta",
          data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Par" } },
        },
        {
          event: "content_block_delta",
          data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "is" } },
        },
        { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
        {
          event: "message_delta",
          data: {
            type: "message_delta",
            delta: { stop_reason: "end_turn", stop_sequence: null },
            usage: { output_tokens: 2 },
          },
        },
        { event: "message_stop", data: { type: "message_stop" } },
      ]),
    ]);
    const { OpenAIChatModel, AnthropicModel } = await import("../src/index");
    for (const model of [
      new OpenAIChatModel("m", { apiKey: KEY, baseURL: `${s.url}/v1` }),
      new AnthropicModel("c", { apiKey: KEY, baseURL: s.url }),
    ]) {
      const deltas: string[] = [];
      let final: { text: string; usage: { inputTokens: number; outputTokens: number } } | undefined;
      for await (const part of model.stream({ prompt: "x" })) {
        if ("textDelta" in part) deltas.push(part.textDelta);
        else final = part.finish;
      }
      expect(deltas).toEqual(["Par", "is"]);
      expect(final).toMatchObject({ text: "Paris", finishReason: "stop" });
      expect(final!.usage.outputTokens).toBe(2);
    }
  });

  it("says which key is missing and rejects unknown providers and malformed ids", () => {
    expect(() => getModel("openai:gpt-4o-mini", { env: {} })).toThrow(/set OPENAI_API_KEY/);
    expect(() => getModel("nope:x")).toThrow(/unknown provider nope in "nope:x" \(known: openai, /);
    expect(() => getModel("opneai:gpt-4o")).toThrow(
      /unknown provider opneai in "opneai:gpt-4o"; did you mean openai\?/,
    );
    expect(() => getModel("openai-compatible:http://127.0.0.1:1/v1")).toThrow(/<baseURL>#<model>/);
  });
});

describe("registry", () => {
  it("reads the key and base URL from the environment it is given", async () => {
    const s = await start([json(200, openaiCompletion("ok")), json(200, anthropicMessage("ok"))]);
    const env = {
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: `${s.url}/v1`,
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: s.url,
    };
    expect((await getModel("openai:gpt-4o-mini", { env }).generate({ prompt: "x" })).text).toBe("ok");
    expect(
      (await getModel("anthropic:claude-3-5-haiku-latest", { env }).generate({ prompt: "x" })).text,
    ).toBe("ok");
    expect(s.seen.map((r) => r.url)).toEqual(["/v1/chat/completions", "/v1/messages"]);
    for (const { headers } of s.seen)
      expect(headers["x-api-key"] ?? headers.authorization).toMatch(new RegExp(`^(Bearer )?${KEY}$`));
  });

  it("takes a user's own provider, listed and wrapped like the built-in ones", async () => {
    registerProvider("mine", (model) => new FlakyLanguageModel(["hello"], `mine:${model}`), {
      description: "a test provider",
      env: ["MINE_TOKEN"],
    });
    expect(listProviders().find((p) => p.name === "mine")).toEqual({
      name: "mine",
      description: "a test provider",
      example: "mine:<model>",
      env: ["MINE_TOKEN"],
    });
    const model = createModel("mine:small", { prices: { "mine:small": { input: 1e6, output: 0 } } });
    const r = await model.generate({ prompt: "x" });
    expect(r).toMatchObject({ text: "hello", costUsd: 1 });
    expect(model.id).toBe("mine:small");
    expect(model.meter.calls).toBe(1);
  });
});
