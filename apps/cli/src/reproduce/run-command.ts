import { isQuiet, note } from "../log";

export interface CommandRun {
  code: number;
  /** What the command printed as its result (reproduce prints its own; this goes to stderr as a note). */
  stdout: string;
}

/**
 * Runs another `lmcot` command in this process (its module's own parsing, checks and resume logic;
 * no child process). Its result text goes to stderr as a note, so reproduce's stdout is its own
 * summary; the exit code it set is returned and the process's is left as it was.
 */
export async function lmcotCommand(
  args: string[],
  options: { quietResult?: boolean } = {},
): Promise<CommandRun> {
  const { run } = await import("../program");
  const saved = process.exitCode;
  process.exitCode = undefined;
  let stdout = "";
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    stdout += text;
    if (!options.quietResult) note(text);
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await run(["node", "lmcot", ...(isQuiet() ? ["--quiet"] : []), ...args]);
    return { code, stdout };
  } finally {
    process.stdout.write = write;
    process.exitCode = saved;
  }
}
