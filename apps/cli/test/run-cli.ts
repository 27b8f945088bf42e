import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
export const bin = join(__dirname, "..", "dist", "cli.js");

/** Runs the built `lmcot` binary; never throws, returns its exit code and output. */
export function lmcot(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return lmcotEnv({}, ...args);
}

/** `lmcot` with these environment variables changed (`undefined` removes one). */
export async function lmcotEnv(
  changes: Record<string, string | undefined>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(changes))
    if (value === undefined) delete env[name];
    else env[name] = value;
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The records of a JSONL file a run wrote (none when it was not written). */
export const jsonl = (path: string) =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
