/**
 * A synthetic run directory at the paper's full-dev scale, in the run files' current formats
 * (run.jsonl, contexts.jsonl, rewards.jsonl, errors.jsonl, plan.json, run-info.json, config.json):
 * `n` questions split between HotpotQA and 2WikiMultiHopQA as their dev sets are (7,405 : 12,576),
 * each in the 18 cells of its dataset, with the dev sets' context lengths (mean ± sd, in characters).
 *
 *   node --import tsx bench/synthetic-run.ts <dir> [--questions 20000]
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { runKey } from "@lmcot/core";
import { parseConfig } from "../src/config";
import { CONTEXT_MARK, type ContextRecord } from "../src/contexts";
import { type BenchRecord, type Cell, cellId } from "../src/grid";
import { writeRunInfo } from "../src/run-info";

const LARGE = ["openai:gpt-4o-mini", "anthropic:claude-3-5-haiku-latest"];
const SMALL = [
  { id: "transformers:./models/flan-t5-large-kd", label: "kd" },
  { id: "transformers:./models/flan-t5-large-kd-rl", label: "kd+rl" },
];
const SEEDS = [0, 1, 2];
/** Share of questions, mean and sd of context characters, question types. */
const DATASETS = [
  { name: "hotpotqa", share: 7405 / 19981, chars: [5600, 1500], types: ["bridge", "comparison"] },
  {
    name: "2wikimultihopqa",
    share: 12576 / 19981,
    chars: [3900, 1300],
    types: ["compositional", "comparison", "inference", "bridge_comparison"],
  },
] as const;
const SC_SAMPLES = 5;
/** The paper's eight aspects (@lmcot/rewards' ASPECTS; the bench does not depend on it). */
const ASPECTS = "factuality relevance logicality consistency coherence fluency naturalness readability".split(
  " ",
);

/**
 * The 18 cells of a dataset: three seeds × the first large LM with standard, CoT, LM-guided KD and
 * KD+RL (self-consistency), and the second with standard and CoT.
 */
export function syntheticCells(dataset: string): Cell[] {
  const out: Cell[] = [];
  for (const seed of SEEDS)
    for (const [l, large] of LARGE.entries()) {
      const cells: Omit<Cell, "id">[] = [
        { method: "standard", dataset, large, seed },
        { method: "cot", dataset, large, seed },
        ...(l === 0
          ? SMALL.map((small) => ({ method: "lm-guided" as const, dataset, large, small, seed }))
          : []),
      ];
      for (const c of cells) out.push({ id: cellId(c), ...c });
    }
  return out;
}

