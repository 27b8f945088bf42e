import { defaultResolver } from "@lmcot/bench";
import { type Example, failureRecord, isFatalError, type MethodName, methods } from "@lmcot/core";
import { loadSample } from "@lmcot/datasets";
import { apiKeysInEnv } from "@lmcot/llm";
import { type Command, Option } from "commander";
import { type ContextFormat, customExample } from "../ask/context";
import { describeOne, type MethodResult, sideBySide, withFlags } from "../ask/print";
import { type CallFlags, callOptions, callPolicyFrom } from "../call-flags";
import { UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

async function exampleFrom(opts: AskFlags): Promise<Example> {
  if (opts.example) {
    const [dataset, id] = opts.example.split(":");
    if ((dataset !== "hotpotqa" && dataset !== "2wikimultihopqa") || !id) {
      throw new UsageError(
        `--example must look like hotpotqa:<id> or 2wikimultihopqa:<id>, got "${opts.example}"`,
      );
    }
    const found = (await loadSample(dataset)).find((e) => e.id === id);
    if (!found) throw new UsageError(`no ${dataset} example "${id}" in the bundled sample`);
    return found;
  }
  return customExample(opts.question, opts.context, opts.contextFormat, warn);
}

interface AskFlags extends CallFlags {
  small: string;
  large: string;
  question?: string;
  context?: string;
  contextFormat: ContextFormat;
  example?: string;
  method: MethodName | "all";
  json?: boolean;
}

const warn = (message: string) => process.stderr.write(`lmcot: warning: ${message}\n`);

const ALL: MethodName[] = ["standard", "cot", "lm-guided"];

export const registerAsk: RegisterCommand = (program: Command) => {
  callOptions(program.command("ask"))
    .description("answer one question with standard prompting, CoT prompting or LM-guided CoT")
    .option("--small <id>", "small (rationale) LM id", "extractive:selector")
    .option("--large <id>", "large LM id", "extractive:reader")
    .option("--question <text>", "the question")
    .option(
      "--context <file>",
      "context: JSON paragraphs [{title, sentences}] / [[title, [sentences]]] or an example with a context (its question and answer used when not given)",
    )
    .addOption(
      new Option("--context-format <format>", "how to read --context")
        .choices(["json", "text"])
        .default("json"),
    )
    .option("--example <dataset:id>", "a bundled example instead, e.g. hotpotqa:5a8b57f25542995d1e6f1371")
    .addOption(
      new Option("--method <name>", "which method; all runs the three and prints them side by side")
        .choices([...ALL, "all"])
        .default("lm-guided"),
    )
    .option("--json", "print the whole prediction as JSON (--method all: an array of the three)")
    .action(async (opts: AskFlags) => {
      const example = await exampleFrom(opts);
      const resolver = defaultResolver({ limits: callPolicyFrom(opts) });
      const large = await resolver.large(opts.large);
      const chosen = opts.method === "all" ? ALL : [opts.method];
      const models = chosen.includes("lm-guided")
        ? { large, small: await resolver.small(opts.small) }
        : { large };
      try {
        const results: MethodResult[] = [];
        for (const method of chosen) {
          try {
            results.push({ method, prediction: await methods[method](example, models) });
          } catch (error) {
            results.push({ method, error: error as Error });
            if (isFatalError(error)) break;
          }
        }
        for (const r of results)
          if ("prediction" in r && r.prediction.answer.trim() === "")
            warn(
              `${r.method}: the answer is empty${example.context.length ? "" : " (no context was given)"}`,
            );
        // --json readers get a failure as JSON too (keys redacted); the exit code says it failed.
        const json = (r: MethodResult) =>
          "error" in r
            ? { method: r.method, error: failureRecord(example.id, r.error, { secrets: apiKeysInEnv() }) }
            : withFlags(r.prediction);
        const [one] = results as [MethodResult];
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify(opts.method === "all" ? results.map(json) : json(one), null, 2)}\n`,
          );
        else if (opts.method === "all") process.stdout.write(`${sideBySide(example, results)}\n`);
        else if ("prediction" in one) process.stdout.write(`${describeOne(example, one.prediction)}\n`);
        const failed = results.find((r) => "error" in r);
        if (failed && "error" in failed) throw failed.error;
      } finally {
        await (models as { small?: { dispose?: () => Promise<void> } }).small?.dispose?.();
      }
    });
};
