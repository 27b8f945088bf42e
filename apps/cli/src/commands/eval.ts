import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { readAliases, readLines, readRaw, validate } from "@lmcot/datasets";
import {
  bootstrapCI,
  type OfficialGold,
  type OfficialPrediction,
  officialEval,
  pythonRound,
} from "@lmcot/metrics";
import { type Command, Option } from "commander";
import { z } from "zod";
import { UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

const goldRecord = z.object({
  _id: z.string().min(1),
  answer: z.string(),
  supporting_facts: z.array(z.tuple([z.string(), z.number().int()])).optional(),
  answer_id: z.string().nullable().optional(),
  evidences: z.array(z.tuple([z.string(), z.string(), z.string()])).optional(),
  evidences_id: z.array(z.array(z.string())).optional(),
});

const officialPrediction = z.object({
  answer: z.record(z.string(), z.string()).optional(),
  sp: z.record(z.string(), z.array(z.tuple([z.string(), z.number().int()]))).optional(),
  evidence: z.record(z.string(), z.array(z.tuple([z.string(), z.string(), z.string()]))).optional(),
});

const runLine = z.object({ exampleId: z.string().min(1), answer: z.string() });

/** Reads the gold file's scoring fields only (contexts are skipped, never decoded). */
export async function readGold(path: string): Promise<OfficialGold[]> {
  const file = basename(path);
  const out: OfficialGold[] = [];
  for await (const raw of readRaw(path, { skipKeys: ["context"] })) {
    out.push(
      isPlainHotpotGold(raw.value)
        ? raw.value
        : (validate(goldRecord, raw.value, { file, record: raw.record, line: raw.line }) as OfficialGold),
    );
  }
  return out;
}

/**
 * The common HotpotQA record, checked by hand (a third of the read time when zod parses every
 * record); anything else — 2Wiki evidences, or a bad record — goes through zod and its error message.
 */
function isPlainHotpotGold(value: unknown): value is OfficialGold {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  if (typeof r._id !== "string" || r._id === "" || typeof r.answer !== "string") return false;
  if (r.answer_id !== undefined || r.evidences !== undefined || r.evidences_id !== undefined) return false;
  const facts = r.supporting_facts;
  return (
    facts === undefined ||
    (Array.isArray(facts) &&
      facts.every(
        (f) => Array.isArray(f) && f.length === 2 && typeof f[0] === "string" && Number.isInteger(f[1]),
      ))
  );
}

/** Reads predictions: the official `{answer, sp}` JSON, or an lmcot run JSONL (`exampleId`, `answer`). */
export async function readPredictions(path: string): Promise<OfficialPrediction> {
  const file = basename(path);
  const text = readFileSync(path, "utf8");
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{")) {
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === "object" && value !== null && ("answer" in value || "sp" in value)) {
        return validate(officialPrediction, value, { file }) as OfficialPrediction;
      }
    } catch {
      // not one JSON object: read it as JSONL below
    }
  }
  const answer: Record<string, string> = {};
  for await (const { text: line, line: n, terminated } of readLines(path)) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (!terminated) continue; // a torn last line of a run still being written
      throw new DataValidationError("is not valid JSON", { file, line: n });
    }
    const r = validate(runLine, value, { file, line: n });
    answer[r.exampleId] = r.answer;
  }
  return { answer };
}

export interface EvalReport {
  dataset: "hotpotqa" | "2wikimultihopqa";
  n: number;
  missing: number;
  /** Fractions in [0, 1], as `hotpot_evaluate_v1.py` prints them. */
  metrics: Record<string, number>;
  ci95: { em: [number, number]; f1: [number, number] };
  /** 2WikiMultiHopQA only: what its script prints (percentages rounded to 2 decimals). */
  scriptPrinted?: Record<string, number>;
}

/** Scores a prediction file against a gold file exactly as the official script does, with CIs. */
export async function evaluateFiles(options: {
  dataset: "hotpotqa" | "2wikimultihopqa";
  gold: string;
  pred: string;
  aliases?: string;
  seed?: number;
  /** Bootstrap 95% CIs of EM and F1 (default true; the official script has none). */
  ci?: boolean;
}): Promise<EvalReport> {
  const [gold, prediction, aliases] = await Promise.all([
    readGold(options.gold),
    readPredictions(options.pred),
    options.aliases ? readAliases(options.aliases) : Promise.resolve(new Map<string, string[]>()),
  ]);
  const result = officialEval(options.dataset, gold, prediction, aliases);
  const em = result.items.map((i) => i.em);
  const f1 = result.items.map((i) => i.f1);
  const seed = options.seed ?? 0;
  const none = { low: Number.NaN, high: Number.NaN };
  const emCI = options.ci === false ? none : bootstrapCI(em, { seed });
  const f1CI = options.ci === false ? none : bootstrapCI(f1, { seed });
  const metrics = result.metrics as unknown as Record<string, number>;
  return {
    dataset: options.dataset,
    n: result.n,
    missing: result.missing.filter((m) => m.startsWith("missing answer")).length,
    metrics,
    ci95: { em: [emCI.low, emCI.high], f1: [f1CI.low, f1CI.high] },
    ...(options.dataset === "2wikimultihopqa"
      ? {
          scriptPrinted: Object.fromEntries(
            Object.entries(metrics).map(([k, v]) => [k, pythonRound(v * 100, 2)]),
          ),
        }
      : {}),
  };
}

function table(report: EvalReport): string {
  const fmt = (x: number) => x.toFixed(4);
  const rows = Object.entries(report.metrics).map(([k, v]) => {
    const ci = k === "em" || k === "f1" ? `[${fmt(report.ci95[k][0])}, ${fmt(report.ci95[k][1])}]` : "";
    return `${k.padEnd(13)} ${fmt(v)}  ${ci}`;
  });
  return [
    `${report.dataset}: ${report.n} gold records, ${report.missing} without a predicted answer (scored 0)`,
    `${"metric".padEnd(13)} ${"value".padEnd(6)}  95% bootstrap CI`,
    ...rows,
    "values are fractions in [0, 1], computed as the official script does",
  ].join("\n");
}

export const registerEval: RegisterCommand = (program: Command) => {
  program
    .command("eval")
    .description("score predictions with the official HotpotQA / 2WikiMultiHopQA metrics (and 95% CIs)")
    .addOption(
      new Option("--dataset <name>", "which official script to follow")
        .choices(["hotpotqa", "2wikimultihopqa"])
        .makeOptionMandatory(),
    )
    .requiredOption("--gold <file>", "the gold file (official JSON array or JSONL)")
    .requiredOption(
      "--pred <file>",
      'predictions: official {"answer": {...}, "sp": {...}} JSON, or an lmcot run JSONL',
    )
    .option("--aliases <file>", "2WikiMultiHopQA id_aliases.json (answer and evidence aliases)")
    .option("--seed <n>", "bootstrap seed", "0")
    .option("--json", "print JSON")
    .action(
      async (opts: {
        dataset: "hotpotqa" | "2wikimultihopqa";
        gold: string;
        pred: string;
        aliases?: string;
        seed: string;
        json?: boolean;
      }) => {
        for (const [flag, path] of [
          ["--gold", opts.gold],
          ["--pred", opts.pred],
          ["--aliases", opts.aliases],
        ] as const) {
          if (path !== undefined && !existsSync(path)) throw new UsageError(`${flag}: no such file: ${path}`);
        }
        const report = await evaluateFiles({ ...opts, seed: Number(opts.seed) });
        process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : table(report)}\n`);
      },
    );
};
