import type { ReasoningEffort } from "@lmcot/core";

export const REASONING_EFFORTS = ["low", "medium", "high"] as const satisfies readonly ReasoningEffort[];

/**
 * A `large` entry split into the model id and its reasoning effort: `openai:o4-mini@high` →
 * `{ id: "openai:o4-mini", effort: "high" }`. Only these three words after the last `@` are an effort,
 * so ids that hold an `@` themselves (Vertex's `claude-3-5-sonnet-v2@20241022`) stay whole.
 */
export function parseLarge(entry: string): { id: string; effort?: ReasoningEffort } {
  const at = entry.lastIndexOf("@");
  const suffix = at > 0 ? entry.slice(at + 1) : "";
  return (REASONING_EFFORTS as readonly string[]).includes(suffix)
    ? { id: entry.slice(0, at), effort: suffix as ReasoningEffort }
    : { id: entry };
}
