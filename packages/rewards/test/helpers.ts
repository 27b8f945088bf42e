import type { Example, GenerateRequest, GenerateResult, LanguageModel } from "@lmcot/core";
import { ASPECTS } from "../src/aspects";

export const example: Example = {
  id: "ex1",
  dataset: "hotpotqa",
  question: "Which magazine was started first, Arthur's Magazine or First for Women?",
  answer: "Arthur's Magazine",
  context: [
    {
      title: "Arthur's Magazine",
      sentences: [
        "Arthur's Magazine was an American literary periodical.",
        "It was published in Philadelphia from 1844.",
      ],
    },
    {
      title: "First for Women",
      sentences: ["First for Women is a woman's magazine.", "It was started in 1989."],
    },
  ],
};

export const rationale =
  "Arthur's Magazine was first published in 1844. First for Women was started in 1989. 1844 is earlier than 1989.";

/** Which aspect a per-aspect judge prompt asks about. */
export function aspectOf(request: GenerateRequest): string {
  return /^Aspect: (\w+)\./.exec(request.prompt ?? "")?.[1]?.toLowerCase() ?? "";
}

/**
 * A judge / large model that answers from a function of the request, counting calls in flight
 * (to check concurrency limits) and optionally waiting before it answers.
 */
export class FunctionModel implements LanguageModel {
  readonly specificationVersion = "v1" as const;
  readonly requests: GenerateRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly reply: (request: GenerateRequest) => string | Partial<GenerateResult>,
    readonly id = "scripted:judge",
    private readonly delayMs = 0,
  ) {}

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.requests.push(request);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      else await Promise.resolve();
      const made = this.reply(request);
      const result = typeof made === "string" ? { text: made } : made;
      return {
        finishReason: "stop",
        usage: { inputTokens: 10, outputTokens: 2 },
        costUsd: 0.001,
        ...result,
        text: result.text ?? "",
      };
    } finally {
      this.inFlight--;
    }
  }
}

/** A judge giving every aspect `score` (1–5), per-aspect or all-in-one. */
export function constantJudge(score: number, delayMs = 0): FunctionModel {
  return new FunctionModel(
    (r) =>
      (r.prompt ?? "").startsWith("Aspects:")
        ? ASPECTS.map((a) => `${a}: ${score}`).join("\n")
        : `Score: ${score}`,
    "scripted:judge",
    delayMs,
  );
}

/** A large LM that answers `answer` (as `Answer: …`). */
export function answering(answer: string, delayMs = 0): FunctionModel {
  return new FunctionModel(() => `Answer: ${answer}`, "scripted:large", delayMs);
}
