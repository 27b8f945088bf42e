import { AbortError } from "../errors";
import type { GenerateRequest, GenerateResult, LanguageModel } from "../language-model";
import type {
  RationaleGenerateOptions,
  RationaleModel,
  RationaleOutput,
  ScoredSequence,
  ScoreRequest,
} from "../rationale-model";

/** A reply, or a function of the request that makes one. */
export type ScriptedReply =
  | string
  | Partial<GenerateResult>
  | ((request: GenerateRequest) => string | Partial<GenerateResult>);

const words = (text: string) => (text.trim() === "" ? 0 : text.trim().split(/\s+/).length);

/**
 * A `LanguageModel` for tests: returns prepared replies in order (the last one repeats) and records
 * every request it saw. Usage is counted in whitespace-separated words.
 */
export class ScriptedLanguageModel implements LanguageModel {
  readonly specificationVersion = "v1" as const;
  readonly requests: GenerateRequest[] = [];
  private next = 0;

  constructor(
    private readonly replies: ScriptedReply[],
    readonly id = "scripted:large",
  ) {}

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (request.signal?.aborted) throw new AbortError();
    this.requests.push(request);
    const reply = this.replies[Math.min(this.next++, this.replies.length - 1)] ?? "";
    const made = typeof reply === "function" ? reply(request) : reply;
    const result = typeof made === "string" ? { text: made } : made;
    const text = result.text ?? "";
    const input = `${request.system ?? ""} ${request.prompt ?? ""} ${(request.messages ?? []).map((m) => m.content).join(" ")}`;
    return {
      finishReason: "stop",
      usage: { inputTokens: words(input), outputTokens: words(text) },
      costUsd: 0,
      ...result,
      text,
    };
  }
}

/** A `RationaleModel` for tests: returns prepared rationales per call and records the inputs. */
export class ScriptedRationaleModel implements RationaleModel {
  readonly specificationVersion = "v1" as const;
  readonly calls: { inputs: string[]; options: RationaleGenerateOptions }[] = [];

  constructor(
    private readonly rationales: string[] | ((input: string, sequence: number) => string),
    readonly id = "scripted:small",
  ) {}

  async generate(inputs: string[], options: RationaleGenerateOptions = {}): Promise<RationaleOutput[]> {
    if (options.signal?.aborted) throw new AbortError();
    this.calls.push({ inputs, options });
    const n = options.numReturnSequences ?? 1;
    let count = 0;
    return inputs.flatMap((input, inputIndex) =>
      Array.from({ length: n }, (_, sequence) => {
        const text =
          typeof this.rationales === "function"
            ? this.rationales(input, sequence)
            : (this.rationales[Math.min(count++, this.rationales.length - 1)] ?? "");
        return { text, inputIndex, usage: { inputTokens: words(input), outputTokens: words(text) } };
      }),
    );
  }

  async scoreLogprobs(items: ScoreRequest[]): Promise<ScoredSequence[]> {
    return items.map((item) => {
      const n = words(item.output);
      const logprobs = Array.from({ length: n }, () => Math.log(0.5));
      return {
        tokenIds: Array.from({ length: n }, (_, i) => i),
        logprobs,
        total: logprobs.reduce((a, b) => a + b, 0),
      };
    });
  }
}
