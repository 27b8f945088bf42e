import assert from "node:assert/strict";
import {
  AbortError,
  AuthenticationError,
  BadRequestError,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  OverloadedError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "@lmcot/core";
import { callPolicy } from "../middleware/policy";
import { wrapModel } from "../middleware/types";
import type { StreamPart } from "../providers/messages";
import type { FaultServerOptions } from "./fault-server";
import {
  type ConformanceHarness,
  CONFORMANCE_KEY as KEY,
  rejection,
  withFaultServer as withServer,
} from "./suite";

export interface ConformanceSubject {
  /** Shown in the test names. */
  name: string;
  /**
   * The adapter under test, pointed at a `faultServer` (`url`, no path) and given `key` as its API key.
   * Offline adapters ignore both.
   */
  make: (url: string, key: string) => LanguageModel;
  /** No network at all (an offline model): only the cases that need no server run. */
  offline?: boolean;
  /** The adapter returns per-token log-probs when asked. */
  logprobs?: boolean;
  /** A prompt the model answers (offline models may need context); default "Capital of France?". */
  prompt?: GenerateRequest;
}

const REPLY = "Answer: Paris";

type Streaming = LanguageModel & { stream: (request: GenerateRequest) => AsyncIterable<StreamPart> };
const streams = (model: LanguageModel): model is Streaming =>
  typeof (model as Partial<Streaming>).stream === "function";

function checkResult(result: GenerateResult): void {
  assert.equal(typeof result.text, "string");
  assert.ok(result.text.length > 0, "the text is not empty");
  assert.ok(result.usage.inputTokens > 0, "usage.inputTokens is counted");
  assert.ok(result.usage.outputTokens > 0, "usage.outputTokens is counted");
  assert.ok(["stop", "length", "content-filter", "error", "other"].includes(result.finishReason));
}

const ERRORS: [status: 400 | 401 | 429 | 500 | 503, name: string, isInstance: (e: unknown) => boolean][] = [
  [400, "BadRequestError", BadRequestError.isInstance],
  [401, "AuthenticationError", AuthenticationError.isInstance],
  [429, "RateLimitError", RateLimitError.isInstance],
  [500, "ServerError", ServerError.isInstance],
  [503, "OverloadedError", OverloadedError.isInstance],
];

/**
 * The cases every `LanguageModel` adapter passes, run from any test file:
 * `languageModelConformance({ describe, it }, { name: "mine", make: (url, key) => new Mine({ baseURL: url, key }) })`.
 * Network adapters are pointed at a `faultServer` (OpenAI chat, Anthropic messages or Gemini wire format).
 */
export function languageModelConformance(harness: ConformanceHarness, subject: ConformanceSubject): void {
  const { describe, it } = harness;
  const request: GenerateRequest = subject.prompt ?? { prompt: "Capital of France?", maxTokens: 32 };
  const run = async (body: (model: LanguageModel) => Promise<void>, options: FaultServerOptions = {}) =>
    subject.offline
      ? body(subject.make("", KEY))
      : withServer({ reply: REPLY, ...options }, (url) => body(subject.make(url, KEY)));

  describe(`${subject.name}: LanguageModel conformance`, () => {
    it("returns text, usage and a unified finish reason; the id is provider:model", async () => {
      await run(async (model) => {
        assert.match(model.id, /^[\w-]+:.+/);
        assert.equal(model.specificationVersion, "v1");
        const result = await model.generate(request);
        checkResult(result);
        if (!subject.offline) assert.equal(result.text, REPLY);
      });
    });

    it("stream (where offered) gives the same text and usage as generate", async () => {
      await run(async (model) => {
        if (!streams(model)) return;
        const whole = await model.generate(request);
        let text = "";
        let finish: GenerateResult | undefined;
        for await (const part of model.stream(request)) {
          if ("textDelta" in part) text += part.textDelta;
          else finish = part.finish;
        }
        assert.equal(text, whole.text);
        assert.equal(finish?.text, whole.text);
        assert.deepEqual(finish?.usage, whole.usage);
        assert.equal(finish?.finishReason, whole.finishReason);
      });
    });

    it("an aborted signal is an AbortError", async () => {
      await run(
        async (model) => {
          const controller = new AbortController();
          if (subject.offline) controller.abort();
          else setTimeout(() => controller.abort(), 50);
          const error = await rejection(model.generate({ ...request, signal: controller.signal }));
          assert.ok(AbortError.isInstance(error), `expected AbortError, got ${String(error)}`);
        },
        { fault: "hang" },
      );
    });

    if (subject.logprobs)
      it("returns per-token log-probs when asked", async () => {
        await run(async (model) => {
          const result = await model.generate({ ...request, logprobs: 2 });
          assert.ok(result.logprobs && result.logprobs.length > 0, "log-probs are returned");
          assert.ok(result.logprobs.every((t) => typeof t.token === "string" && t.logprob <= 0));
        });
      });

    if (subject.offline) return;

    for (const [status, name, isInstance] of ERRORS)
      it(`maps HTTP ${status} to ${name}, with the key redacted`, async () => {
        await run(
          async (model) => {
            const error = await rejection(model.generate(request));
            assert.ok(isInstance(error), `expected ${name}, got ${String(error)}`);
            assert.equal((error as { status?: number }).status, status);
            assert.ok(!String((error as Error).message).includes(KEY), "the key is redacted");
            if (status === 429) assert.equal((error as RateLimitError).retryAfterMs, 2000);
          },
          { fault: status, retryAfter: 2, echoRequest: true },
        );
      });

    it("a server that never answers is a TimeoutError under the call policy", async () => {
      await run(
        async (model) => {
          const timed = wrapModel(model, [callPolicy({ retries: 0, timeoutMs: 150 })]);
          const error = await rejection(timed.generate(request));
          assert.ok(TimeoutError.isInstance(error), `expected TimeoutError, got ${String(error)}`);
        },
        { fault: "hang" },
      );
    });

    it("retry-after is honoured by the call policy", async () => {
      await run(
        async (model) => {
          const waits: number[] = [];
          const sleep = async (ms: number) => void waits.push(ms);
          const retried = wrapModel(model, [callPolicy({ retries: 2, sleep, random: () => 0.5 })]);
          assert.equal((await retried.generate(request)).text, REPLY);
          assert.deepEqual(waits, [3000]);
        },
        { fault: 429, failFirst: 1, retryAfter: 3 },
      );
    });
  });
}
