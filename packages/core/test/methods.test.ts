import { describe, expect, it } from "vitest";
import type { GenerateRequest, LanguageModel } from "../src/index";
import {
  answerPrompt,
  cot,
  cotPrompt,
  lmGuided,
  majorityVote,
  methods,
  rationalePrompt,
  standard,
  standardPrompt,
  teacherPrompt,
} from "../src/index";
import { ScriptedLanguageModel, ScriptedRationaleModel } from "../src/testing/index";
import { corliss, nationality } from "./helpers";

const tiny = {
  ...nationality,
  context: nationality.context.filter((p) => p.title === "Ed Wood" || p.title === "Scott Derrickson"),
};
const shortContext = {
  ...tiny,
  context: tiny.context.map((p) => ({ title: p.title, sentences: p.sentences.slice(0, 1) })),
};

describe("prompt templates", () => {
  it("renders the exact standard prompt", () => {
    expect(standardPrompt.render(shortContext)).toMatchInlineSnapshot(`
      {
        "prompt": "Question: Were Scott Derrickson and Ed Wood of the same nationality?

      Context:
      Scott Derrickson: Scott Derrickson (born July 16, 1966) is an American director, screenwriter and producer.
      Ed Wood: Edward Davis Wood Jr. (October 10, 1924 – December 10, 1978) was an American filmmaker, actor, writer, producer, and director.

      Answer:",
        "system": "Answer the question from the context. Reply with the short answer only (an entity, a date, a number, or yes/no), on one line, as \`Answer: <answer>\`.",
      }
    `);
  });

  it("renders the exact rationale and answer prompts of LM-guided CoT", () => {
    expect(rationalePrompt.render(shortContext)).toMatchInlineSnapshot(`
      "Read the question and the context. Write the reasoning that leads to the answer: the facts from the context that are needed, and how they connect.

      Question: Were Scott Derrickson and Ed Wood of the same nationality?

      Context:
      Scott Derrickson: Scott Derrickson (born July 16, 1966) is an American director, screenwriter and producer.
      Ed Wood: Edward Davis Wood Jr. (October 10, 1924 – December 10, 1978) was an American filmmaker, actor, writer, producer, and director.

      Reasoning:"
    `);
    expect(answerPrompt.render(shortContext, " Both are American. ").prompt).toMatch(
      /\n\nReasoning: Both are American\.\n\nAnswer:$/,
    );
  });

  it("has CoT and teacher prompts in the Reasoning / Prediction format", () => {
    expect(cotPrompt.render(shortContext).system).toContain("Prediction: <");
    expect(teacherPrompt.render(shortContext).system).toContain("Reasoning: <rationale>");
    expect(teacherPrompt.render(shortContext).prompt).toBe(cotPrompt.render(shortContext).prompt);
  });

  it("versions every template by its text", () => {
    const versions = [rationalePrompt, answerPrompt, standardPrompt, cotPrompt, teacherPrompt].map(
      (t) => t.version,
    );
    expect(new Set(versions).size).toBe(5);
    for (const v of versions) expect(v).toMatch(/^[a-z]+@[0-9a-f]{8}$/);
  });

  it("adds few-shot exemplars before the question", () => {
    const prompt = standardPrompt.render(shortContext, {
      exemplars: [{ question: "Q1?", context: "C1", answer: "A1" }],
    }).prompt;
    expect(prompt.startsWith("Question: Q1?\n\nContext:\nC1\n\nAnswer: A1\n\n---\n\nQuestion: Were")).toBe(
      true,
    );
  });
});

