import { existsSync } from "node:fs";
import { basename } from "node:path";
import { fromFlagString, readConfigValue, unknownKeys } from "@lmcot/bench";
import { LmcotError } from "@lmcot/core";
import { describeIssue, fieldPath } from "@lmcot/datasets";
import type { Command } from "commander";
import { z } from "zod";
import { UsageError } from "./usage-error";

/** A value a command-line parser (`callPolicyFrom`, the reward flags) reads as text: `30` in a file is "30". */
export const text = z.union([z.string(), z.number()]).transform(String);

/** The call policy keys, as text for `callPolicyFrom` (`--timeout` ↔ `timeout`). */
export const callKeys = { timeout: text.optional(), retries: text.optional(), totalTimeout: text.optional() };

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export interface CommandOptionsSpec {
  /** Flags whose text the schema does not read as is (`--small kd=…`), turned into the key's value. */
  parse?: Record<string, (value: never) => unknown>;
}

function readFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new UsageError(`--config: no such file: ${path}`);
  try {
    const value = readConfigValue(path);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new UsageError(`${basename(path)}: must hold a mapping of keys to values`);
    return value as Record<string, unknown>;
  } catch (error) {
    throw LmcotError.isInstance(error) ? new UsageError(error.message) : error;
  }
}

/**
 * A command's options from one schema: its flags' defaults, then the `--config` file's keys, then the
 * flags given on the command line (a key is the flag in camelCase: `--self-consistency` ↔
 * `selfConsistency`; flags that are not settings, like `--dry-run`, have none), validated together,
 * so both ways get the same defaults and the same checks.
 * Every problem is a `UsageError` (exit 2) naming the flag, or the file and key; unknown keys in the
 * file are refused with the nearest known one.
 */
export function commandOptions<S extends z.ZodObject>(
  schema: S,
  command: Command,
  spec: CommandOptionsSpec = {},
): z.output<S> {
  const shape = schema.shape as Record<string, z.ZodType>;
  const defaults: Record<string, unknown> = {};
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(command.opts())) {
    const field = shape[key];
    // Flags that are not settings (--config, --dry-run, --quiet) have no key.
    if (!field || value === undefined) continue;
    const parse = spec.parse?.[key];
    const parsed = parse ? parse(value as never) : fromFlagString(field, value);
    (command.getOptionValueSource(key) === "default" ? defaults : given)[key] = parsed;
  }
  const path: string | undefined = command.opts().config;
  const file = path === undefined ? {} : readFile(path);
  const name = path === undefined ? "" : basename(path);
  const unknown = unknownKeys(schema, file);
  if (unknown.length) throw new UsageError(unknown.map((u) => `${name}: ${u}`).join("\n"));
  const result = schema.safeParse({ ...defaults, ...file, ...given }, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "");
    const where = issue.path.length > 1 ? `${fieldPath(issue.path)} ` : "";
    if (key in given) {
      const got = typeof issue.input === "string" ? `, got "${issue.input}"` : "";
      return `--${kebab(key)}: ${where}${describeIssue(issue)}${got}`;
    }
    if (key in file) return `${name}: ${fieldPath(issue.path)} ${describeIssue(issue)}`;
    if (issue.code === "invalid_type" && issue.input === undefined)
      return `--${kebab(key)} is missing${path === undefined ? "" : ` (give it, or set ${key} in ${name})`}`;
    return `${fieldPath(issue.path)} ${describeIssue(issue)}`;
  });
  throw new UsageError(problems.join("\n"));
}
