import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import {
  AuthenticationError,
  EmptyReplyError,
  ModelNotFoundError,
  RateLimitError,
  ServerError,
} from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { AISDK_PACKAGES, type AISDKLanguageModel, createModel, fromAISDK, getModel } from "../src/index";
import { aisdkModel } from "../src/providers/ai-sdk/packages";
import { geminiErrorBody, geminiResponse, json } from "../src/testing/index";
import { recorded } from "./fixtures";
import { faultServers, KEY, loopbackServers } from "./helpers";

const start = loopbackServers();
const faults = faultServers();
const GOOGLE_KEY = "AIzaSyTEST-0123456789abcdefghij";

const gemini = (url: string, env: NodeJS.ProcessEnv = {}) =>
  getModel("google:gemini-2.5-flash", { apiKey: GOOGLE_KEY, baseURL: `${url}/v1beta`, env });

describe("AI SDK bridge: google:gemini-2.5-flash through @ai-sdk/google", () => {
  it("replays a recorded Gemini reply: text, usage with thinking tokens, finish reason, model", async () => {
    const s = await start([json(200, recorded("google-reasoning"))]);
    const r = await gemini(s.url).generate({
      system: "Be brief.",
      prompt: "How many r in strawberry?",
      maxTokens: 64,
      temperature: 0,
      seed: 3,
      stop: ["\n\n\n"],
    });
    expect(r.text).toBe('There are **3** "r"s in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.');
    expect(r.usage).toEqual({ inputTokens: 9, outputTokens: 29 + 282, reasoningTokens: 282 });
    expect(r).toMatchObject({
      finishReason: "stop",
      rawFinishReason: "STOP",
    });
    const seen = s.seen[0]!;
    expect(seen.url).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(seen.headers["x-goog-api-key"]).toBe(GOOGLE_KEY);
    expect(seen.body).toMatchObject({
      systemInstruction: { parts: [{ text: "Be brief." }] },
      contents: [{ role: "user", parts: [{ text: "How many r in strawberry?" }] }],
      generationConfig: { temperature: 0, seed: 3, stopSequences: ["\n\n\n"] },
    });
    // gemini-2.5 thinks by default: the reply budget leaves it room (the answer's 64 + medium).
    expect((seen.body.generationConfig as { maxOutputTokens: number }).maxOutputTokens).toBe(64 + 8192);
  });

  it("maps reasoning to Gemini's thinkingConfig and the base URL from GOOGLE_GENERATIVE_AI_BASE_URL", async () => {
    const s = await start([json(200, geminiResponse("Paris", { input: 5, output: 1, thoughts: 40 }))]);
    const model = getModel("google:gemini-2.5-flash", {
      env: { GOOGLE_GENERATIVE_AI_API_KEY: GOOGLE_KEY, GOOGLE_GENERATIVE_AI_BASE_URL: `${s.url}/v1beta` },
    });
    await model.generate({ prompt: "q", maxTokens: 10, reasoning: { budgetTokens: 512 } });
    expect(s.seen[0]!.body.generationConfig).toMatchObject({
      maxOutputTokens: 522,
      thinkingConfig: { thinkingBudget: 512, includeThoughts: true },
    });
  });

  it("an empty Gemini reply cut at MAX_TOKENS is an EmptyReplyError", async () => {
    const s = await start([
      json(200, geminiResponse("", { input: 5, output: 0, thoughts: 74 }, { finishReason: "MAX_TOKENS" })),
    ]);
    await expect(gemini(s.url).generate({ prompt: "q", maxTokens: 10 })).rejects.toSatisfy(
      EmptyReplyError.isInstance,
    );
  });

  it("streams through doStream with the same text and usage as generate", async () => {
    const f = await faults({ reply: "Answer: Paris" });
    const model = gemini(f.url) as ReturnType<typeof gemini> & {
      stream: (r: object) => AsyncGenerator<{ textDelta?: string; finish?: unknown }>;
    };
    const whole = await model.generate({ prompt: "Capital of France?" });
    const parts = [];
    for await (const part of model.stream({ prompt: "Capital of France?" })) parts.push(part);
    expect(parts.map((p) => p.textDelta ?? "").join("")).toBe(whole.text);
    expect(parts.at(-1)?.finish).toMatchObject({
      text: whole.text,
      usage: whole.usage,
      finishReason: "stop",
    });
    expect(f.seen[1]!.url).toMatch(/:streamGenerateContent\?alt=sse$/);
  });

  it("maps Gemini error statuses to typed errors with the key redacted, and honours retry-after through createModel", async () => {
    const f = await faults({ fault: 429, failFirst: 1, retryAfter: 0 });
    const model = createModel("google:gemini-2.5-flash", {
      apiKey: GOOGLE_KEY,
      baseURL: `${f.url}/v1beta`,
      retry: { baseDelayMs: 1 },
    });
    expect((await model.generate({ prompt: "q" })).text).toBe("Answer: yes");
    expect(f.failed).toBe(1);

    const s = await start([json(401, geminiErrorBody(401, `API key not valid: ${GOOGLE_KEY}`))]);
    const error = await gemini(s.url)
      .generate({ prompt: "q" })
      .catch((e) => e);
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(error.message).not.toContain(GOOGLE_KEY);
    expect(error.status).toBe(401);

    const r = await start([json(429, geminiErrorBody(429, "quota"), { "retry-after": "2" })]);
    const limited = await gemini(r.url)
      .generate({ prompt: "q" })
      .catch((e) => e);
    expect(RateLimitError.isInstance(limited)).toBe(true);
    expect(limited.retryAfterMs).toBe(2000);

    const down = await start([json(503, geminiErrorBody(503, "overloaded"))]);
    expect(
      (
        await gemini(down.url)
          .generate({ prompt: "q" })
          .catch((e) => e)
      ).code,
    ).toBe("overloaded");
  });

  it("reads Gemini's retryDelay from a recorded 429 body as retryAfterMs", async () => {
    const s = await start([json(429, recorded("google-429-retry-info"))]);
    const error = await gemini(s.url)
      .generate({ prompt: "q" })
      .catch((e) => e);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.retryAfterMs).toBe(34_400);
    expect(error.message).toMatch(/You exceeded your current quota/);
  });

  it("a refused connection is a retryable ServerError", async () => {
    const s = await start([json(200, {})]);
    const url = s.url;
    await s.close();
    const error = await gemini(url)
      .generate({ prompt: "q" })
      .catch((e) => e);
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.retryable).toBe(true);
  });

  it("goes through createModel's middleware: cache hits skip the network, the meter counts", async () => {
    const f = await faults({ reply: "Answer: Paris" });
    const dir = mkdtempSync(join(tmpdir(), "lmcot-aisdk-"));
    const model = createModel("google:gemini-2.5-flash", {
      apiKey: GOOGLE_KEY,
      baseURL: `${f.url}/v1beta`,
      cacheDir: dir,
      onCacheWarning: () => {},
    });
    await model.generate({ prompt: "q", maxTokens: 8 });
    const again = await model.generate({ prompt: "q", maxTokens: 8 });
    expect(again.cached).toBe(true);
    expect(f.seen).toHaveLength(1);
    expect(model.meter).toMatchObject({ calls: 2, cacheHits: 1 });
  });
});

