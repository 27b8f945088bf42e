import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { apiKeysInEnv, defaultResolver } from "@lmcot/bench";
import {
  DataValidationError,
  type Example,
  failureRecord,
  type MethodName,
  methods,
  type Paragraph,
} from "@lmcot/core";
import { loadSample, validate } from "@lmcot/datasets";
import { type Command, Option } from "commander";
import { z } from "zod";
import { type CallFlags, callOptions, callPolicyFrom } from "../call-flags";
import { UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

const paragraphs = z.union([
  z.array(z.object({ title: z.string(), sentences: z.array(z.string()) })),
  z.array(z.tuple([z.string(), z.array(z.string())])),
]);

/** A context file: JSON paragraphs (`[{title, sentences}]` or `[[title, [sentences]]]`) or plain text. */
export function readContext(path: string): Paragraph[] {
  const text = readFileSync(path, "utf8");
  if (/^\s*\[/.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DataValidationError(`is not valid JSON: ${(error as Error).message}`, {
        file: basename(path),
      });
    }
    const parsed = validate(paragraphs, value, { file: basename(path) });
    return parsed.map((p) => (Array.isArray(p) ? { title: p[0], sentences: p[1] } : p));
  }
  return text
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block, i) => ({ title: `Passage ${i + 1}`, sentences: block.split(/(?<=[.!?])\s+/) }));
}

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
  if (!opts.question) throw new UsageError("give --question (with --context) or --example");
  if (opts.context && !existsSync(opts.context))
    throw new UsageError(`--context: no such file: ${opts.context}`);
  return {
    id: "ask",
    dataset: "custom",
    question: opts.question,
    answer: "",
    context: opts.context ? readContext(opts.context) : [],
  };
}

interface AskFlags extends CallFlags {
  small: string;
  large: string;
  question?: string;
  context?: string;
  example?: string;
  method: MethodName;
  json?: boolean;
}

export const registerAsk: RegisterCommand = (program: Command) => {
  callOptions(program.command("ask"))
    .description("answer one question with standard prompting, CoT prompting or LM-guided CoT")
    .option("--small <id>", "small (rationale) LM id", "extractive:selector")
    .option("--large <id>", "large LM id", "extractive:reader")
    .option("--question <text>", "the question")
    .option(
      "--context <file>",
      "context paragraphs: JSON [{title, sentences}] / [[title, [sentences]]], or plain text",
    )
    .option("--example <dataset:id>", "a bundled example instead, e.g. hotpotqa:5a8b57f25542995d1e6f1371")
    .addOption(
      new Option("--method <name>", "which method")
        .choices(["standard", "cot", "lm-guided"])
        .default("lm-guided"),
    )
    .option("--json", "print the whole prediction as JSON")
    .action(async (opts: AskFlags) => {
      const example = await exampleFrom(opts);
      const resolver = defaultResolver({ limits: callPolicyFrom(opts) });
      const large = await resolver.large(opts.large);
      const models =
        opts.method === "lm-guided" ? { large, small: await resolver.small(opts.small) } : { large };
      try {
        const prediction = await methods[opts.method](example, models).catch((error: unknown) => {
          // --json readers get the failure as JSON too (keys redacted); the exit code says it failed.
          if (opts.json)
            process.stdout.write(
              `${JSON.stringify({ error: failureRecord(example.id, error, { secrets: apiKeysInEnv() }) }, null, 2)}\n`,
            );
          throw error;
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(prediction, null, 2)}\n`);
          return;
        }
        const lines = [`Question: ${example.question}`];
        if (prediction.rationale)
          lines.push(
            `Rationale (${opts.method === "lm-guided" ? models.small?.id : large.id}): ${prediction.rationale}`,
          );
        lines.push(`Answer: ${prediction.answer}`);
        if (example.answer) lines.push(`Gold: ${example.answer}`);
        const u = prediction.usage;
        lines.push(
          `Usage: large ${u.large.inputTokens} in / ${u.large.outputTokens} out${u.small ? `, small ${u.small.inputTokens} in / ${u.small.outputTokens} out` : ""}, $${prediction.costUsd.toFixed(6)}, ${prediction.latencyMs.toFixed(0)} ms${prediction.cached ? " (cached)" : ""}`,
        );
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        await (models as { small?: { dispose?: () => Promise<void> } }).small?.dispose?.();
      }
    });
};
