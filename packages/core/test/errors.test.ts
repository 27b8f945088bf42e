import { describe, expect, it } from "vitest";
import {
  AbortError,
  AuthenticationError,
  DataValidationError,
  LmcotError,
  parseModelId,
  RateLimitError,
} from "../src/index";

describe("typed errors", () => {
  it("are recognised by isInstance, per class, without instanceof", () => {
    const e = new RateLimitError("slow down", { status: 429, retryAfterMs: 1500, provider: "openai" });
    expect(LmcotError.isInstance(e)).toBe(true);
    expect(RateLimitError.isInstance(e)).toBe(true);
    expect(AuthenticationError.isInstance(e)).toBe(false);
    expect(e).toMatchObject({ code: "rate_limit", retryable: true, retryAfterMs: 1500, status: 429 });
    expect(e.name).toBe("RateLimitError");
    // A plain object carrying the marker (as from a second copy of the package) is recognised too.
    const foreign = Object.assign(new Error("x"), {
      [Symbol.for("lmcot.error")]: true,
      [Symbol.for("lmcot.error.RateLimitError")]: true,
    });
    expect(RateLimitError.isInstance(foreign)).toBe(true);
    expect(LmcotError.isInstance(new Error("plain"))).toBe(false);
  });

  it("marks authentication and abort as never retryable", () => {
    expect(new AuthenticationError("bad key").retryable).toBe(false);
    expect(new AbortError().retryable).toBe(false);
    expect(new AbortError().message).toMatch(/aborted/);
  });

  it("names file, line, record and field in data errors", () => {
    const e = new DataValidationError("must be an array of strings", {
      file: "dev.json",
      record: 17,
      field: "context[2][1]",
    });
    expect(e.message).toBe("dev.json: record 17: context[2][1] must be an array of strings");
    expect(new DataValidationError("is empty", { file: "a.jsonl", line: 3 }).message).toBe(
      "a.jsonl: line 3 is empty",
    );
  });
});

describe("parseModelId", () => {
  it("splits at the first colon", () => {
    expect(parseModelId("openai:gpt-4o-mini")).toEqual({ provider: "openai", model: "gpt-4o-mini" });
    expect(parseModelId("openai-compatible:http://127.0.0.1:8000/v1#qwen")).toEqual({
      provider: "openai-compatible",
      model: "http://127.0.0.1:8000/v1#qwen",
    });
  });
  it("rejects ids without a provider", () => {
    expect(() => parseModelId("gpt-4o")).toThrow(/provider:model/);
    expect(() => parseModelId(":x")).toThrow(/provider:model/);
  });
});

describe("runKey", () => {
  it("is stable under model order and ignores unset models", async () => {
    const { runKey } = await import("../src/index");
    const a = runKey({
      method: "lm-guided",
      dataset: "hotpotqa",
      exampleId: "x1",
      models: { large: "openai:m", small: "transformers:s" },
      promptVersion: "v1",
      seed: 0,
    });
    const b = runKey({
      method: "lm-guided",
      dataset: "hotpotqa",
      exampleId: "x1",
      models: { small: "transformers:s", large: "openai:m", judge: undefined },
      promptVersion: "v1",
      seed: 0,
    });
    expect(a).toBe(b);
    expect(a).not.toBe(
      runKey({
        method: "cot",
        dataset: "hotpotqa",
        exampleId: "x1",
        models: { large: "openai:m" },
        promptVersion: "v1",
        seed: 0,
      }),
    );
  });
});
