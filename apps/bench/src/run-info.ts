import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { type BenchConfig, benchConfigSchema, readConfigFile } from "./config";
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
  /** Absent in runs older than the context setting. */
  context?: BenchConfig["context"];
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

const runInfoSchema = z.object({
  writtenAt: z.string(),
  versions: z.record(z.string(), z.string()),
  promptVersions: z.record(z.string(), z.string()),
  temperature: z.number(),
  selfConsistency: z.number(),
  seeds: z.array(z.number()),
  context: benchConfigSchema.shape.context.optional(),
  large: z.array(z.string()),
  small: benchConfigSchema.shape.small,
});

/** The run's `run-info.json` (validated: the pages show it), or undefined for runs older than it. */
export function readRunInfo(runDir: string): RunInfo | undefined {
  const file = join(runDir, "run-info.json");
  return existsSync(file) ? (readConfigFile(file, runInfoSchema) as RunInfo) : undefined;
}
