import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CONTEXT_MARK } from "../src/contexts";
import type { BenchRecord, Cell } from "../src/grid";

const CELLS: Omit<Cell, "id">[] = [
  { method: "standard", dataset: "hotpotqa", large: "extractive:reader", seed: 0 },
  { method: "cot", dataset: "hotpotqa", large: "extractive:reader", seed: 0 },
  ...["kd", "kd+rl", "kd-2", "kd+rl-2"].map((label) => ({
    method: "lm-guided" as const,
    dataset: "hotpotqa",
    large: "extractive:reader",
    small: { id: `extractive:${label}`, label },
    seed: 0,
  })),
];

/** A run directory of `n` made-up questions × 6 cells (deterministic), to time the viewer at scale. */
export function writeGeneratedRun(dir: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  const contexts: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `gen-${i}`;
    const gold = `answer ${i % 97}`;
    const sentences = [`Entity ${i} was founded in ${1800 + (i % 200)}.`, `It is near place ${i % 31}.`];
    contexts.push(
      JSON.stringify({
        dataset: "hotpotqa",
        exampleId: id,
        text: sentences.join(" "),
        paragraphs: [{ title: `Entity ${i}`, sentences }],
        supportingFacts: [{ title: `Entity ${i}`, sentence: 0 }],
      }),
    );
    CELLS.forEach((c, j) => {
      const right = (i * 7 + j * 3) % 5 < 2;
      const record: BenchRecord = {
        key: `${c.method}|${c.small?.label ?? ""}|${id}`,
        cell: {
          id: [c.method, c.small?.label, c.dataset, c.large, "seed0"].filter(Boolean).join(" · "),
          ...c,
        },
        exampleId: id,
        type: i % 3 ? "bridge" : "comparison",
        question: `Which place is entity number ${i} near, and when was it founded?`,
        gold: [gold],
        contextChars: 40 + (i % 1000),
        answer: right ? gold : `guess ${j}`,
        ...(c.method === "standard" ? {} : { rationale: `Entity ${i} is near place ${i % 31}.` }),
        ...(c.small && i === 0
          ? { samples: [1, 2, 3].map((k) => ({ rationale: `sample ${k}`, answer: `answer ${k}` })) }
          : {}),
        em: right ? 1 : 0,
        f1: right ? 1 : (i % 3) / 4,
        costUsd: 0,
        latencyMs: 1,
        cached: false,
        usage: { inputTokens: 120, outputTokens: 8 },
        promptVersion: "gen",
        prompts: [
          {
            step: "answer",
            model: c.large,
            prompt: `Context: ${CONTEXT_MARK}\nQ?`,
            output: `Answer: ${gold}`,
          },
        ],
      };
      lines.push(JSON.stringify(record));
    });
  }
  writeFileSync(join(dir, "run.jsonl"), `${lines.join("\n")}\n`);
  writeFileSync(join(dir, "contexts.jsonl"), `${contexts.join("\n")}\n`);
  appendFileSync(join(dir, "errors.jsonl"), "");
}
