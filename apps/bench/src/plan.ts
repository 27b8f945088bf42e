import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { readConfigFile } from "./config";
import type { Cell } from "./grid";
import { cellSchema } from "./record-schema";

/** What a run set out to do: each cell and how many items it holds (the `expected` of `n / expected`). */
export interface Plan {
  cells: (Cell & { expected: number })[];
}

const planSchema = z.object({ cells: z.array(cellSchema.extend({ expected: z.number().int().min(0) })) });

export const planFile = (runDir: string) => join(runDir, "plan.json");

export function writePlan(runDir: string, plan: Plan): void {
  writeFileSync(planFile(runDir), `${JSON.stringify(plan, null, 2)}\n`);
}

/** The plan of the latest run in a directory; undefined for run directories older than plan.json. */
export function readPlan(runDir: string): Plan | undefined {
  const path = planFile(runDir);
  return existsSync(path) ? (readConfigFile(path, planSchema) as Plan) : undefined;
}
