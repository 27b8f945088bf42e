import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CONTEXT_MARK } from "../src/contexts";
import { type BenchRecord, type Cell, cellId } from "../src/grid";

const LARGE = "openai:gpt-4o-mini";
const CELLS: Omit<Cell, "id">[] = ["hotpotqa", "2wikimultihopqa"].flatMap((dataset) => [
  { method: "standard" as const, dataset, large: LARGE, seed: 0 },
  { method: "cot" as const, dataset, large: LARGE, seed: 0 },
  ...["kd", "kd+rl"].map((label) => ({
    method: "lm-guided" as const,
    dataset,
    large: LARGE,
    small: { id: `transformers:./models/${label}`, label },
    seed: 0,
  })),
]);
const TYPES: Record<string, (string | undefined)[]> = {
  hotpotqa: ["bridge", "comparison", undefined],
  "2wikimultihopqa": ["compositional", "inference", "comparison", "bridge_comparison"],
};
const ASPECTS = ["factuality", "relevance", "logicality", "consistency"];

/** A deterministic pseudo-random stream (an LCG): the fixture is the same on every machine. */
function stream(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A run directory that exercises every part of the report: two datasets × four cells (KD and KD+RL),
 * varied scores, costs, tokens, reasoning and cache hits, a duplicated line, a second prompt version
 * of one item, a torn last line, failures (one stale), a planned cell with nothing finished, and
 * reward rows for the LM-guided items. `n`: questions per dataset (the second gets a third of them).
 */
export function writeReportFixture(dir: string, n = 150): void {
  mkdirSync(dir, { recursive: true });
  const random = stream(29);
  const lines: string[] = [];
  const rewards: string[] = [];
  const counts = new Map<string, number>();
  for (const cell of CELLS) {
    const id = cellId(cell);
    const size = cell.dataset === "hotpotqa" ? n : Math.ceil(n / 3);
    counts.set(id, size);
    for (let i = 0; i < size; i++) {
      const exampleId = `${cell.dataset.slice(0, 3)}-${i}`;
      const skill =
        (i % 5) / 5 + (cell.method === "lm-guided" ? 0.15 : 0) + (cell.small?.label === "kd+rl" ? 0.05 : 0);
      const right = random() < skill;
      const f1 = right ? 1 : Math.round(random() * 4) / 5;
      const guided = cell.method !== "standard";
      const words = 5 + Math.floor(random() * 40);
      const type = TYPES[cell.dataset]![i % TYPES[cell.dataset]!.length];
      const record: BenchRecord = {
        key: `${cell.method}|${cell.dataset}|${exampleId}|large=${LARGE}${cell.small ? `,small=${cell.small.id}` : ""}|v1|0`,
        cell: { id, ...cell },
        exampleId,
        ...(type ? { type } : {}),
        question: `Which entity number ${i} of ${cell.dataset} comes first?`,
        gold: [`gold ${i}`, `alias ${i}`],
        contextChars: 500 + Math.floor(random() * 6000),
        answer: right ? `gold ${i}` : `guess ${Math.floor(random() * 9)}`,
        ...(guided
          ? { rationale: Array.from({ length: words }, (_, w) => `w${w}`).join(i % 2 ? " " : "  ") }
          : {}),
        em: right ? 1 : 0,
        f1,
        costUsd: Math.round(random() * 1e6) / 1e9,
        latencyMs: 200 + random() * 3000,
        cached: random() < 0.1,
        usage: {
          inputTokens: 300 + Math.floor(random() * 1500),
          outputTokens: 5 + Math.floor(random() * 200),
          ...(cell.method === "cot" && i % 4 === 0 ? { reasoningTokens: Math.floor(random() * 50) } : {}),
          ...(cell.small ? { smallInputTokens: 400 + i, smallOutputTokens: words + 2 } : {}),
        },
        promptVersion: "v1",
        prompts: [
          {
            step: "answer",
            model: LARGE,
            prompt: `Context: ${CONTEXT_MARK}\nQ${i}?`,
            output: `Answer: gold ${i}`,
          },
        ],
      };
      lines.push(JSON.stringify(record));
      if (i === 3) lines.push(JSON.stringify({ ...record, em: 0, f1: 0 })); // a second write of the same key
      if (i === 4 && cell.method === "cot")
        lines.push(
          JSON.stringify({ ...record, key: `${record.key}|v2`, promptVersion: "v2", f1: 0.5, em: 0 }),
        );
      if (cell.small && i % 7 !== 6) {
        const score = Math.min(
          1,
          0.2 + 0.5 * record.em + 0.3 * random() + (cell.small.label === "kd+rl" ? 0.05 : 0),
        );
        const aspects = Object.fromEntries(
          ASPECTS.map((a, k) => [a, i % 11 === 0 && k === 1 ? null : Math.min(1, score + k / 20)]),
        );
        rewards.push(
          JSON.stringify({
            key: record.key,
            reward: 4 * score,
            taskReward: record.f1,
            aspectReward: 4 * score,
            aspects,
          }),
        );
      }
    }
  }
  const first = JSON.parse(lines[0]!) as BenchRecord;
  const planned = { method: "standard" as const, dataset: "hotpotqa", large: LARGE, seed: 1 };
  const plan = {
    cells: [
      ...CELLS.map((c) => ({ id: cellId(c), ...c, expected: counts.get(cellId(c))! + 2 })),
      { id: cellId(planned), ...planned, expected: 10 },
    ],
  };
  writeFileSync(join(dir, "plan.json"), `${JSON.stringify(plan, null, 2)}\n`);
  writeFileSync(join(dir, "run.jsonl"), `${lines.join("\n")}\n{"key":"torn`);
  writeFileSync(join(dir, "rewards.jsonl"), `${rewards.join("\n")}\n`);
  const failure = (key: string, cell: string, errorClass: string, status: number, message: string) =>
    JSON.stringify({ key, cell, errorClass, status, message, at: "2026-01-01T00:00:00.000Z" });
  writeFileSync(
    join(dir, "errors.jsonl"),
    [
      failure(first.key, first.cell.id, "server", 500, "stale: finished since"),
      failure("standard|hotpotqa|hot-x1|v1", first.cell.id, "rate_limit", 429, "slow down"),
      failure("standard|hotpotqa|hot-x2|v1", first.cell.id, "server", 503, "unavailable"),
      failure("cot|hotpotqa|hot-x3|v1", cellId(CELLS[1]!), "server", 500, "bad gateway"),
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "run-info.json"),
    `${JSON.stringify(
      {
        writtenAt: "2026-01-01T00:00:00.000Z",
        versions: { "@lmcot/core": "0.1.0", "@lmcot/bench": "0.1.0" },
        promptVersions: { standard: "v1", cot: "v1", "lm-guided": "v1" },
        temperature: 0,
        selfConsistency: 1,
        seeds: [0],
        context: { paragraphs: "all" },
        large: [LARGE],
        small: CELLS.filter((c) => c.small)
          .slice(0, 2)
          .map((c) => c.small),
      },
      null,
      2,
    )}\n`,
  );
}
