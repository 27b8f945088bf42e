import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fnv1a } from "@lmcot/core";
import { z } from "zod";

/** Written when a stage completes: what went in (by hash), what came out, what it took. */
const manifestSchema = z.object({
  stage: z.string(),
  inputHash: z.string(),
  completedAt: z.string(),
  seconds: z.number(),
  costUsd: z.number(),
  /** Paths later stages read (the small LM's model folder, the grid's run directories). */
  outputs: z.record(z.string(), z.string()),
});

export type StageManifest = z.output<typeof manifestSchema>;

export const MANIFEST = "reproduce-stage.json";
/** Written when a stage starts: a folder holding another input hash is from another config and is cleared. */
export const STARTED = "reproduce-started.json";

/** The hash of a stage's inputs: its settings and the input hashes of the stages it reads. */
export const inputHash = (value: unknown) => fnv1a(JSON.stringify(value));

function readJson<T>(path: string, schema: z.ZodType<T>): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Unreadable: as if absent, so the stage runs again (its command resumes what it can).
    return undefined;
  }
}

/** Written to a temporary file and renamed over the old one, so a kill leaves the old file or the new one. */
export function writeAtomically(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

export const readManifest = (dir: string) => readJson(join(dir, MANIFEST), manifestSchema);
export const writeManifest = (dir: string, m: StageManifest) => writeAtomically(join(dir, MANIFEST), m);
export const readStarted = (dir: string) =>
  readJson(join(dir, STARTED), z.object({ inputHash: z.string() }))?.inputHash;
export const writeStarted = (dir: string, hash: string) =>
  writeAtomically(join(dir, STARTED), { inputHash: hash, startedAt: new Date().toISOString() });