describe("methods", () => {
  it("standard: one call, the answer extracted, usage and prompts recorded", async () => {
    const large = new ScriptedLanguageModel(["Answer: yes, both are American."]);
    const p = await standard(tiny, { large }, { seed: 7 });
    expect(p).toMatchObject({
      method: "standard",
      answer: "yes",
      exampleId: tiny.id,
      dataset: "hotpotqa",
      seed: 7,
    });
    expect(p.models).toEqual({ large: "scripted:large" });
    expect(large.requests).toHaveLength(1);
    expect(large.requests[0]).toMatchObject({
      temperature: 0,
      seed: 7,
      maxTokens: 64,
      promptVersion: standardPrompt.version,
    });
    expect(p.prompts).toEqual([
      {
        step: "answer",
        model: "scripted:large",
        system: standardPrompt.render(tiny).system,
        prompt: standardPrompt.render(tiny).prompt,
        output: "Answer: yes, both are American.",
        usage: p.usage.large,
      },
    ]);
    expect(p.usage.large.outputTokens).toBe(5);
    expect(p.promptVersion).toBe(standardPrompt.version);
    expect(p.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("cot: the large LM's own rationale and prediction", async () => {
    const large = new ScriptedLanguageModel([
      "Reasoning: Derrickson is American. Wood is American.\nPrediction: yes",
    ]);
    const p = await cot(tiny, { large });
    expect(p).toMatchObject({
      method: "cot",
      answer: "yes",
      rationale: "Derrickson is American. Wood is American.",
    });
    expect(large.requests[0]!.prompt).toBe(cotPrompt.render(tiny).prompt);
  });

  it("lmGuided: the small LM's rationale goes into the large LM's prompt", async () => {
    const small = new ScriptedRationaleModel([
      "Shirley Temple played Corliss Archer; she was Chief of Protocol.",
    ]);
    const large = new ScriptedLanguageModel([
      { text: "Answer: Chief of Protocol", costUsd: 0.002, cached: true },
    ]);
    const p = await lmGuided(corliss, { small, large }, { context: { paragraphs: "supporting" } });
    expect(small.calls[0]!.inputs).toEqual([
      rationalePrompt.render(corliss, { context: { paragraphs: "supporting" } }),
    ]);
    expect(small.calls[0]!.options).toMatchObject({ maxNewTokens: 128, numReturnSequences: 1 });
    expect(large.requests[0]!.prompt).toContain(
      "Reasoning: Shirley Temple played Corliss Archer; she was Chief of Protocol.\n\nAnswer:",
    );
    expect(p).toMatchObject({
      method: "lm-guided",
      answer: "Chief of Protocol",
      rationale: "Shirley Temple played Corliss Archer; she was Chief of Protocol.",
      models: { large: "scripted:large", small: "scripted:small" },
      costUsd: 0.002,
      cached: true,
    });
    expect(p.prompts.map((r) => r.step)).toEqual(["rationale", "answer"]);
    expect(p.usage.small!.outputTokens).toBe(10);
  });

  it("lmGuided with self-consistency samples k rationales and votes", async () => {
    const small = new ScriptedRationaleModel((_, i) => `rationale ${i}`);
    const large = new ScriptedLanguageModel([
      (r) => (r.prompt!.includes("rationale 1") ? "Answer: no" : "Answer: Yes."),
    ]);
    const p = await lmGuided(tiny, { small, large }, { selfConsistency: 3, seed: 1 });
    expect(small.calls[0]!.options).toMatchObject({ numReturnSequences: 3, temperature: 0.7, seed: 1 });
    expect(p.answer).toBe("yes");
    expect(p.samples).toHaveLength(3);
    expect(large.requests).toHaveLength(3);
  });

  it("majorityVote normalises and keeps the first on ties", () => {
    expect(majorityVote(["The Beatles", "beatles", "Stones"])).toBe("The Beatles");
    expect(majorityVote(["a", "b"])).toBe("a");
    expect(majorityVote([])).toBe("");
  });

  it("methods record dispatches by name and demands a small model for lm-guided", async () => {
    const large = new ScriptedLanguageModel(["Answer: yes"]);
    expect((await methods.standard(tiny, { large })).answer).toBe("yes");
    expect(() => methods["lm-guided"](tiny, { large })).toThrow(/small/);
  });

  it("passes the abort signal to the models", async () => {
    const large = new ScriptedLanguageModel(["Answer: yes"]);
    const controller = new AbortController();
    controller.abort();
    await expect(standard(tiny, { large }, { signal: controller.signal })).rejects.toMatchObject({
      code: "aborted",
    });
  });
});

describe("reasoning through the methods", () => {
  /** A reasoning model that thinks out loud and records what it was asked. */
  function thinker() {
    const requests: GenerateRequest[] = [];
    const model: LanguageModel = {
      specificationVersion: "v1",
      id: "test:thinker",
      async generate(request) {
        requests.push(request);
        return {
          text: "Answer: American",
          reasoning: "Both were born in the United States.",
          usage: { inputTokens: 10, outputTokens: 12, reasoningTokens: 9 },
          finishReason: "stop",
        };
      },
    };
    return { model, requests };
  }

  it("passes the reasoning option to every large-LM call and keeps the reasoning text and tokens per call", async () => {
    const { model, requests } = thinker();
    const p = await standard(tiny, { large: model }, { reasoning: { effort: "high" } });
    expect(requests[0]!.reasoning).toEqual({ effort: "high" });
    expect(p.prompts[0]).toMatchObject({
      reasoning: "Both were born in the United States.",
      usage: { reasoningTokens: 9 },
    });
    expect(p.usage.large.reasoningTokens).toBe(9);
    const guided = await lmGuided(
      tiny,
      { large: model, small: new ScriptedRationaleModel(["r1", "r2"]) },
      { reasoning: { budgetTokens: 2000 }, selfConsistency: 2 },
    );
    expect(requests.slice(1).map((r) => r.reasoning)).toEqual([
      { budgetTokens: 2000 },
      { budgetTokens: 2000 },
    ]);
    expect(guided.prompts.filter((c) => c.reasoning)).toHaveLength(2);
    expect(guided.prompts.find((c) => c.step === "rationale")).not.toHaveProperty("reasoning");
    expect(guided.usage.large.reasoningTokens).toBe(18);
  });

  it("sends no reasoning setting and records none when none is asked for or returned", async () => {
    const requests: GenerateRequest[] = [];
    const plain = new ScriptedLanguageModel([
      (r: GenerateRequest) => {
        requests.push(r);
        return "Answer: American";
      },
    ]);
    const p = await standard(tiny, { large: plain });
    expect(requests[0]).not.toHaveProperty("reasoning");
    expect(p.prompts[0]).not.toHaveProperty("reasoning");
  });
});
