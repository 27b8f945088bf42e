import { DEFAULT_PRICES, DEFAULT_PRICES_DATE, listProviders } from "@lmcot/llm";
import type { Command } from "commander";
import { printResult } from "../log";
import type { RegisterCommand } from "./index";

/** Lists the large-LM providers, how each is addressed, and which of its variables are set (never their values). */
export function modelsReport(env: NodeJS.ProcessEnv = process.env): string {
  const lines = ["Large-LM providers (model id = provider:model):", ""];
  for (const p of listProviders()) {
    const vars = p.env.length
      ? p.env.map((v) => `${v} ${env[v] ? "set" : "not set"}`).join(", ")
      : "no configuration needed";
    lines.push(`  ${p.name.padEnd(18)} ${p.description}`, `  ${"".padEnd(18)} e.g. ${p.example}; ${vars}`);
  }
  lines.push(
    "",
    `Default prices (USD per 1M tokens, input / output, as of ${DEFAULT_PRICES_DATE}; override with setPrices):`,
  );
  for (const [id, price] of Object.entries(DEFAULT_PRICES))
    lines.push(`  ${id.padEnd(40)} ${price.input} / ${price.output}`);
  lines.push(
    "",
    "Small (rationale) models: transformers:<folder or hub id>, openai-compatible:<baseURL>#<model>, extractive:selector.",
  );
  return lines.join("\n");
}

/** `lmcot models --json`: the same facts for programs; a variable is `true` when set (never its value). */
export function modelsJson(env: NodeJS.ProcessEnv = process.env) {
  return {
    providers: listProviders().map((p) => ({
      ...p,
      env: Object.fromEntries(p.env.map((v) => [v, Boolean(env[v])])),
    })),
    prices: { asOf: DEFAULT_PRICES_DATE, usdPerMillionTokens: DEFAULT_PRICES },
  };
}

export const registerModels: RegisterCommand = (program: Command) => {
  program
    .command("models")
    .description("list model providers, how they are configured, and which environment variables are set")
    .option("--json", "print the providers and prices as JSON")
    .action((flags: { json?: boolean }) =>
      printResult(flags.json, modelsJson(), () => `${modelsReport()}\n`),
    );
};
