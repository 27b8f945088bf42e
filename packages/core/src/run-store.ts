/** What identifies one unit of work in a run; two runs with equal keys did the same thing. */
export interface RunKeyParts {
  method: string;
  dataset: string;
  exampleId: string;
  /** Model ids involved, e.g. `{ large: "openai:gpt-4o-mini", small: "transformers:./m" }`. */
  models: Record<string, string | undefined>;
  promptVersion: string;
  seed?: number;
}

/** A stable string key for `RunKeyParts` (field order and undefined models do not matter). */
export function runKey(parts: RunKeyParts): string {
  const models = Object.entries(parts.models)
    .filter(([, id]) => id !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([role, id]) => `${role}=${id}`)
    .join(",");
  return [parts.method, parts.dataset, parts.exampleId, models, parts.promptVersion, parts.seed ?? ""].join(
    "|",
  );
}

/**
 * An append-only record store for a run (a JSONL file in practice, see `@lmcot/datasets`).
 * Re-running a run skips every key the store already has.
 */
export interface RunStore<R extends { key: string } = { key: string }> {
  /** Keys already written (after dropping a torn last line). */
  has(key: string): boolean;
  /** Appends one record; resolves once it is durably written. */
  append(record: R): Promise<void>;
  /** Every complete record, in write order. */
  records(): AsyncIterable<R>;
  close(): Promise<void>;
}
