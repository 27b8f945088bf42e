import assert from "node:assert/strict";
import {
  AuthenticationError,
  type CallPolicy,
  RateLimitError,
  type RationaleModel,
  ServerError,
  TimeoutError,
} from "@lmcot/core";
import type { FaultServerOptions } from "./fault-server";
import { type ConformanceHarness, CONFORMANCE_KEY as KEY, rejection, withFaultServer } from "./suite";

export interface RationaleConformanceSubject {
  name: string;
  /**
   * The backend under test, pointed at a `faultServer` (`url`, no path; it speaks `/v1/completions`),
   * with `key` as its API key and `policy` as its call policy. Offline backends ignore all three.
   */
  make: (url: string, key: string, policy: CallPolicy) => RationaleModel | Promise<RationaleModel>;
  offline?: boolean;
  /** `returnLogprobs` and `scoreLogprobs` are supported. */
  logprobs?: boolean;
  /** Inputs the backend can answer (offline selectors need context); default two short questions. */
  inputs?: [string, string];
}

const isAbort = (error: unknown) => (error as Error | undefined)?.name === "AbortError";

/**
 * The cases every `RationaleModel` backend passes: `inputs × numReturnSequences` outputs, input-major;
 * log-probs and teacher-forced scores where supported; abort; and, for backends that call a server,
 * typed and redacted errors, timeouts and retry-after through their call policy.
 */
export function rationaleModelConformance(
  harness: ConformanceHarness,
  subject: RationaleConformanceSubject,
): void {
  const { describe, it } = harness;
  const inputs = subject.inputs ?? ["Who directed Jaws?", "Which film came out first?"];
  const policy: CallPolicy = { retries: 0, timeoutMs: 5_000 };
  const run = async (
    body: (model: RationaleModel) => Promise<void>,
    options: FaultServerOptions = {},
    own: CallPolicy = policy,
  ) => {
    if (subject.offline) return body(await subject.make("", KEY, own));
    return withFaultServer({ reply: "Steven Spielberg directed it.", ...options }, async (url) =>
      body(await subject.make(url, KEY, own)),
    );
  };

  describe(`${subject.name}: RationaleModel conformance`, () => {
    it("returns inputs × numReturnSequences rationales, input-major, tagged with their input", async () => {
      await run(async (model) => {
        assert.equal(model.specificationVersion, "v1");
        assert.match(model.id, /^[\w-]+:.+/);
        const out = await model.generate(inputs, { numReturnSequences: 2, maxNewTokens: 16, seed: 1 });
        assert.deepEqual(
          out.map((o) => o.inputIndex),
          [0, 0, 1, 1],
        );
        assert.ok(out.every((o) => typeof o.text === "string" && o.text.length > 0));
      });
    });

    it("an aborted signal stops the call", async () => {
      await run(
        async (model) => {
          const controller = new AbortController();
          if (subject.offline) controller.abort();
          else setTimeout(() => controller.abort(), 50);
          const error = await rejection(model.generate(inputs, { signal: controller.signal }));
          assert.ok(isAbort(error), `expected an abort, got ${String(error)}`);
        },
        { fault: "hang" },
      );
    });

    if (subject.logprobs)
      it("returns per-token log-probs and teacher-forced scores", async () => {
        await run(async (model) => {
          const [first] = await model.generate(inputs.slice(0, 1), {
            returnLogprobs: true,
            maxNewTokens: 16,
          });
          assert.ok(first?.logprobs && first.logprobs.length > 0);
          assert.ok(first.logprobs.every((l) => l <= 0));
          const [scored] = await model.scoreLogprobs([{ input: inputs[0], output: " Steven Spielberg." }]);
          assert.ok(
            scored && scored.logprobs.length > 0 && scored.logprobs.length === scored.tokenIds.length,
          );
          assert.ok(Math.abs(scored.total - scored.logprobs.reduce((a, b) => a + b, 0)) < 1e-9);
        });
      });

    if (subject.offline) return;

    const errors: [401 | 429 | 500, string, (e: unknown) => boolean][] = [
      [401, "AuthenticationError", AuthenticationError.isInstance],
      [429, "RateLimitError", RateLimitError.isInstance],
      [500, "ServerError", ServerError.isInstance],
    ];
    for (const [status, name, isInstance] of errors)
      it(`maps HTTP ${status} to ${name}, with the key redacted`, async () => {
        await run(
          async (model) => {
            const error = await rejection(model.generate(inputs));
            assert.ok(isInstance(error), `expected ${name}, got ${String(error)}`);
            assert.ok(!String((error as Error).message).includes(KEY), "the key is redacted");
          },
          { fault: status, retryAfter: 2, echoRequest: true },
        );
      });

    it("a server that never answers is a TimeoutError", async () => {
      await run(
        async (model) => {
          const error = await rejection(model.generate(inputs.slice(0, 1)));
          assert.ok(TimeoutError.isInstance(error), `expected TimeoutError, got ${String(error)}`);
        },
        { fault: "hang" },
        { retries: 0, timeoutMs: 150 },
      );
    });

    it("retry-after is honoured", async () => {
      const waits: number[] = [];
      const sleep = async (ms: number) => void waits.push(ms);
      await run(
        async (model) => {
          const out = await model.generate(inputs.slice(0, 1));
          assert.equal(out.length, 1);
          assert.deepEqual(waits, [3000]);
        },
        { fault: 429, failFirst: 1, retryAfter: 3 },
        { retries: 2, sleep, random: () => 0.5 },
      );
    });
  });
}