describe("fromAISDK", () => {
  it("wraps a provider's model object; the id is provider:model", async () => {
    const s = await start([json(200, recorded("google-reasoning"))]);
    const model = fromAISDK(
      createGoogleGenerativeAI({ apiKey: GOOGLE_KEY, baseURL: `${s.url}/v1beta` })(
        "gemini-2.5-pro",
      ) as unknown as AISDKLanguageModel,
      { secrets: [GOOGLE_KEY] },
    );
    expect(model.id).toBe("google:gemini-2.5-pro");
    expect((await model.generate({ prompt: "q" })).text).toMatch(/strawberry/);
  });

  it("reads V2 results too (flat usage, string finish reason, unsupported-setting warnings)", async () => {
    const v2: AISDKLanguageModel = {
      specificationVersion: "v2",
      provider: "mock.chat",
      modelId: "m1",
      doGenerate: async () => ({
        content: [
          { type: "reasoning", text: "think" },
          { type: "text", text: "ok" },
        ],
        finishReason: "stop",
        usage: { inputTokens: 3, outputTokens: 4, reasoningTokens: 2 },
        warnings: [{ type: "unsupported-setting", setting: "seed", details: "no seed" }],
      }),
      doStream: async () => ({ stream: new ReadableStream() }),
    };
    const r = await fromAISDK(v2).generate({ prompt: "q", seed: 1 });
    expect(r).toMatchObject({
      text: "ok",
      reasoning: "think",
      usage: { inputTokens: 3, outputTokens: 4, reasoningTokens: 2 },
      finishReason: "stop",
      warnings: [{ setting: "seed", message: "no seed" }],
    });
  });
});

describe("AI SDK provider packages", () => {
  it("an id whose package is not installed is a ModelNotFoundError naming the package", async () => {
    const entry = { ...AISDK_PACKAGES[0]!, name: "nowhere", pkg: "@ai-sdk/not-installed-here" };
    const error = await aisdkModel(entry, "m", { apiKey: KEY })
      .generate({ prompt: "q" })
      .catch((e) => e);
    expect(ModelNotFoundError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/nowhere:m needs the AI SDK provider package @ai-sdk\/not-installed-here/);
    expect(error.message).toMatch(/npm install @ai-sdk\/not-installed-here/);
    expect(error.retryable).toBe(false);
  });

  it("mistral:… resolves through @ai-sdk/mistral when it is installed", async () => {
    const f = await faults({ reply: "Answer: Paris" });
    const model = getModel("mistral:mistral-small-latest", { apiKey: KEY, baseURL: `${f.url}/v1` });
    expect((await model.generate({ prompt: "q" })).text).toBe("Answer: Paris");
    expect(f.seen[0]!.api).toBe("chat");
  });
});
