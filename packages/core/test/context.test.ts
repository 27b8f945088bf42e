import { describe, expect, it } from "vitest";
import { approximateTokens, formatContext, selectParagraphs } from "../src/index";
import { corliss, examples } from "./helpers";

describe("formatContext", () => {
  it("renders one line per paragraph with its title, in dataset order", () => {
    const text = formatContext(corliss);
    const lines = text.split("\n");
    expect(lines).toHaveLength(corliss.context.length);
    expect(lines[0]!.startsWith(`${corliss.context[0]!.title}: `)).toBe(true);
  });

  it("numbers sentences when asked", () => {
    const text = formatContext(corliss, { paragraphs: "supporting", numberSentences: true });
    expect(text).toContain("(0) ");
    expect(text).toContain("(1) ");
  });

  it("keeps only the supporting paragraphs", () => {
    const titles = new Set(corliss.supportingFacts!.map((f) => f.title));
    const lines = formatContext(corliss, { paragraphs: "supporting" }).split("\n");
    expect(lines).toHaveLength(titles.size);
    for (const line of lines) expect([...titles].some((t) => line.startsWith(`${t}: `))).toBe(true);
  });

  it("picks the top-k paragraphs by overlap with the question, shown in dataset order", () => {
    const picked = selectParagraphs(corliss, { topK: 2 });
    expect(picked).toHaveLength(2);
    expect([...picked].sort((a, b) => a - b)).toEqual(picked);
    const titles = picked.map((i) => corliss.context[i]!.title);
    expect(titles).toContain("Kiss and Tell (1945 film)");
  });

  describe("truncation to a token budget", () => {
    const budgets = [20, 50, 80, 120, 200, 400, 800];
    for (const example of examples) {
      for (const maxTokens of budgets) {
        it(`${example.id.slice(0, 8)} @ ${maxTokens}: within budget, whole sentences, supporting first`, () => {
          const text = formatContext(example, { maxTokens });
          expect(approximateTokens(text)).toBeLessThanOrEqual(maxTokens);
          for (const line of text.split("\n").filter(Boolean)) {
            const paragraph = example.context.find((p) => line.startsWith(`${p.title}: `))!;
            expect(paragraph).toBeDefined();
            const body = line.slice(paragraph.title.length + 2);
            // The body is a prefix of the paragraph's sentences, joined: never a cut sentence.
            const prefixes = paragraph.sentences.map((_, n) =>
              paragraph.sentences
                .slice(0, n + 1)
                .map((s) => s.trim())
                .join(" "),
            );
            expect(prefixes).toContain(body);
          }
          const gold = new Set(example.supportingFacts!.map((f) => f.title));
          const lines = text.split("\n").filter(Boolean);
          const distractorShown = lines.some((l) => ![...gold].some((t) => l.startsWith(`${t}: `)));
          // A distractor is shown only when every supporting paragraph is there in full.
          if (distractorShown) {
            for (const p of example.context.filter((c) => gold.has(c.title))) {
              expect(lines).toContain(`${p.title}: ${p.sentences.map((s) => s.trim()).join(" ")}`);
            }
          }
        });
      }
    }
  });

  it("uses a pluggable token counter", () => {
    const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
    const text = formatContext(corliss, { maxTokens: 30, countTokens: words });
    expect(words(text)).toBeLessThanOrEqual(30);
    expect(text.length).toBeGreaterThan(0);
  });
});
