import { rationalePrompt } from "@lmcot/core";
import { rationaleModelConformance } from "@lmcot/llm/testing";
import { describe, it } from "vitest";
import { ExtractiveSelector, OpenAICompatibleRationaleModel } from "../src/index";

const ask = (question: string, title: string, sentence: string) =>
  rationalePrompt.render({
    id: title,
    dataset: "hotpotqa",
    question,
    answer: "",
    context: [{ title, sentences: [sentence] }],
  });

// The rationale backends run the same suite third-party backends run through @lmcot/llm/testing.
rationaleModelConformance(
  { describe, it },
  {
    name: "openai-compatible",
    make: (url, apiKey, policy) =>
      new OpenAICompatibleRationaleModel(`${url}/v1#flan-t5-large`, { apiKey, ...policy }),
    logprobs: true,
  },
);
rationaleModelConformance(
  { describe, it },
  {
    name: "extractive:selector",
    make: () => new ExtractiveSelector(),
    offline: true,
    inputs: [
      ask("Who directed Jaws?", "Jaws", "Jaws is a 1975 film. It was directed by Steven Spielberg."),
      ask("Which film came out first?", "Phoolwari", "Phoolwari is a 1946 film."),
    ],
  },
);
