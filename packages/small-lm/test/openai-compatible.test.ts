import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  AuthenticationError,
  BadRequestError,
  InvalidResponseError,
  isFatalError,
  OverloadedError,
  RateLimitError,
  TimeoutError,
} from "@lmcot/core";
import { type FaultServerOptions, faultServer } from "@lmcot/llm/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getRationaleModel, OpenAICompatibleRationaleModel } from "../src/index";

// A loopback server answering /v1/completions in the wire format vLLM uses (legacy completions API).
let server: Server;
let baseURL: string;
const requests: Record<string, unknown>[] = [];
let reply: (body: Record<string, unknown>) => { status: number; json: unknown };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (c) => {
      data += c;
    });
    req.on("end", () => resolve(data));
  });
}

function vllmCompletion(body: Record<string, unknown>) {
  const prompt = String(body.prompt);
  const n = Number(body.n ?? 1);
  const words = ["the", " film", " was", " directed", " by", " him", "."];
  const max = Number(body.max_tokens);
  if (body.echo) {
    const tokens = prompt.match(/\S+|\s+\S+/g) ?? [];
    const offsets: number[] = [];
    let at = 0;
    for (const t of tokens) {
      offsets.push(at);
      at += t.length;
    }
    return {
      id: "cmpl-echo",
      object: "text_completion",
      created: 1,
      model: body.model,
      choices: [
        {
          index: 0,
          text: prompt,
          finish_reason: "length",
          logprobs: {
            tokens: tokens.map((_, i) => `token_id:${100 + i}`),
            token_logprobs: tokens.map((_, i) => (i === 0 ? null : -0.5 * i)),
            text_offset: offsets,
            top_logprobs: null,
          },
        },
      ],
      usage: { prompt_tokens: tokens.length, completion_tokens: 0, total_tokens: tokens.length },
    };
  }
  return {
    id: "cmpl-1",
    object: "text_completion",
    created: 1,
    model: body.model,
    choices: Array.from({ length: n }, (_, k) => {
      const count = Math.min(max, words.length - k);
      return {
        index: k,
        text: words.slice(0, count).join(""),
        finish_reason: count < words.length - k || count === max ? "length" : "stop",
        logprobs: body.logprobs
          ? {
              tokens: words.slice(0, count).map((_, i) => `token_id:${10 + i}`),
              token_logprobs: words.slice(0, count).map((_, i) => -0.1 * (i + 1)),
              text_offset: [],
              top_logprobs: null,
            }
          : null,
      };
    }),
    usage: {
      prompt_tokens: prompt.split(" ").length,
      completion_tokens: n * Math.min(max, 7),
      total_tokens: 0,
    },
  };
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req));
    requests.push({ ...body, path: req.url, auth: req.headers.authorization });
    const { status, json } = reply(body);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(json));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  requests.length = 0;
  reply = (body) => ({ status: 200, json: vllmCompletion(body) });
});

describe("openai-compatible rationale backend", () => {
  it("generates through /v1/completions with sampling settings, seed and logprobs", async () => {
    const model = await getRationaleModel(`openai-compatible:${baseURL}#flan-t5-large`);
    expect(model.id).toBe(`openai-compatible:${baseURL}#flan-t5-large`);
    const out = await model.generate(["q1", "q2"], {
      temperature: 0.7,
      topP: 0.9,
      topK: 20,
      seed: 5,
      numReturnSequences: 2,
      maxNewTokens: 16,
      returnLogprobs: true,
    });
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      path: "/v1/completions",
      model: "flan-t5-large",
      prompt: "q1",
      n: 2,
      max_tokens: 16,
      temperature: 0.7,
      top_p: 0.9,
      top_k: 20,
      seed: 5,
      logprobs: 1,
      auth: "Bearer none",
    });
    expect(out.map((o) => o.inputIndex)).toEqual([0, 0, 1, 1]);
    expect(out[0]).toMatchObject({
      text: "the film was directed by him.",
      finishReason: "stop",
      tokenIds: [10, 11, 12, 13, 14, 15, 16],
    });
    expect(out[0]?.logprobs?.[2]).toBeCloseTo(-0.3);
    expect(out[1]?.text).toBe("the film was directed by him");
  });

  it("greedy sends temperature 0 and no seed; maxNewTokens gives finish reason length", async () => {
    const model = new OpenAICompatibleRationaleModel(`${baseURL}#m`);
    const [out] = await model.generate(["q"], { maxNewTokens: 3 });
    expect(requests[0]?.temperature).toBe(0);
    expect(requests[0]).not.toHaveProperty("seed");
    expect(requests[0]).not.toHaveProperty("logprobs");
    expect(out).toMatchObject({ text: "the film was", finishReason: "length" });
    expect(out?.logprobs).toBeUndefined();
  });

  it("scores the output's tokens by echo", async () => {
    const model = new OpenAICompatibleRationaleModel(`${baseURL}#m`);
    const [scored] = await model.scoreLogprobs([{ input: "question: who?", output: " the director" }]);
    expect(requests[0]).toMatchObject({ prompt: "question: who? the director", echo: true, max_tokens: 0 });
    // tokens: "question:" " who?" " the" " director" → the last two belong to the output
    expect(scored?.tokenIds).toEqual([102, 103]);
    expect(scored?.logprobs).toEqual([-1, -1.5]);
    expect(scored?.total).toBeCloseTo(-2.5);
  });

  it("maps server errors and malformed bodies to typed errors", async () => {
    const model = new OpenAICompatibleRationaleModel(`${baseURL}#m`, { retries: 0 });
    reply = () => ({
      status: 400,
      json: { error: { message: "bad prompt", type: "invalid_request_error" } },
    });
    await expect(model.generate(["q"])).rejects.toSatisfy(
      (e) => BadRequestError.isInstance(e) && /400/.test((e as Error).message),
    );
    reply = () => ({ status: 503, json: { error: { message: "overloaded" } } });
    await expect(model.generate(["q"])).rejects.toSatisfy((e) => OverloadedError.isInstance(e));
    reply = () => ({ status: 200, json: { choices: [] } });
    await expect(model.generate(["q"])).rejects.toSatisfy(
      (e) => InvalidResponseError.isInstance(e) && /choices/.test((e as Error).message),
    );
  });

  it("rejects ids without #model", async () => {
    await expect(getRationaleModel(`openai-compatible:${baseURL}`)).rejects.toThrow(/<baseURL>#<model>/);
  });
});

