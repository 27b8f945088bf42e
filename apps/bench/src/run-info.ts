import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchConfig } from "./config";
import { packageVersions, promptVersions } from "./versions";

/** What a run was made with, beside config.json: versions, prompt versions, decoding, context mode. */
export interface RunInfo {
  writtenAt: string;
  versions: Record<string, string>;
  promptVersions: Record<string, string>;
  /** Large-LM temperature (the methods' default); self-consistency samples the small LM at 0.7. */
  temperature: number;
  selfConsistency: number;
  seeds: number[];
  context: BenchConfig["context"];
  large: string[];
  small: BenchConfig["small"];
}

export function writeRunInfo(runDir: string, config: BenchConfig): void {
  const info: RunInfo = {
    writtenAt: new Date().toISOString(),
    versions: packageVersions(),
    promptVersions: promptVersions(),
    temperature: 0,
    selfConsistency: config.selfConsistency,
    seeds: config.seeds,
    context: config.context,
    large: config.large,
    small: config.small,
  };
  writeFileSync(join(runDir, "run-info.json"), `${JSON.stringify(info, null, 2)}\n`);
}

/** The run's `run-info.json`, or undefined for runs older than it. */
export function readRunInfo(runDir: string): RunInfo | undefined {
  const file = join(runDir, "run-info.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as RunInfo) : undefined;
}
