import { describe, expect, it } from "vitest";
import { extractAnswer, parseTeacherOutput } from "../src/index";

const cases: [reply: string, answer: string][] = [
  ["Answer: Chief of Protocol", "Chief of Protocol"],
  ["Answer: Chief of Protocol.", "Chief of Protocol"],
  ["answer: yes", "yes"],
  ["Yes, they are both American.", "yes"],
  ["No. Scott Derrickson is American while Ed Wood was also American.", "no"],
  ["YES", "yes"],
  ["Answer: No, they were not.", "no"],
  ['Answer: "Animorphs"', "Animorphs"],
  ["Answer: **Animorphs**", "Animorphs"],
  ["**Answer:** Animorphs", "Animorphs"],
  ["The answer is Paris.", "Paris"],
  ["Answer: The answer is 1990.", "1990"],
  [
    "Reasoning: Kiss and Tell starred Shirley Temple. She was Chief of Protocol.\nPrediction: Chief of Protocol",
    "Chief of Protocol",
  ],
  ["Prediction: Chief of Protocol\n\nExplanation: Shirley Temple served as ...", "Chief of Protocol"],
  ["Answer: Greenwich Village, New York City", "Greenwich Village, New York City"],
  ["Answer: St. Louis", "St. Louis"],
  ["Answer: U.S. Army", "U.S. Army"],
  ["Answer: John F. Kennedy", "John F. Kennedy"],
  ["Answer: Barack Obama, who was the 44th president", "Barack Obama"],
  ["Answer: Animorphs because it has companion books", "Animorphs"],
  ["Answer: Animorphs — a series by K. A. Applegate", "Animorphs"],
  ["Answer:\nAnimorphs", "Animorphs"],
  ["  \n\nAnimorphs\n", "Animorphs"],
  ["Final answer: 3,677 seated", "3,677 seated"],
  ["Answer: 'Chief of Protocol'", "Chief of Protocol"],
  ["Answer: “Chief of Protocol”", "Chief of Protocol"],
  ["So the answer is Arthur's Magazine.", "Arthur's Magazine"],
  ["Therefore, the answer is yes.", "yes"],
  ["The answer: Delhi", "Delhi"],
  ["Answer: `1867`", "1867"],
  ["Answer: It was 1867.", "1867"],
  ["", ""],
];

describe("extractAnswer", () => {
  it.each(cases)("%j → %j", (reply, answer) => {
    expect(extractAnswer(reply)).toBe(answer);
  });
});

describe("parseTeacherOutput", () => {
  it("splits rationale and prediction", () => {
    expect(
      parseTeacherOutput(
        "Reasoning: Shirley Temple played Corliss Archer. She was Chief of Protocol.\nPrediction: Chief of Protocol",
      ),
    ).toEqual({
      rationale: "Shirley Temple played Corliss Archer. She was Chief of Protocol.",
      prediction: "Chief of Protocol",
    });
  });
  it("accepts a rationale without the Reasoning marker", () => {
    expect(parseTeacherOutput("Both are American.\nPrediction: yes")).toEqual({
      rationale: "Both are American.",
      prediction: "yes",
    });
  });
  it("reports what is missing instead of throwing", () => {
    expect(parseTeacherOutput("")).toEqual({ error: "empty reply" });
    expect(parseTeacherOutput("Reasoning: blah")).toEqual({ error: "no `Prediction:` in the reply" });
    expect(parseTeacherOutput("Prediction: yes")).toEqual({ error: "empty rationale before `Prediction:`" });
    expect(parseTeacherOutput("Reasoning: x\nPrediction:   ")).toEqual({
      error: "empty prediction after `Prediction:`",
    });
  });
});
