import { answerPrompt, cot, type Example, lmGuided, standard, standardPrompt } from "@lmcot/core";
import { ScriptedRationaleModel } from "@lmcot/core/testing";
import { describe, expect, it } from "vitest";
import { choiceOptions, ExtractiveReader } from "../src/providers/extractive";

const example: Example = {
  id: "x",
  dataset: "hotpotqa",
  question: "Which film was released first, Aas Ka Panchhi or Phoolwari?",
  answer: "Phoolwari",
  context: [
    {
      title: "Aas Ka Panchhi",
      sentences: ["Aas Ka Panchhi is a 1961 Hindi film directed by J. Om Prakash."],
    },
    {
      title: "Phoolwari",
      sentences: ["Phoolwari is a 1946 Indian Bollywood film.", "It was directed by Mukund Gupta."],
    },
    { title: "Unrelated", sentences: ["Paris is the capital of France."] },
  ],
};
const bridge: Example = {
  id: "y",
  dataset: "hotpotqa",
  question:
    "What government position was held by the woman who portrayed Corliss Archer in the film Kiss and Tell?",
  answer: "Chief of Protocol",
  context: [
    {
      title: "Kiss and Tell (1945 film)",
      sentences: [
        "Kiss and Tell is a 1945 American comedy film starring then 17-year-old Shirley Temple as Corliss Archer.",
      ],
    },
    {
      title: "Shirley Temple",
      sentences: [
        "Shirley Temple Black was an American actress, singer, dancer, businesswoman, and diplomat.",
        "As an adult, she was named United States ambassador to Ghana and served as Chief of Protocol of the United States.",
      ],
    },
  ],
};

describe("extractive:reader", () => {
  const large = new ExtractiveReader();

  it("answers comparison questions from the dates in the context", async () => {
    expect(choiceOptions(example.question)).toEqual(["Aas Ka Panchhi", "Phoolwari"]);
    const p = await standard(example, { large });
    expect(p.answer).toBe("Phoolwari");
    expect(p.costUsd).toBe(0);
    expect(p.usage.large.inputTokens).toBeGreaterThan(20);
  });

  it("replies in the format the prompt asks for", async () => {
    const std = standardPrompt.render(example);
    expect((await large.generate(std)).text).toBe("Answer: Phoolwari");
    const c = await cot(bridge, { large });
    expect(c.rationale).toContain("Shirley Temple");
    expect(c.prompts[0]!.output).toMatch(/^Reasoning: .+\nPrediction: .+$/s);
  });

  it("uses the rationale in the prompt to find the answer sentence", async () => {
    const rationale = "Shirley Temple served as Chief of Protocol of the United States.";
    const out = await large.generate(answerPrompt.render(bridge, rationale));
    expect(out.text).toContain("Chief of Protocol");
    const small = new ScriptedRationaleModel([rationale]);
    expect((await lmGuided(bridge, { large, small })).answer).toContain("Chief of Protocol");
  });

  it("is deterministic and honours abort and stop", async () => {
    const a = await large.generate(standardPrompt.render(bridge));
    expect(await large.generate(standardPrompt.render(bridge))).toEqual(a);
    expect((await large.generate({ ...standardPrompt.render(example), stop: ["Phool"] })).text).toBe(
      "Answer: ",
    );
    const controller = new AbortController();
    controller.abort();
    await expect(large.generate({ prompt: "Question: x", signal: controller.signal })).rejects.toThrow();
  });
});
