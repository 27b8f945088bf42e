import { errorMessage, fixFor, isFatalError, LmcotError } from "@lmcot/core";
import { Command, CommanderError } from "commander";
import pkg from "../package.json";
import { commands } from "./commands/index";
import { EXIT_FAILURE, EXIT_USAGE, redacted } from "./failures";
import { UsageError } from "./usage-error";

export { EXIT_FAILURE, EXIT_USAGE, UsageError };

/** The stack of an error and of each cause under it (SDK errors nest the request in theirs). */
function stacks(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    parts.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join("\ncaused by: ");
}

/** Builds the `lmcot` program with every registered sub-command. */
export function createProgram(): Command {
  const program = new Command("lmcot")
    .description("LM-guided chain-of-thought: a small LM writes the rationale, a frozen large LM answers.")
    .version(pkg.version, "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI on `argv` and returns the process exit code; never throws. */
export async function run(argv: string[] = process.argv): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
      if (error.code === "commander.help") return 0;
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`lmcot: ${error.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`lmcot: ${redacted(errorMessage(error))}\n`);
    // Another process writes the run directory: like a usage error, nothing was done.
    if (LmcotError.isInstance(error) && error.code === "run_locked") return EXIT_USAGE;
    if (LmcotError.isInstance(error) && (error.provider !== undefined || isFatalError(error)))
      process.stderr.write(`  → ${fixFor(error.code)}\n`);
    if (process.env.LMCOT_DEBUG) process.stderr.write(`${redacted(stacks(error))}\n`);
    return EXIT_FAILURE;
  }
}
