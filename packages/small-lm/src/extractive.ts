import {
  BadRequestError,
  candidateSpans,
  contentWords,
  parsePrompt,
  type RankedSentence,
  type RationaleGenerateOptions,
  type RationaleModel,
  type RationaleOutput,
  rankSentences,
  type ScoredSequence,
  seededRandom,
} from "@lmcot/core";

/** Picks an index by softmax(score / temperature) with a seeded draw; greedy at temperature 0. */
function pick(scores: number[], temperature: number, random: () => number): number {
  if (temperature <= 0 || scores.length < 2) return 0;
  const max = Math.max(...scores);
  const weights = scores.map((s) => Math.exp((s - max) / temperature));
  let r = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r <= 0) return i;
  }
  return weights.length - 1;
}

/**
 * Chooses rationale sentences: the best match for the question, then a bridge hop — the best
 * sentence of a paragraph named by an entity of the first sentence (or, failing that, the best
 * sentence of another paragraph), up to `sentences` in all.
 */
export function selectRationale(
  prompt: string,
  sentences: number,
  temperature = 0,
  random: () => number = Math.random,
): string {
  const parsed = parsePrompt(prompt);
  if (!parsed || parsed.context.length === 0) return "";
  const ranked = rankSentences(parsed.question, parsed.context);
  const chosen: RankedSentence[] = [];
  const first = ranked.slice(0, 5);
  chosen.push(
    first[
      pick(
        first.map((s) => s.score),
        temperature,
        random,
      )
    ]!,
  );
  while (chosen.length < sentences) {
    const last = chosen[chosen.length - 1]!;
    const questionWords = new Set(contentWords(parsed.question));
    const bridges = candidateSpans(last.text)
      .filter((s) => s.kind === "entity")
      .map((s) => s.text)
      .filter((e) => contentWords(e).some((w) => !questionWords.has(w)));
    const used = new Set(chosen.map((s) => `${s.paragraph}:${s.index}`));
    const hop = rankSentences(`${parsed.question} ${bridges.join(" ")}`, parsed.context).filter(
      (s) => !used.has(`${s.paragraph}:${s.index}`) && s.paragraph !== last.paragraph,
    );
    const titled = hop.filter((s) => bridges.some((b) => s.title.toLowerCase().includes(b.toLowerCase())));
    const pool = (titled.length ? titled : hop).slice(0, 5);
    if (pool.length === 0) break;
    chosen.push(
      pool[
        pick(
          pool.map((s) => s.score),
          temperature,
          random,
        )
      ]!,
    );
  }
  return chosen.map((s) => s.text).join(" ");
}

const count = (text: string) => (text.trim() ? text.trim().split(/\s+/).length : 0);

/**
 * `extractive:selector`: an offline stand-in for the small LM. It reads the rationale prompt and
 * writes a rationale made of the context sentences most relevant to the question, hopping once
 * through a bridge entity. Sampling (temperature > 0) draws sentences by softmax over their scores,
 * seeded. Untrainable: `scoreLogprobs` is not supported.
 */
export class ExtractiveSelector implements RationaleModel {
  readonly specificationVersion = "v1" as const;
  readonly id: string;

  constructor(readonly sentences = 2) {
    this.id = sentences === 2 ? "extractive:selector" : `extractive:selector-${sentences}`;
  }

  async generate(inputs: string[], options: RationaleGenerateOptions = {}): Promise<RationaleOutput[]> {
    options.signal?.throwIfAborted();
    const n = options.numReturnSequences ?? 1;
    const temperature = options.temperature ?? (options.doSample ? 1 : 0);
    const random = seededRandom(options.seed ?? 0);
    return inputs.flatMap((input, inputIndex) =>
      Array.from({ length: n }, () => {
        const text = selectRationale(input, this.sentences, temperature, random);
        return {
          text,
          inputIndex,
          finishReason: "stop" as const,
          usage: { inputTokens: count(input), outputTokens: count(text) },
        };
      }),
    );
  }

  async scoreLogprobs(): Promise<ScoredSequence[]> {
    throw new BadRequestError(
      `${this.id} selects sentences and has no token probabilities; scoreLogprobs is not supported`,
    );
  }
}
