import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The JSON values of a JSONL file's lines; a torn last line (a kill mid-write) is skipped. */
export function jsonLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line being written, or torn by a kill: the command that owns the file drops it too.
    }
  }
  return out;
}

/** Lines of a file (0 when absent). */
export function lineCount(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim()).length;
}

/** The sum of the rows' `costUsd`. */
export const costOf = (path: string) =>
  jsonLines(path).reduce((s, r) => s + (typeof r.costUsd === "number" ? r.costUsd : 0), 0);

/** A stage's settings as the `--config` file of the command that runs it, in its folder. */
export function optionsFile(dir: string, name: string, value: unknown): string {
  const path = join(dir, `reproduce-${name}.json`);
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

/** Empties a stage folder to redo it, keeping `keep` (a checkpoint the user put there). */
export function clearFolder(dir: string, keep: readonly string[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir))
    if (!keep.includes(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
}
