import { errorMessage, fixFor, isFatalError, LmcotError } from "@lmcot/core";
import { Command, CommanderError } from "commander";
import pkg from "../package.json";
import { commands } from "./commands/index";
import { EXIT_CODES_HELP, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, isUsageError } from "./exit-codes";
import { wasInterrupted } from "./interrupt";
import { setQuiet } from "./log";
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

/** The sub-command `argv` names (`lmcot help eval` names eval), if any: the first word that is not a flag. */
function commandIn(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/**
 * Builds the `lmcot` program. Given the `argv` it will parse, only the sub-command `argv` names is
 * loaded with its options and action; the others are listed by name and summary, enough for
 * `lmcot --help` and "did you mean". Without `argv`, every sub-command is loaded.
 */
export async function createProgram(argv?: readonly string[]): Promise<Command> {
  const program: Command = new Command("lmcot")
    .description("LM-guided chain-of-thought: a small LM writes the rationale, a frozen large LM answers.")
    .version(pkg.version, "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    .option("-q, --quiet", "no progress or notes on stderr; results, warnings and errors are still shown")
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .addHelpText("after", EXIT_CODES_HELP)
    .hook("preAction", (root) => setQuiet(root.opts().quiet === true))
    .exitOverride();
  const wanted = argv && commandIn(argv);
  for (const entry of commands) {
    if (!argv || entry.name === wanted) (await entry.load())(program);
    else program.command(entry.name).description(entry.summary);
  }
  return program;
}

/** Runs the CLI on `argv` and returns the process exit code; never throws. */
export async function run(argv: string[] = process.argv): Promise<number> {
  // Node exits (code 0) when nothing is left to wait on, even with the command unfinished: say so, and fail.
  const stranded = () => {
    process.stderr.write(
      `lmcot: internal error: \`lmcot ${commandIn(argv) ?? ""}\` stopped with its work unfinished (it waited on something that can never end); what it wrote so far is kept — report this, and run the same command again to resume\n`,
    );
    process.exitCode = EXIT_FAILURE;
  };
  process.once("beforeExit", stranded);
  try {
    const program = await createProgram(argv);
    await program.parseAsync(argv);
    if (wasInterrupted()) return EXIT_INTERRUPTED;
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
      if (error.code === "commander.help") return 0;
      return EXIT_USAGE;
    }
    // Imported here: redaction needs the provider list, which a run that succeeds never loads.
    const { redacted } = await import("./failures");
    process.stderr.write(`lmcot: ${redacted(errorMessage(error))}\n`);
    if (wasInterrupted()) return EXIT_INTERRUPTED;
    if (isUsageError(error)) return EXIT_USAGE;
    if (LmcotError.isInstance(error) && (error.provider !== undefined || isFatalError(error)))
      process.stderr.write(`  → ${fixFor(error.code)}\n`);
    if (process.env.LMCOT_DEBUG) process.stderr.write(`${redacted(stacks(error))}\n`);
    return EXIT_FAILURE;
  } finally {
    process.off("beforeExit", stranded);
  }
}
