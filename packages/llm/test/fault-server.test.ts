import {
  AuthenticationError,
  BadRequestError,
  type LanguageModel,
  ModelNotFoundError,
  OverloadedError,
  RateLimitError,
  ServerError,
} from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { getModel } from "../src/index";
import { faultServer, itemShare } from "../src/testing/index";
import { faultServers, KEY } from "./helpers";

const start = faultServers();

const clients: { name: string; make: (url: string) => LanguageModel; path: string }[] = [
  {
    name: "openai",
    make: (url) => getModel("openai:gpt-4o-mini", { apiKey: KEY, baseURL: `${url}/v1` }),
    path: "/v1/chat/completions",
  },
  {
    name: "openai-compatible",
    make: (url) => getModel(`openai-compatible:${url}#qwen`, { apiKey: KEY }),
    path: "/chat/completions",
  },
  {
    name: "anthropic",
    make: (url) => getModel("anthropic:claude-3-5-haiku-latest", { apiKey: KEY, baseURL: url }),
    path: "/v1/messages",
  },
];

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
};

describe.each(clients)("fault server speaks $name through the real client", (c) => {
  it("answers with the reply, usage and the model asked for", async () => {
    const s = await start({ reply: (r) => `Answer: ${r.item.length}` });
    const result = await c.make(s.url).generate({ system: "Be brief.", prompt: "two words", maxTokens: 8 });
    expect(result.text).toBe(`Answer: ${"Be brief.\ntwo words".length}`);
    expect(result.usage).toEqual({ inputTokens: 4, outputTokens: 2 });
    expect(result.finishReason).toBe("stop");
    expect(s.seen).toHaveLength(1);
    expect(s.seen[0]).toMatchObject({ url: c.path, item: "Be brief.\ntwo words", index: 0 });
  });

  it.each([
    [401, AuthenticationError],
    [400, BadRequestError],
    [404, ModelNotFoundError],
    [429, RateLimitError],
    [500, ServerError],
    [503, OverloadedError],
    [529, OverloadedError],
  ] as const)("fails with %i as the typed error", async (status, type) => {
    const s = await start({ fault: status, retryAfter: 2 });
    const e = await c
      .make(s.url)
      .generate({ prompt: "x" })
      .catch((x) => x);
    expect(type.isInstance(e)).toBe(true);
    expect(e.status).toBe(status);
    if (status === 429) expect(e.retryAfterMs).toBe(2000);
    expect(s.failed).toBe(1);
  });

  it("resets, truncates and dribbles", async () => {
    const model = c.make((await start({ fault: "reset" })).url);
    expect(await model.generate({ prompt: "x" }).catch((e) => e.code)).toBe("server");
    const cut = c.make((await start({ fault: "truncated" })).url);
    expect(await cut.generate({ prompt: "x" }).catch((e) => e.code)).toBe("server");
    const slow = c.make((await start({ fault: "slow", slowMs: 300, reply: "late" })).url);
    const began = performance.now();
    expect((await slow.generate({ prompt: "x" })).text).toBe("late");
    expect(performance.now() - began).toBeGreaterThan(250);
  });
});

describe("fault server: legacy completions (the small-LM wire format)", () => {
  it("returns n choices with logprobs and token ids, cut at max_tokens", async () => {
    const s = await start({ reply: "the film was directed by him." });
    const { body } = await post(`${s.url}/v1/completions`, {
      model: "m",
      prompt: "q",
      n: 2,
      max_tokens: 3,
      logprobs: 1,
      return_tokens_as_token_ids: true,
    });
    expect(body.choices).toHaveLength(2);
    expect(body.choices[0]).toMatchObject({ index: 0, text: "the film was", finish_reason: "length" });
    expect(body.choices[0].logprobs.tokens).toHaveLength(3);
    expect(body.choices[0].logprobs.tokens[0]).toMatch(/^token_id:\d+$/);
    expect(body.usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 6 });
  });

  it("echoes the prompt with offsets for scoring", async () => {
    const s = await start();
    const { body } = await post(`${s.url}/v1/completions`, {
      model: "m",
      prompt: "question: who? the director",
      max_tokens: 0,
      echo: true,
      logprobs: 0,
    });
    const lp = body.choices[0].logprobs;
    expect(body.choices[0].text).toBe("question: who? the director");
    expect(lp.tokens).toEqual(["question:", " who?", " the", " director"]);
    expect(lp.text_offset).toEqual([0, 9, 14, 18]);
    expect(lp.token_logprobs[0]).toBeNull();
  });
});