describe("openai-compatible rationale backend under core's call policy", () => {
  let servers: { close: () => Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  const start = async (options: FaultServerOptions) => {
    const s = await faultServer({ reply: "the film was directed by him.", ...options });
    servers.push(s);
    return s;
  };
  const spec = (url: string) => `${url}/v1#flan-t5-large`;
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.unreachable("the call should have failed"),
      (e) => e,
    );

  it("waits what retry-after says on a 429, then succeeds", async () => {
    const s = await start({ fault: 429, failFirst: 1, retryAfter: 0.4 });
    const model = new OpenAICompatibleRationaleModel(spec(s.url));
    const began = performance.now();
    const [out] = await model.generate(["q"]);
    expect(out?.text).toBe("the film was directed by him.");
    expect(s.seen).toHaveLength(2);
    expect(performance.now() - began).toBeGreaterThanOrEqual(390);
  });

  it("retries 500s and connection resets, generating and scoring", async () => {
    const s = await start({ fault: 500, failFirst: 3 });
    const model = new OpenAICompatibleRationaleModel(spec(s.url), { baseDelayMs: 1 });
    expect((await model.generate(["q"]))[0]?.text).toBe("the film was directed by him.");
    expect(s.seen).toHaveLength(4);
    const reset = await start({ fault: "reset", failFirst: 2 });
    const scorer = new OpenAICompatibleRationaleModel(spec(reset.url), { baseDelayMs: 1 });
    const [scored] = await scorer.scoreLogprobs([{ input: "question: who?", output: " the director" }]);
    expect(scored?.logprobs).toHaveLength(2);
    expect(reset.seen).toHaveLength(3);
  });

  it("a hung server fails with a timeout after N attempts, within the total cap", async () => {
    const s = await start({ fault: "hang" });
    const model = await getRationaleModel(`openai-compatible:${spec(s.url)}`, {
      timeoutMs: 100,
      retries: 2,
      baseDelayMs: 1,
    });
    const e = await failure(model.generate(["q"]));
    expect(TimeoutError.isInstance(e)).toBe(true);
    expect(e.attempts).toBe(3);
    expect(e.message).toMatch(/no answer within 0\.1 s \(after 3 attempts over \d\.\d s\)$/);
    const capped = new OpenAICompatibleRationaleModel(spec(s.url), { timeoutMs: 5000, totalTimeoutMs: 200 });
    const began = performance.now();
    expect(TimeoutError.isInstance(await failure(capped.generate(["q"])))).toBe(true);
    expect(performance.now() - began).toBeLessThan(2000);
  });

  it("does not retry what a retry cannot fix", async () => {
    const s = await start({ fault: 401 });
    const model = new OpenAICompatibleRationaleModel(spec(s.url));
    expect(AuthenticationError.isInstance(await failure(model.generate(["q"])))).toBe(true);
    expect(s.seen).toHaveLength(1);
  });

  it.each(["local-secret-123456", "local+secret/123456==", "sk-live-0123456789abcdefghij"])(
    "never shows the key %s that an error body echoes",
    async (apiKey) => {
      const s = await start({ fault: 429, echoRequest: true, retryAfter: 0 });
      const model = new OpenAICompatibleRationaleModel(spec(s.url), { apiKey, retries: 1 });
      const e = await failure(model.generate(["q"]));
      expect(RateLimitError.isInstance(e)).toBe(true);
      expect(s.seen[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
      expect(e.message).toContain("authorization: Bearer [redacted]");
      for (const shown of [e.message, String(e), JSON.stringify(e), e.stack])
        expect(shown).not.toContain(apiKey);
    },
  );

  it("keeps its concurrency limit", async () => {
    const s = await start({ fault: "slow", slowMs: 100 });
    const model = new OpenAICompatibleRationaleModel(spec(s.url), { concurrency: 2 });
    expect(await model.generate(["a", "b", "c", "d", "e"])).toHaveLength(5);
    expect(s.peak).toBe(2);
  });

  it.each(["html", "html-501", "foreign-json"] as const)(
    "a base URL answering %s is a fatal InvalidResponseError at the first reply, naming what came back",
    async (fault) => {
      const s = await start({ fault });
      const model = new OpenAICompatibleRationaleModel(spec(s.url), { retries: 4 });
      const e = await failure(model.generate(["q"]));
      expect(InvalidResponseError.isInstance(e)).toBe(true);
      expect(isFatalError(e)).toBe(true);
      expect(s.seen).toHaveLength(1);
      expect(e.message).toMatch(
        new RegExp(`^openai-compatible: ${s.url}/v1 answered HTTP (200|501) \\((text/html|application/json)`),
      );
      expect(e.message).toMatch(
        /which is not an OpenAI completion: ".+"; check the base URL \(after 1 attempt over/,
      );
    },
  );
});
