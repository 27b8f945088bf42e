import {
  contentWords,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  splitSentences,
  throwIfAborted,
  tokens,
} from "@lmcot/core";

type Aspect = keyof ReturnType<typeof lexicalAspectScores>;

const CONNECTIVES = /\b(so|therefore|thus|because|since|hence|which|who|whose|then|as a result)\b/i;

/** The parts of a judge prompt (packages/rewards' template): question, context, rationale. */
function material(prompt: string) {
  const section = (start: string, end: string) => {
    const from = prompt.indexOf(start);
    if (from < 0) return "";
    const to = prompt.indexOf(end, from + start.length);
    return prompt.slice(from + start.length, to < 0 ? undefined : to).trim();
  };
  return {
    question: section("Question:", "\n\nContext:"),
    context: section("Context:", "\n\nRationale:"),
    rationale: section("\n\nRationale:", "\n\nRate the rationale"),
  };
}

const share = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
const clamp = (x: number) => Math.max(0, Math.min(1, x));

function ngrams(words: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= words.length; i++) out.push(words.slice(i, i + n).join(" "));
  return out;
}

/** Each aspect in [0, 1] from surface features of the rationale against its question and context. */
export function lexicalAspectScores(question: string, context: string, rationale: string) {
  const words = contentWords(rationale);
  const contextWords = new Set(contentWords(context));
  const questionWords = new Set(contentWords(question));
  const sentences = splitSentences(rationale);
  const sentenceWords = sentences.map((s) => new Set(contentWords(s)));
  const all = tokens(rationale);
  const covered = share([...questionWords].filter((w) => words.includes(w)).length, questionWords.size);
  const bigrams = ngrams(all, 2);
  const copied = ngrams(all, 6);
  const contextSix = new Set(ngrams(tokens(context), 6));
  const linked = sentenceWords.slice(1).filter((s, i) => [...s].some((w) => sentenceWords[i]!.has(w))).length;
  const meanLength = all.length / Math.max(1, sentences.length);
  const scores = {
    factuality: share(words.filter((w) => contextWords.has(w)).length, words.length),
    relevance: covered,
    logicality: clamp(0.6 * covered + (CONNECTIVES.test(rationale) || sentences.length > 1 ? 0.4 : 0)),
    consistency: share(new Set(sentences).size, sentences.length),
    coherence: sentences.length < 2 ? 0.5 : share(linked, sentences.length - 1),
    fluency: clamp(
      share(new Set(bigrams).size, bigrams.length || 1) - (/[.!?]\s*$/.test(rationale) ? 0 : 0.25),
    ),
    naturalness: copied.length
      ? 1 - share(copied.filter((g) => contextSix.has(g)).length, copied.length)
      : 0.5,
    readability: meanLength < 5 ? meanLength / 5 : meanLength <= 25 ? 1 : clamp(1 - (meanLength - 25) / 25),
  };
  // No content word: nothing to rate, every aspect at the bottom of the scale.
  return words.length
    ? scores
    : (Object.fromEntries(Object.keys(scores).map((a) => [a, 0])) as typeof scores);
}

/** [0, 1] → the judge scale's integer 1–5. */
const onScale = (x: number) => 1 + Math.round(4 * clamp(x));

/**
 * `extractive:judge`: an offline stand-in for the judge LM of the aspect rewards. It reads the
 * question, context and rationale back out of a judge prompt and rates each aspect from surface
 * features (words found in the context, question words covered, repetition, sentence links and
 * length, text copied verbatim). Free, deterministic, no network; it is not a model of quality,
 * only something that lets the pipeline run offline.
 */
export class LexicalJudge implements LanguageModel {
  readonly specificationVersion = "v1" as const;
  readonly id = "extractive:judge";

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    throwIfAborted(request.signal);
    const prompt = request.prompt ?? (request.messages ?? []).map((m) => m.content).join("\n\n");
    const { question, context, rationale } = material(prompt);
    const scores = lexicalAspectScores(question, context, rationale);
    const one = /^Aspect: (\w+)\./.exec(prompt)?.[1]?.toLowerCase() as Aspect | undefined;
    const text =
      one && one in scores
        ? `Score: ${onScale(scores[one])}`
        : (Object.keys(scores) as Aspect[])
            .filter((a) => prompt.includes(`- ${a}:`))
            .map((a) => `${a}: ${onScale(scores[a])}`)
            .join("\n");
    const count = (t: string) => (t.trim() ? t.trim().split(/\s+/).length : 0);
    return {
      text,
      usage: { inputTokens: count(`${request.system ?? ""} ${prompt}`), outputTokens: count(text) },
      finishReason: "stop",
      costUsd: 0,
    };
  }
}
