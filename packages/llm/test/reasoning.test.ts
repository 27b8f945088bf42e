import { EmptyReplyError } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { createModel, getModel } from "../src/index";
import { REASONING_BUDGET } from "../src/providers/reasoning";
import { json, openaiCompletion, sse } from "../src/testing/index";
import { recorded } from "./fixtures";
import { KEY, loopbackServers } from "./helpers";

const start = loopbackServers();

/** An o-series reply that spent the whole budget thinking: empty content, finish reason length. */
const spentThinking = openaiCompletion("", {
  model: "o4-mini-2025-04-16",
  choices: [{ index: 0, message: { role: "assistant", content: "" }, finish_reason: "length" }],
  usage: {
    prompt_tokens: 50,
    completion_tokens: 2112,
    total_tokens: 2162,
    completion_tokens_details: { reasoning_tokens: 2112 },
  },
});

describe("reasoning: OpenAI o-series and gpt-5", () => {
  it("sends reasoning_effort and max_completion_tokens with room to think, and counts reasoning tokens", async () => {
    const s = await start([json(200, recorded("deepseek-reasoning"))]);
    const model = createModel("openai:o4-mini", { apiKey: KEY, baseURL: `${s.url}/v1` });
    const r = await model.generate({
      prompt: "q",
      maxTokens: 64,
      temperature: 0,
      reasoning: { effort: "low" },
    });
    const body = s.seen[0]!.body;
    expect(body.reasoning_effort).toBe("low");
    expect(body.max_completion_tokens).toBe(64 + REASONING_BUDGET.low);
    expect(body).not.toHaveProperty("max_tokens");
    expect(body).not.toHaveProperty("temperature");
    expect(r.usage).toEqual({ inputTokens: 97, outputTokens: 131, reasoningTokens: 113 });
    expect(r.costUsd).toBeCloseTo((97 * 1.1 + 131 * 4.4) / 1e6, 12);
    expect(model.meter).toMatchObject({ outputTokens: 131, reasoningTokens: 113 });
  });

  it("maps a token budget to the nearest effort and leaves that budget as room", async () => {
    const s = await start([json(200, openaiCompletion("Paris"))]);
    await getModel("openai:gpt-5-mini", { apiKey: KEY, baseURL: `${s.url}/v1` }).generate({
      prompt: "q",
      maxTokens: 10,
      reasoning: { budgetTokens: 20_000 },
    });
    expect(s.seen[0]!.body).toMatchObject({ reasoning_effort: "high", max_completion_tokens: 20_010 });
  });

  it("warns when a non-reasoning model is asked to reason, and sends nothing for it", async () => {
    const s = await start([json(200, recorded("openai-text"))]);
    const r = await getModel("openai:gpt-4.1-nano", { apiKey: KEY, baseURL: `${s.url}/v1` }).generate({
      prompt: "q",
      maxTokens: 400,
      reasoning: { effort: "high" },
    });
    expect(s.seen[0]!.body).toMatchObject({ max_tokens: 400 });
    expect(s.seen[0]!.body).not.toHaveProperty("reasoning_effort");
    expect(r.warnings?.map((w) => w.setting)).toContain("reasoning");
    expect(r.text).toMatch(/^\*\*Holiday Name:\*\* Galaxy Day/);
    expect(r.usage).toEqual({ inputTokens: 16, outputTokens: 363 });
  });

  it("an empty reply cut at the length limit is an EmptyReplyError, not retried, saying what to raise", async () => {
    const s = await start([json(200, spentThinking)]);
    const model = createModel("openai:o4-mini", { apiKey: KEY, baseURL: `${s.url}/v1`, retries: 3 });
    const error = await model.generate({ prompt: "q", maxTokens: 64 }).catch((e) => e);
    expect(EmptyReplyError.isInstance(error)).toBe(true);
    expect(error.code).toBe("empty_reply");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/raise maxTokens or lower the reasoning effort/);
    expect(error.message).toMatch(/2112 tokens used, 2112 of them reasoning/);
    expect(s.seen).toHaveLength(1);
  });

  it("streams the same: an empty streamed reply at the length limit throws EmptyReplyError", async () => {
    const s = await start([
      sse([
        { data: { choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] } },
        { data: { choices: [{ index: 0, delta: {}, finish_reason: "length" }] } },
        { data: { choices: [], usage: { prompt_tokens: 5, completion_tokens: 80, total_tokens: 85 } } },
        { data: "[DONE]" },
      ]),
    ]);
    const model = getModel("openai:o3-mini", { apiKey: KEY, baseURL: `${s.url}/v1` }) as unknown as {
      stream: (r: object) => AsyncGenerator<unknown>;
    };
    const drain = async () => {
      for await (const _ of model.stream({ prompt: "q", maxTokens: 16 }));
    };
    await expect(drain()).rejects.toSatisfy(EmptyReplyError.isInstance);
  });
});

