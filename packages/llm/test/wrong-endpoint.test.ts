import {
  type GenerateRequest,
  InvalidResponseError,
  isFatalError,
  type LanguageModel,
  ServerError,
  UnreadableReplyError,
} from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { createModel, getModel } from "../src/index";
import { json, openaiCompletion, type WrongEndpoint } from "../src/testing/index";
import { faultServers, KEY, loopbackServers } from "./helpers";

const start = faultServers();
const loopbackServer = loopbackServers();

const clients: { name: string; id: (url: string) => string; base: (url: string) => string }[] = [
  { name: "openai", id: () => "openai:gpt-4o-mini", base: (url) => `${url}/v1` },
  { name: "openai-compatible", id: (url) => `openai-compatible:${url}/v1#qwen`, base: (url) => `${url}/v1` },
  { name: "anthropic", id: () => "anthropic:claude-3-5-haiku-latest", base: (url) => url },
];

const replies: [WrongEndpoint, number, RegExp, RegExp][] = [
  ["html", 200, /text\/html/, /"<!DOCTYPE html> <html><head><title>Welcome/],
  ["html-501", 501, /text\/html/, /"<!DOCTYPE HTML> <html lang="en"> <head> <meta charset="utf-8">/],
  ["foreign-json", 200, /application\/json/, /"\{"status":"ok","service":"inventory"/],
];

describe.each(clients)("a base URL that is not the $name API", (c) => {
  it.each(replies)(
    "%s (HTTP %i) is a fatal InvalidResponseError, asked once, naming what came back",
    async (fault, status, type, first) => {
      const s = await start({ fault });
      const model = createModel(c.id(s.url), { apiKey: KEY, baseURL: c.base(s.url), retries: 4 });
      const error = await model.generate({ prompt: "Who directed it?", maxTokens: 8 }).catch((e) => e);
      expect(InvalidResponseError.isInstance(error)).toBe(true);
      expect(isFatalError(error)).toBe(true);
      expect(error.retryable).toBe(false);
      expect(error.status).toBe(status);
      // Not retried: one request reached the server although the policy allows four retries.
      expect(s.seen).toHaveLength(1);
      const message: string = error.message;
      expect(message).toContain(`${c.base(s.url)} answered HTTP ${status}`);
      expect(message).toMatch(type);
      expect(message).toMatch(first);
      expect(message).toMatch(/check the base URL/);
      expect(message).not.toMatch(/re-run/);
      // The first bytes only, not the whole page.
      expect(message.length).toBeLessThan(500);
    },
  );

  it("an HTML page in answer to a stream is the same error, not an empty answer", async () => {
    const s = await start({ fault: "html" });
    const adapter = getModel(c.id(s.url), { apiKey: KEY, baseURL: c.base(s.url) }) as LanguageModel & {
      stream(request: GenerateRequest): AsyncGenerator<unknown>;
    };
    const read = async () => {
      for await (const _ of adapter.stream({ prompt: "x" }));
    };
    const error = await read().catch((e) => e);
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      /answered HTTP 200 \(text\/html;charset=utf-8\).*It works!.*check the base URL/,
    );
  });
});

describe("an error page from a proxy in front of the API", () => {
  it("a 502 HTML page stays a retryable server error, quoted by its first bytes only", async () => {
    const page = `<html><body>${"<p>Bad Gateway</p>".repeat(200)}</body></html>`;
    const s = await loopbackServer([
      (_req, res) => {
        res.writeHead(502, { "content-type": "text/html" });
        res.end(page);
      },
      json(200, openaiCompletion("Answer: yes")),
    ]);
    const once = await getModel(`openai-compatible:${s.url}/v1#m`, { apiKey: KEY })
      .generate({ prompt: "x" })
      .catch((e) => e);
    expect(ServerError.isInstance(once)).toBe(true);
    expect(once.message).toMatch(/HTTP 502 \(text\/html\): "<html><body><p>Bad Gateway/);
    expect(once.message.length).toBeLessThan(300);
    const model = createModel(`openai-compatible:${s.url}/v1#m`, { apiKey: KEY, retry: { baseDelayMs: 1 } });
    expect((await model.generate({ prompt: "x" })).text).toBe("Answer: yes");
  });
});

describe("after a fatal error, no queued call starts", () => {
  it("calls waiting for the concurrency limit get the same error without reaching the server", async () => {
    const s = await start({ fault: "html" });
    const model = createModel(`openai-compatible:${s.url}/v1#m`, { apiKey: KEY, concurrency: 1 });
    const errors = await Promise.all(
      ["q1", "q2", "q3"].map((prompt) => model.generate({ prompt }).catch((e) => e)),
    );
    expect(errors.every((e) => InvalidResponseError.isInstance(e))).toBe(true);
    expect(s.seen).toHaveLength(1);
    // A later call of the same model does not start either.
    expect(InvalidResponseError.isInstance(await model.generate({ prompt: "q4" }).catch((e) => e))).toBe(
      true,
    );
    expect(s.seen).toHaveLength(1);
  });
});

describe("what a wrong endpoint's page says is quoted with keys redacted", () => {
  it("a debug page echoing the Authorization header shows [redacted], never the key", async () => {
    const s = await loopbackServer([
      (req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(`<html><body>Request headers: authorization=${req.headers.authorization}</body></html>`);
      },
    ]);
    const key = "my-own-gateway-key-42";
    const error = await getModel(`openai-compatible:${s.url}/v1#m`, { apiKey: key })
      .generate({ prompt: "x" })
      .catch((e) => e);
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(error.message).toContain("authorization=Bearer [redacted]");
    expect(error.message).not.toContain(key);
  });
});

describe("a reply in the right format without text is not a wrong endpoint", () => {
  it("a chat completion with a refusal and no content is retryable and not fatal", async () => {
    const refusal = openaiCompletion("", {
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: null, refusal: "I can't help with that." },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
    });
    const s = await loopbackServer([json(200, refusal)]);
    const error = await getModel(`openai-compatible:${s.url}/v1#m`, { apiKey: KEY })
      .generate({ prompt: "x" })
      .catch((e) => e);
    expect(UnreadableReplyError.isInstance(error)).toBe(true);
    expect(error.retryable).toBe(true);
    expect(isFatalError(error)).toBe(false);
  });
});
