import { AbortError, type GenerateRequest, type GenerateResult, type LanguageModel } from "@lmcot/core";

/** One scripted outcome: an error to throw, or a reply to return. */
export type FlakyStep = Error | Partial<GenerateResult> | string;

/**
 * A `LanguageModel` that plays scripted outcomes in order (the last repeats), throwing the errors —
 * for testing how callers handle typed failures (`new RateLimitError(...)`, then `"ok"`).
 */
export class FlakyLanguageModel implements LanguageModel {
  readonly specificationVersion = "v1" as const;
  readonly requests: GenerateRequest[] = [];

  constructor(
    private readonly steps: FlakyStep[],
    readonly id = "flaky:large",
  ) {}

  get calls(): number {
    return this.requests.length;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (request.signal?.aborted) throw new AbortError();
    this.requests.push(request);
    const step = this.steps[Math.min(this.requests.length - 1, this.steps.length - 1)] ?? "";
    if (step instanceof Error) throw step;
    const result = typeof step === "string" ? { text: step } : step;
    return {
      text: "",
      usage: { inputTokens: 1, outputTokens: 1 },
      finishReason: "stop",
      ...result,
    };
  }
}
