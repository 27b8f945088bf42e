import { readFileSync } from "node:fs";

/** A recorded response body from `test/fixtures` (see its NOTICE.md for where each came from). */
export function recorded(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"));
}