/** A deterministic stream in [0, 1) (an LCG). */
function stream(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const WORDS =
  "the river city author born film director album band founded county village station school league team player novel series company river mountain island".split(
    " ",
  );

/** Writes lines through one buffer, flushed every ~1 MB (the files run to hundreds of MB). */
function lineWriter(path: string) {
  const fd = openSync(path, "w");
  let parts: string[] = [];
  let size = 0;
  const flush = () => {
    if (parts.length) writeSync(fd, parts.join(""));
    parts = [];
    size = 0;
  };
  return {
    add(line: string) {
      parts.push(line, "\n");
      size += line.length + 1;
      if (size > 1 << 20) flush();
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}

export interface SyntheticRun {
  dir: string;
  questions: number;
  records: number;
}

export function writeSyntheticRun(dir: string, questions: number): SyntheticRun {
  mkdirSync(dir, { recursive: true });
  const random = stream(2404);
  const text = (words: number) =>
    Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
  const normal = (mean: number, sd: number) =>
    mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const run = lineWriter(join(dir, "run.jsonl"));
  const contexts = lineWriter(join(dir, "contexts.jsonl"));
  const rewards = lineWriter(join(dir, "rewards.jsonl"));
  let records = 0;
  const plan: (Cell & { expected: number })[] = [];
  for (const ds of DATASETS) {
    const n = Math.round(questions * ds.share);
    const cells = syntheticCells(ds.name);
    for (const c of cells) plan.push({ ...c, expected: n });
    for (let i = 0; i < n; i++) {
      const exampleId = `${ds.name.slice(0, 3)}-${i.toString(16).padStart(24, "0")}`;
      const chars = Math.max(400, Math.round(normal(ds.chars[0], ds.chars[1])));
      const paragraphs = Array.from({ length: 10 }, (_, p) => ({
        title: `${text(2)} ${p}`,
        sentences: Array.from({ length: 4 }, () => `${text(Math.max(3, Math.round(chars / 10 / 4 / 6)))}.`),
      }));
      const context: ContextRecord = {
        dataset: ds.name,
        exampleId,
        text: paragraphs.map((p) => `${p.title}: ${p.sentences.join(" ")}`).join("\n"),
        paragraphs,
        supportingFacts: [
          { title: paragraphs[0]!.title, sentence: 0 },
          { title: paragraphs[3]!.title, sentence: 1 },
        ],
      };
      contexts.add(JSON.stringify(context));
      const question = `Which ${text(12)} number ${i}?`;
      const gold = `${text(2)} ${i % 997}`;
      const type = ds.types[i % ds.types.length]!;
      const difficulty = random();
      for (const cell of cells) {
        const skill = { standard: 0.35, cot: 0.42, "lm-guided": cell.small?.label === "kd+rl" ? 0.5 : 0.46 }[
          cell.method
        ];
        const right = random() < skill + 0.3 * (0.5 - difficulty);
        const f1 = right ? 1 : Math.round(random() * 3) / 4;
        const answer = right ? gold : text(2);
        const rationale = cell.method === "standard" ? undefined : text(35 + Math.floor(random() * 40));
        const answerPrompt = `Answer the question from the context.\n\nContext: ${CONTEXT_MARK}\n\nQuestion: ${question}${rationale ? `\nRationale: ${rationale}` : ""}\nAnswer:`;
        const prompts: NonNullable<BenchRecord["prompts"]> = [
          ...(cell.small
            ? [
                {
                  step: "rationale" as const,
                  model: cell.small.id,
                  prompt: `Write a rationale.\n\nContext: ${CONTEXT_MARK}\n\nQuestion: ${question}\nRationale:`,
                  output: rationale!,
                },
              ]
            : []),
          {
            step: cell.method === "cot" ? ("cot" as const) : ("answer" as const),
            model: cell.large,
            prompt: answerPrompt,
            output: cell.method === "cot" ? `${rationale} So the answer is: ${answer}` : answer,
            usage: { inputTokens: Math.round(chars / 4) + 60, outputTokens: rationale ? 80 : 6 },
          },
        ];
        const key = runKey({
          method: cell.method,
          dataset: ds.name,
          exampleId,
          models: { large: cell.large, small: cell.small?.id },
          promptVersion: "v3",
          seed: cell.seed,
        });
        const record: BenchRecord = {
          key,
          cell,
          exampleId,
          type,
          question,
          gold: [gold],
          contextChars: chars,
          answer,
          ...(rationale ? { rationale } : {}),
          em: right ? 1 : 0,
          f1,
          costUsd: (Math.round(chars / 4) * 0.15 + 40 * 0.6) / 1e6,
          latencyMs: 300 + random() * 1500,
          cached: random() < 0.02,
          usage: {
            inputTokens: Math.round(chars / 4) + 60,
            outputTokens: rationale ? 80 : 6,
            ...(cell.small ? { smallInputTokens: Math.round(chars / 4) + 40, smallOutputTokens: 70 } : {}),
          },
          promptVersion: "v3",
          prompts,
          ...(cell.small?.label === "kd+rl"
            ? {
                samples: Array.from({ length: SC_SAMPLES }, () => ({
                  rationale: text(35 + Math.floor(random() * 20)),
                  answer: random() < 0.6 ? answer : text(2),
                })),
              }
            : {}),
        };
        run.add(JSON.stringify(record));
        records++;
        if (cell.small) {
          const score = Math.min(1, 0.3 + 0.4 * record.em + 0.3 * random());
          const aspects = Object.fromEntries(
            ASPECTS.map((a) => [a, Math.round(100 * Math.min(1, score + random() / 10)) / 100]),
          );
          const aspectReward = Object.values(aspects).reduce((s, x) => s + x, 0);
          rewards.add(
            JSON.stringify({ key, reward: aspectReward + f1, taskReward: f1, aspectReward, aspects }),
          );
        }
      }
    }
  }
  run.close();
  contexts.close();
  rewards.close();
  const failed = plan[0]!;
  writeFileSync(
    join(dir, "errors.jsonl"),
    `${JSON.stringify({ key: "standard|hotpotqa|failed-0|large=openai:gpt-4o-mini|v3|0", cell: failed.id, errorClass: "rate_limit", status: 429, message: "Rate limit reached", at: "2026-01-01T00:00:00.000Z" })}\n`,
  );
  writeFileSync(join(dir, "plan.json"), `${JSON.stringify({ cells: plan }, null, 2)}\n`);
  // config.json and run-info.json as `runBench` writes them, from the grid's config.
  const config = parseConfig({
    datasets: DATASETS.map((d) => ({ name: d.name, sample: Math.round(questions * d.share) })),
    methods: ["standard", "cot", "lm-guided"],
    large: LARGE,
    small: SMALL,
    seeds: SEEDS,
    selfConsistency: SC_SAMPLES,
    out: dir,
  });
  writeFileSync(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  writeRunInfo(dir, config);
  return { dir, questions, records };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: synthetic-run.ts <dir> [--questions 20000]\n");
    process.exit(2);
  }
  const i = process.argv.indexOf("--questions");
  const made = writeSyntheticRun(dir, i >= 0 ? Number(process.argv[i + 1]) : 20_000);
  process.stdout.write(`${made.dir}: ${made.questions} questions, ${made.records} records\n`);
}
