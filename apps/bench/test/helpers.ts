import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BenchConfig, parseConfig } from "../src/index";

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** A small offline grid over the bundled samples. */
export function offlineConfig(out: string, overrides: Record<string, unknown> = {}): BenchConfig {
  return parseConfig({
    datasets: [{ name: "hotpotqa", sample: 12 }, { name: "2wikimultihopqa" }],
    methods: ["standard", "cot", "lm-guided"],
    large: ["extractive:reader"],
    small: [{ id: "extractive:selector", label: "selector" }],
    out,
    ...overrides,
  });
}
