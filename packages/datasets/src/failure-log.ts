import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";
import type { FailureRecord } from "@lmcot/core";
import { z } from "zod";
import { readValidatedJsonl } from "./validated-jsonl";

const failureSchema = z.looseObject({
  key: z.string(),
  cell: z.string().optional(),
  errorClass: z.string(),
  status: z.number().optional(),
  provider: z.string().optional(),
  message: z.string(),
  attempts: z.number().optional(),
  elapsedMs: z.number().optional(),
  at: z.string(),
});

/**
 * Every failure record of an `errors.jsonl` (a missing file has none). A torn last line (a kill in
 * the middle of an append) is ignored; a bad line elsewhere is an error naming it.
 */
export async function readFailures(path: string): Promise<FailureRecord[]> {
  const out: FailureRecord[] = [];
  for await (const { value } of readValidatedJsonl(path, failureSchema)) out.push(value as FailureRecord);
  return out;
}

/**
 * The failures that still stand: the latest record of each key that has not succeeded since
 * (`done(key)` false), in the order they were written.
 */
export function openFailures(
  failures: readonly FailureRecord[],
  done: (key: string) => boolean,
): FailureRecord[] {
  const latest = new Map<string, FailureRecord>();
  for (const f of failures) {
    if (done(f.key)) continue;
    latest.delete(f.key);
    latest.set(f.key, f);
  }
  return [...latest.values()];
}

/** An append-only `errors.jsonl`: one failure record a line, each written with one `write`. */
export interface FailureLog {
  readonly path: string;
  append(failure: FailureRecord): Promise<void>;
  close(): Promise<void>;
}

/**
 * Rewrites an `errors.jsonl` (atomically, by rename) with the latest record of each key that `keep`
 * accepts, e.g. keys still in the grid that have not succeeded since; a torn last line goes too.
 */
export async function pruneFailures(path: string, keep: (failure: FailureRecord) => boolean): Promise<void> {
  if (!existsSync(path)) return;
  const kept = openFailures((await readFailures(path)).filter(keep), () => false);
  writeFileSync(`${path}.tmp`, kept.map((f) => `${JSON.stringify(f)}\n`).join(""));
  renameSync(`${path}.tmp`, path);
}

/**
 * Opens a run's `errors.jsonl` for appending. It is pruned to what `keep` accepts (default: every
 * record) when opened and again when closed, so between runs the file says what is failing now
 * (e.g. keys still in the grid that have not succeeded since) rather than what failed once.
 */
export async function openFailureLog(
  path: string,
  options: { keep?: (failure: FailureRecord) => boolean } = {},
): Promise<FailureLog> {
  mkdirSync(dirname(path), { recursive: true });
  const keep = options.keep ?? (() => true);
  await pruneFailures(path, keep);
  const handle: FileHandle = await open(path, "a");
  let queue: Promise<void> = Promise.resolve();
  return {
    path,
    append(failure) {
      const write = queue.then(async () => {
        await handle.write(`${JSON.stringify(failure)}\n`);
      });
      queue = write.catch(() => undefined);
      return write;
    },
    async close() {
      await queue;
      await handle.close();
      await pruneFailures(path, keep);
    },
  };
}
