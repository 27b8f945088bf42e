import {
  candidateSpans,
  contentWords,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ParsedPrompt,
  parsePrompt,
  type RankedSentence,
  rankSentences,
  type Span,
  throwIfAborted,
  tokens,
} from "@lmcot/core";

const YES_NO = /^(is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b/i;
const EARLIER = /\b(first|earlier|earliest|older|oldest|before|sooner)\b/i;
const LATER = /\b(later|latest|last|younger|youngest|after|more recent|most recent|newer)\b/i;

type Expected = "year" | "date" | "number" | "entity";

function expectedKind(question: string): Expected {
  const q = question.toLowerCase();
  if (/\b(what|which|in what) year\b|\bwhen\b/.test(q)) return /\bwhen\b/.test(q) ? "date" : "year";
  if (/\bhow (many|much|long|old|tall|high)\b|\bwhat (number|percentage|population)\b/.test(q))
    return "number";
  return "entity";
}

/** `…, A or B?` / `… first A or B?` → the two options, or undefined. */
export function choiceOptions(question: string): [string, string] | undefined {
  const q = question.replace(/\?+\s*$/, "");
  const m =
    /,\s*(?:the\s+)?(.+?)\s+or\s+(?:the\s+)?(.+)$/i.exec(q) ??
    /\b(?:first|earlier|later|older|younger|last|more|less|larger|smaller|bigger|longer|shorter|higher|lower|recently)\b[:,]?\s+(.+?)\s+or\s+(.+)$/i.exec(
      q,
    ) ??
    /\b(?:between|is it)\s+(.+?)\s+(?:or|and)\s+(.+)$/i.exec(q);
  if (!m) return undefined;
  return [m[1]!.trim(), m[2]!.trim()];
}

function paragraphFor(option: string, context: ParsedPrompt["context"]): number {
  const words = new Set(contentWords(option));
  let best = -1;
  let bestScore = 0;
  context.forEach((p, i) => {
    const title = contentWords(p.title);
    const hit = title.filter((w) => words.has(w)).length / Math.max(1, Math.max(title.length, words.size));
    if (hit > bestScore) {
      bestScore = hit;
      best = i;
    }
  });
  return best;
}

function firstYear(sentences: readonly string[]): number | undefined {
  for (const s of sentences) {
    const m = /\b(1[0-9]{3}|20[0-9]{2})\b/.exec(s);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Answers "A or B" comparison questions from the two options' paragraphs (dates, then mentions). */
function chooseOption(parsed: ParsedPrompt, options: [string, string], ranked: RankedSentence[]): string {
  const [a, b] = options;
  const pa = paragraphFor(a, parsed.context);
  const pb = paragraphFor(b, parsed.context);
  if (pa >= 0 && pb >= 0 && (EARLIER.test(parsed.question) || LATER.test(parsed.question))) {
    const ya = firstYear(parsed.context[pa]!.sentences);
    const yb = firstYear(parsed.context[pb]!.sentences);
    if (ya !== undefined && yb !== undefined && ya !== yb) {
      const earlierWins = EARLIER.test(parsed.question);
      return ya < yb === earlierWins ? a : b;
    }
  }
  const scoreOf = (p: number) =>
    p < 0 ? 0 : Math.max(0, ...ranked.filter((s) => s.paragraph === p).map((s) => s.score));
  return scoreOf(pa) >= scoreOf(pb) ? a : b;
}

/** Describing words of an entity's first sentence: capitalised words not in its title (e.g. "American"). */
function descriptors(paragraph: ParsedPrompt["context"][number] | undefined): Set<string> {
  if (!paragraph) return new Set();
  const title = new Set(tokens(paragraph.title));
  const first = paragraph.sentences[0] ?? "";
  const out = new Set<string>();
  for (const m of first.matchAll(/\b\p{Lu}[\p{L}-]+/gu)) {
    const w = m[0].toLowerCase();
    if (!title.has(w) && m.index > 0) out.add(w);
  }
  return out;
}

function yesOrNo(parsed: ParsedPrompt, ranked: RankedSentence[]): string {
  const rationale = parsed.rationale?.toLowerCase() ?? "";
  if (/\b(not|different|differ|neither|no)\b/.test(rationale)) return "no";
  if (/\b(both|same|also|yes)\b/.test(rationale)) return "yes";
  const pair =
    choiceOptions(parsed.question.replace(/\bthe same\b.*$/i, "")) ??
    /^(?:are|were|is|was|do|does|did)\s+(.+?)\s+and\s+(.+?)\s+(?:both|of|from|the|in|located|american|british)\b/i
      .exec(parsed.question)
      ?.slice(1, 3);
  if (pair && pair.length === 2) {
    const da = descriptors(parsed.context[paragraphFor(pair[0]!, parsed.context)]);
    const db = descriptors(parsed.context[paragraphFor(pair[1]!, parsed.context)]);
    if (da.size && db.size) return [...da].some((w) => db.has(w)) ? "yes" : "no";
  }
  const top = ranked[0];
  if (!top) return "no";
  const q = new Set(contentWords(parsed.question));
  const covered = contentWords(top.text).filter((w) => q.has(w)).length / Math.max(1, q.size);
  return covered >= 0.5 ? "yes" : "no";
}

function spanScore(span: Span, expected: Expected, questionWords: Set<string>): number {
  const words = contentWords(span.text);
  if (words.length === 0) return -Infinity;
  const inQuestion = words.filter((w) => questionWords.has(w)).length / words.length;
  let score = -2 * inQuestion;
  if (expected === span.kind) score += 2;
  else if (expected === "date" && span.kind === "year") score += 1;
  else if (expected === "year" && span.kind === "date") score += 1;
  else if (expected === "entity" && span.kind !== "entity") score -= 1;
  return score - 0.02 * words.length;
}

/** The classical extractive reader: sentence retrieval, then typed answer-span selection. */
export function extractiveAnswer(parsed: ParsedPrompt): { answer: string; evidence: RankedSentence[] } {
  const ranked = rankSentences(parsed.question, parsed.context, parsed.rationale ?? "");
  const evidence = ranked.slice(0, 2);
  if (YES_NO.test(parsed.question) && !/\bor\b/i.test(parsed.question)) {
    return { answer: yesOrNo(parsed, ranked), evidence };
  }
  const options = choiceOptions(parsed.question);
  if (options) return { answer: chooseOption(parsed, options, ranked), evidence };
  const expected = expectedKind(parsed.question);
  const questionWords = new Set(contentWords(parsed.question));
  // Spans the rationale names are what the guidance points at: they get a bonus.
  const guided = new Set(candidateSpans(parsed.rationale ?? "").map((s) => s.text.toLowerCase()));
  let best: { text: string; score: number } | undefined;
  ranked.slice(0, 4).forEach((sentence, rank) => {
    for (const span of candidateSpans(sentence.text)) {
      const bonus = guided.has(span.text.toLowerCase()) ? 1.5 : 0;
      const score =
        spanScore(span, expected, questionWords) + sentence.score * (1 - 0.2 * rank) * 0.3 + bonus;
      if (!best || score > best.score) best = { text: span.text, score };
    }
  });
  return { answer: best?.text ?? ranked[0]?.title ?? "", evidence };
}

const count = (text: string) => (text.trim() ? text.trim().split(/\s+/).length : 0);

/**
 * `extractive:reader`: an offline stand-in for the large LM. It reads the question, context and
 * rationale back out of the prompt (as any LLM must) and answers by classical extractive QA. Free,
 * deterministic, no network: a baseline and the embedded default of the benchmark.
 */
export class ExtractiveReader implements LanguageModel {
  readonly specificationVersion = "v1" as const;
  readonly id: string;

  constructor(name = "reader") {
    this.id = `extractive:${name}`;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    throwIfAborted(request.signal);
    const prompt = request.prompt ?? (request.messages ?? []).map((m) => m.content).join("\n\n");
    const parsed = parsePrompt(prompt, request.system ?? "");
    let text: string;
    if (!parsed) text = "Answer: unknown";
    else {
      const { answer, evidence } = extractiveAnswer(parsed);
      text =
        parsed.replyFormat === "reasoning-prediction"
          ? `Reasoning: ${evidence.map((s) => s.text).join(" ")}\nPrediction: ${answer}`
          : `Answer: ${answer}`;
    }
    for (const stop of request.stop ?? []) {
      const at = text.indexOf(stop);
      if (at >= 0) text = text.slice(0, at);
    }
    return {
      text,
      usage: { inputTokens: count(`${request.system ?? ""} ${prompt}`), outputTokens: count(text) },
      finishReason: "stop",
      costUsd: 0,
    };
  }
}
