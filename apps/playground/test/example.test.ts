import type { Example } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { contextText, exampleFrom, paragraphsOf } from "../src/example";

describe("the question form", () => {
  it("splits pasted context into paragraphs, a first line ending in ':' as the title", () => {
    const paragraphs = paragraphsOf(
      "Ed Wood:\nEdward Davis Wood Jr. was an American filmmaker. He was born in 1924.\n\n  \nScott Derrickson is an American director.",
    );
    expect(paragraphs).toEqual([
      {
        title: "Ed Wood",
        sentences: ["Edward Davis Wood Jr. was an American filmmaker.", " He was born in 1924."],
      },
      { title: "Passage 2", sentences: ["Scott Derrickson is an American director."] },
    ]);
  });

  it("runs a picked example as it is, and an edited one as the form says", () => {
    const picked: Example | undefined = HOTPOT;
    const form = { question: picked!.question, context: contextText(picked!), gold: picked!.answer };
    expect(exampleFrom(form, picked)).toBe(picked);
    const edited = exampleFrom({ ...form, gold: "" }, picked);
    expect(edited).toMatchObject({ id: "pasted", answer: "", question: picked!.question });
    expect(edited.context.map((p) => p.title)).toEqual(["Ed Wood (film)", "Scott Derrickson"]);
  });
});

// Two paragraphs of the first HotpotQA dev record (CC BY-SA 4.0, see packages/datasets/assets/data).
const HOTPOT: Example = {
  id: "5a8b57f25542995d1e6f1371",
  dataset: "hotpotqa",
  answer: "yes",
  question: "Were Scott Derrickson and Ed Wood of the same nationality?",
  context: [
    {
      title: "Ed Wood (film)",
      sentences: [
        "Ed Wood is a 1994 American biographical period comedy-drama film directed and produced by Tim Burton.",
      ],
    },
    {
      title: "Scott Derrickson",
      sentences: [
        "Scott Derrickson (born July 16, 1966) is an American director, screenwriter and producer.",
      ],
    },
  ],
};
