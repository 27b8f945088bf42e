import { type DataLocation, DataValidationError } from "@lmcot/core";
import type { z } from "zod";

/** `["context", 2, 1]` → `context[2][1]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path)
    out += typeof part === "number" ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out;
}

/** What is wrong with a value, after its field: `must be a number`, `is missing`. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? "is missing" : `must be ${article(issue.expected)}${issue.expected}`;
    case "too_small":
      if (issue.origin === "number") return `must be ${issue.inclusive ? "≥" : ">"} ${String(issue.minimum)}`;
      return `must have at least ${String(issue.minimum)} ${issue.origin === "string" ? "character(s)" : "item(s)"}`;
    case "too_big":
      if (issue.origin === "number") return `must be ${issue.inclusive ? "≤" : "<"} ${String(issue.maximum)}`;
      return `must have at most ${String(issue.maximum)} ${issue.origin === "string" ? "character(s)" : "item(s)"}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => String(v)).join(", ")}`;
    case "invalid_union":
      return "has the wrong shape";
    default:
      return issue.message;
  }
}

const article = (word: string) => (/^[aeiou]/.test(word) ? "an " : "a ");

/** Parses with a zod schema; a failure becomes a `DataValidationError` naming the first bad field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, at: DataLocation): T {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new DataValidationError(describeIssue(issue), { ...at, field: fieldPath(issue.path) || undefined });
}