describe("reasoning: DeepSeek reasoner (OpenAI-compatible)", () => {
  it("keeps reasoning_content as the result's reasoning and reasoning tokens in usage", async () => {
    const s = await start([json(200, recorded("deepseek-reasoning"))]);
    const r = await getModel(`openai-compatible:${s.url}/v1#deepseek-reasoner`).generate({ prompt: "q" });
    expect(r.text).toBe("There are **3** “r”s in **“strawberry”**.");
    expect(r.reasoning).toMatch(/^We need answer simple\. Count r in strawberry/);
    expect(r.usage.reasoningTokens).toBe(113);
    expect(r.responseModel).toBe("deepseek-v4-flash");
  });

  it("passes reasoning effort to an OpenAI-compatible server with room to think", async () => {
    const s = await start([json(200, recorded("deepseek-reasoning"))]);
    await getModel(`openai-compatible:${s.url}/v1#deepseek-reasoner`).generate({
      prompt: "q",
      maxTokens: 32,
      reasoning: { effort: "medium" },
    });
    expect(s.seen[0]!.body).toMatchObject({
      reasoning_effort: "medium",
      max_tokens: 32 + REASONING_BUDGET.medium,
    });
  });
});

describe("reasoning: Anthropic extended thinking", () => {
  it("sends thinking with budget_tokens inside max_tokens, drops temperature, keeps the thinking text", async () => {
    const s = await start([json(200, recorded("anthropic-thinking"))]);
    const r = await getModel("anthropic:claude-haiku-4-5", { apiKey: KEY, baseURL: s.url }).generate({
      prompt: "925 / 5?",
      maxTokens: 64,
      temperature: 0,
      reasoning: { budgetTokens: 2000 },
    });
    const body = s.seen[0]!.body;
    expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 2000 });
    expect(body.max_tokens).toBe(2064);
    expect(body).not.toHaveProperty("temperature");
    expect(r.warnings?.map((w) => w.setting)).toContain("temperature");
    expect(r.text).toBe("925 ÷ 5 = 185");
    expect(r.reasoning).toBe("925 divided by 5 = 185");
    expect(r.usage).toEqual({ inputTokens: 69, outputTokens: 33 });
  });

  it("raises a budget under Anthropic's 1024 minimum, and sends no thinking when not asked", async () => {
    const s = await start([json(200, recorded("anthropic-thinking"))]);
    const model = getModel("anthropic:claude-haiku-4-5", { apiKey: KEY, baseURL: s.url });
    await model.generate({ prompt: "q", maxTokens: 10, reasoning: { budgetTokens: 100 } });
    await model.generate({ prompt: "q", maxTokens: 10 });
    expect(s.seen[0]!.body.thinking).toEqual({ type: "enabled", budget_tokens: 1024 });
    expect(s.seen[1]!.body).not.toHaveProperty("thinking");
    expect(s.seen[1]!.body.max_tokens).toBe(10);
  });

  it("a reply that spent max_tokens thinking is an EmptyReplyError", async () => {
    const real = recorded("anthropic-thinking");
    const thinkingOnly = {
      ...real,
      stop_reason: "max_tokens",
      content: (real.content as { type: string }[]).filter((b) => b.type === "thinking"),
    };
    const s = await start([json(200, thinkingOnly)]);
    const error = await getModel("anthropic:claude-haiku-4-5", { apiKey: KEY, baseURL: s.url })
      .generate({ prompt: "q", maxTokens: 8, reasoning: { effort: "low" } })
      .catch((e) => e);
    expect(EmptyReplyError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      /anthropic:claude-haiku-4-5: empty reply: .*\(2056 allowed, 33 tokens used\)/,
    );
  });
});