describe("fault server: which requests fail", () => {
  it("fails the first N requests, then answers", async () => {
    const s = await start({ fault: 503, failFirst: 2 });
    const model = clients[0]!.make(s.url);
    expect(await model.generate({ prompt: "x" }).catch((e) => e.code)).toBe("overloaded");
    expect(await model.generate({ prompt: "x" }).catch((e) => e.code)).toBe("overloaded");
    expect((await model.generate({ prompt: "x" })).text).toBe("Answer: yes");
    expect(s.seen.map((r) => r.fault)).toEqual([503, 503, undefined]);
  });

  it("fails a share of items, the same items on every attempt", async () => {
    const s = await start({ fault: 500, failShare: 0.3 });
    const model = clients[2]!.make(s.url);
    const prompts = Array.from({ length: 200 }, (_, i) => `question ${i}`);
    const run = () =>
      Promise.all(
        prompts.map((p) =>
          model.generate({ prompt: p }).then(
            () => true,
            () => false,
          ),
        ),
      );
    const first = await run();
    expect(await run()).toEqual(first);
    const failed = first.filter((ok) => !ok).length;
    expect(failed).toBeGreaterThan(40);
    expect(failed).toBeLessThan(80);
    expect(first.map((ok, i) => ok === itemShare(prompts[i]!) >= 0.3)).not.toContain(false);
  });

  it("asks a function per request", async () => {
    const s = await start({ failWhen: (r) => (r.item.includes("bad") ? 400 : undefined) });
    const model = clients[0]!.make(s.url);
    expect(await model.generate({ prompt: "a bad one" }).catch((e) => e.code)).toBe("bad_request");
    expect((await model.generate({ prompt: "a good one" })).text).toBe("Answer: yes");
  });
});

describe("fault server: wire details", () => {
  it("writes each provider's error JSON with retry-after, and echoes the request when asked", async () => {
    const s = await start({ fault: 429, retryAfter: 3, echoRequest: true });
    const openai = await post(
      `${s.url}/v1/chat/completions`,
      { messages: [] },
      { authorization: "Bearer abc" },
    );
    expect(openai.status).toBe(429);
    expect(openai.headers.get("retry-after")).toBe("3");
    expect(openai.body.error).toMatchObject({ type: "requests", code: "rate_limit_exceeded", param: null });
    expect(openai.body.error.message).toContain("authorization: Bearer abc");
    const anthropic = await post(`${s.url}/v1/messages`, { messages: [] }, { "x-api-key": "abc" });
    expect(anthropic.body).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    expect(anthropic.body.error.message).toContain("x-api-key: abc");
    expect((await post(`${s.url}/v1/other`, {})).status).toBe(404);
  });

  it("a hung request stays open until the caller gives up, and closing the server ends it", async () => {
    const s = await faultServer({ fault: "hang" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const e = await clients[0]!
      .make(s.url)
      .generate({ prompt: "x", signal: controller.signal })
      .catch((x) => x);
    expect(e.code).toBe("aborted");
    const pending = fetch(`${s.url}/v1/chat/completions`, { method: "POST", body: "{}" }).catch(
      () => "closed",
    );
    while (s.seen.length < 2) await new Promise((r) => setTimeout(r, 10));
    const began = performance.now();
    await s.close();
    expect(await pending).toBe("closed");
    expect(performance.now() - began).toBeLessThan(2000);
    expect(s.seen).toHaveLength(2);
  });
});
