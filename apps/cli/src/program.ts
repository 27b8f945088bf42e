import { errorMessage } from "@lmcot/core";
import { Command, CommanderError } from "commander";
import pkg from "../package.json";
import { commands } from "./commands/index";
import { UsageError } from "./usage-error";

export { UsageError };

/** Exit codes: 0 ok, 1 the work failed, 2 the command line was wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

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
    process.stderr.write(`lmcot: ${errorMessage(error)}\n`);
    if (process.env.LMCOT_DEBUG && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}
