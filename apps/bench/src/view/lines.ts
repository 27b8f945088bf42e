import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { readLines, validate } from "@lmcot/datasets";
import type { ContextRecord } from "../contexts";
import { contextKey } from "../contexts";
import { KeyIndex } from "../key-index";
import { contextRecordSchema, rewardLineSchema } from "../record-schema";
import { keyAt, type LineAt, parseLine, readLinesAt } from "../run-scan";
import type { RewardSummary } from "./data";

/** The `lmcot rewards score --out` rows beside a run: where each sits, and its R_aspect (for the flags). */
export interface RewardLines {
  files: string[];
  at: (LineAt & { file: number })[];
  /** R_aspect per row (null or absent: undefined). */
  aspectReward: (number | null | undefined)[];
  /** A bench record's key → its row (the last line of the key), -1 for none. */
  find(key: string): number;
  rows: number;
}

/** Streams `rewards*.jsonl` (`.errors.jsonl` aside), validating every line, into `RewardLines`. */
export async function indexRewards(runDir: string): Promise<RewardLines> {
  const files = readdirSync(runDir)
    .filter((f) => /^rewards.*\.jsonl$/.test(f) && !f.endsWith(".errors.jsonl"))
    .map((f) => join(runDir, f));
  const at: RewardLines["at"] = [];
  const keys = new KeyIndex((row) => keyAt(files[at[row]!.file]!, at[row]!.offset, at[row]!.length));
  const out: RewardLines = { files, at, aspectReward: [], find: (key) => keys.find(key), rows: 0 };
  for (const [file, path] of files.entries()) {
    let start = 0;
    for await (const { text, line, end, terminated } of readLines(path)) {
      const offset = start;
      start = end;
      if (text.trim() === "" || !terminated) continue;
      const r = parseLine(text, rewardLineSchema, basename(path), line);
      at.push({ file, offset, length: end - offset, line });
      if (!keys.add(r.key)) at[keys.find(r.key)] = at.pop()!;
      const row = keys.find(r.key);
      out.aspectReward[row] = r.aspectReward;
    }
  }
  out.rows = out.at.length;
  return out;
}

/** A reward row read back from its file, as the item page shows it; undefined for -1. */
export function readReward(rewards: RewardLines, row: number): RewardSummary | undefined {
  const at = rewards.at[row];
  if (row < 0 || !at) return undefined;
  const [r] = readLinesAt(rewards.files[at.file]!, [at], rewardLineSchema);
  return {
    reward: r!.reward,
    ...(r!.taskReward !== undefined ? { taskReward: r!.taskReward } : {}),
    ...(r!.aspectReward !== undefined ? { aspectReward: r!.aspectReward } : {}),
    ...(r!.aspects ? { aspects: r!.aspects } : {}),
  };
}

/** Where each example's context sits in contexts.jsonl, by `contextKey` (the last line of a key counting). */
export interface ContextLines {
  path: string;
  at: Map<string, LineAt>;
}

/**
 * Streams contexts.jsonl (absent in older runs), validating every line; a torn last line is ignored
 * (the next run that needs the example writes it again).
 */
export async function indexContexts(runDir: string): Promise<ContextLines> {
  const path = join(runDir, "contexts.jsonl");
  const out: ContextLines = { path, at: new Map() };
  if (!existsSync(path)) return out;
  let start = 0;
  for await (const { text, line, end, terminated } of readLines(path)) {
    const offset = start;
    start = end;
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (!terminated) continue;
      throw new DataValidationError("is not valid JSON", { file: "contexts.jsonl", line });
    }
    const c = validate(contextRecordSchema, value, { file: "contexts.jsonl", line });
    out.at.set(contextKey(c.dataset, c.exampleId), { offset, length: end - offset, line });
  }
  return out;
}

/** An example's context read back from contexts.jsonl, or undefined when the run has none for it. */
export function readContext(contexts: ContextLines, key: string): ContextRecord | undefined {
  const at = contexts.at.get(key);
  return at ? readLinesAt(contexts.path, [at], contextRecordSchema)[0] : undefined;
}
