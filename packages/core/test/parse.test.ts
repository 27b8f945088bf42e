import { describe, expect, it } from "vitest";
import {
  answerPrompt,
  candidateSpans,
  cotPrompt,
  parsePrompt,
  rankSentences,
  rationalePrompt,
  splitSentences,
  standardPrompt,
} from "../src/index";
import { corliss } from "./helpers";

const supporting = { context: { paragraphs: "supporting" as const } };

describe("parsePrompt reads back what the templates wrote", () => {
  it("standard / answer / cot / rationale prompts", () => {
    const std = standardPrompt.render(corliss, supporting);
    const parsed = parsePrompt(std.prompt, std.system)!;
    expect(parsed.question).toBe(corliss.question);
    expect(parsed.replyFormat).toBe("answer");
    expect(parsed.context.map((p) => p.title).sort()).toEqual([
      "Kiss and Tell (1945 film)",
      "Shirley Temple",
    ]);
    const kiss = parsed.context.find((p) => p.title === "Kiss and Tell (1945 film)")!;
    expect(kiss.sentences[0]).toBe(
      corliss.context.find((p) => p.title === "Kiss and Tell (1945 film)")!.sentences[0]!.trim(),
    );

    const ans = answerPrompt.render(corliss, "Temple played Corliss Archer.", supporting);
    expect(parsePrompt(ans.prompt, ans.system)).toMatchObject({
      rationale: "Temple played Corliss Archer.",
      replyFormat: "answer",
    });
    const c = cotPrompt.render(corliss, supporting);
    expect(parsePrompt(c.prompt, c.system)!.replyFormat).toBe("reasoning-prediction");
    expect(parsePrompt(rationalePrompt.render(corliss, supporting))!.replyFormat).toBe("rationale");
  });

  it("ignores few-shot exemplars and numbered sentences", () => {
    const p = standardPrompt.render(corliss, {
      exemplars: [{ question: "Q?", context: "T: s.", answer: "A" }],
      context: { paragraphs: "supporting", numberSentences: true },
    });
    const parsed = parsePrompt(p.prompt)!;
    expect(parsed.question).toBe(corliss.question);
    expect(parsed.context[0]!.sentences[0]!.startsWith("(")).toBe(false);
    expect(parsePrompt("no question here")).toBeUndefined();
  });
});

describe("lexical tools", () => {
  it("splits sentences and finds typed candidate spans", () => {
    expect(splitSentences("He was born in 1950. He died on 3 May 2001! Why?")).toEqual([
      "He was born in 1950.",
      "He died on 3 May 2001!",
      "Why?",
    ]);
    const spans = candidateSpans("The English Electric Canberra first flew on 13 May 1949 with 3,677 seats.");
    expect(spans).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ text: "English Electric Canberra", kind: "entity" }),
        expect.objectContaining({ text: "13 May 1949", kind: "date" }),
        expect.objectContaining({ text: "1949", kind: "year" }),
        expect.objectContaining({ text: "3,677", kind: "number" }),
      ]),
    );
    expect(spans.some((s) => s.text === "May" || s.text === "The")).toBe(false);
  });

  it("ranks the supporting sentences of a question first", () => {
    const ranked = rankSentences(corliss.question, corliss.context);
    const gold = new Set(corliss.supportingFacts!.map((f) => f.title));
    expect(ranked.slice(0, 3).some((s) => gold.has(s.title))).toBe(true);
    expect(ranked[0]!.score).toBeGreaterThan(ranked.at(-1)!.score);
  });
});
