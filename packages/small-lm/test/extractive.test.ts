import { type Example, rationalePrompt } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { ExtractiveSelector } from "../src/extractive";

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
        "It was followed by a sequel.",
      ],
    },
    { title: "Paris", sentences: ["Paris is the capital of France."] },
    {
      title: "Shirley Temple",
      sentences: [
        "Shirley Temple Black was an American actress and diplomat.",
        "She served as Chief of Protocol of the United States.",
      ],
    },
  ],
};

describe("extractive:selector", () => {
  const small = new ExtractiveSelector();
  const input = rationalePrompt.render(bridge);

  it("selects the question's sentence, then hops to the bridge entity's paragraph", async () => {
    const [out] = await small.generate([input]);
    expect(out!.text.startsWith("Kiss and Tell is a 1945 American comedy film")).toBe(true);
    expect(out!.text).toContain("Shirley Temple Black");
    expect(out).toMatchObject({ inputIndex: 0, finishReason: "stop" });
  });

  it("returns n sequences per input, input-major, reproducible by seed when sampling", async () => {
    const outs = await small.generate([input, input], { numReturnSequences: 3, temperature: 2, seed: 5 });
    expect(outs.map((o) => o.inputIndex)).toEqual([0, 0, 0, 1, 1, 1]);
    const again = await small.generate([input, input], { numReturnSequences: 3, temperature: 2, seed: 5 });
    expect(again.map((o) => o.text)).toEqual(outs.map((o) => o.text));
  });

  it("says plainly that it has no log-probs", async () => {
    await expect(small.scoreLogprobs()).rejects.toMatchObject({ code: "bad_request" });
  });
});
