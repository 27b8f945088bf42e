import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { lockRunDir } from "@lmcot/datasets";
import { duration } from "../batch-flags";
import { lockNotice } from "../failures";
import { note } from "../log";
import type { ReproduceConfig } from "./config";
import { clearFolder } from "./files";
import {
  inputHash,
  readManifest,
  readStarted,
  type StageManifest,
  writeManifest,
  writeStarted,
} from "./manifest";
import { STAGES, type StageContext, StageFailed, type StageName } from "./stages";

/** Bump when what a stage does changes, so old manifests no longer count as done. */
const PIPELINE_VERSION = 1;
const TICK_MS = 10_000;

export interface PipelineResult {
  /** 0 done, 3 a stage handed off to an external trainer, else the failed stage's exit code. */
  code: number;
  done: Partial<Record<StageName, StageManifest>>;
  /** What each stage did in this run. */
  status: Partial<Record<StageName, "ran" | "skipped">>;
  handoff?: string;
}

/** `[3/6] rl: 12/40, 1 min elapsed, ETA 2 min` every few seconds while a stage runs. */
function ticker(label: string, progress: (() => { done: number; total: number } | undefined) | undefined) {
  const started = performance.now();
  const timer = setInterval(() => {
    const p = progress?.();
    const elapsed = performance.now() - started;
    const eta = p && p.done > 0 && p.total > p.done ? (elapsed / p.done) * (p.total - p.done) : undefined;
    note(
      `reproduce: ${label}: ${p ? `${p.done}/${p.total}, ` : ""}${duration(elapsed)} elapsed${eta !== undefined ? `, ETA ${duration(eta)}` : ""}\n`,
    );
  }, TICK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), seconds: () => (performance.now() - started) / 1000 };
}

/**
 * Runs the stages in order. A stage whose inputs hash to its manifest's is skipped; one started but
 * not completed (a kill) runs again on its folder, and its command resumes; one whose inputs changed,
 * or from `from` on, is cleared and redone.
 */
export async function runPipeline(
  config: ReproduceConfig,
  options: { from?: StageName; rerun: string },
): Promise<PipelineResult> {
  const lock = lockRunDir(config.out, "lmcot reproduce");
  lockNotice(lock);
  const ctx: StageContext = {
    config,
    rerun: options.rerun,
    dir: (stage) => join(config.out, stage),
    done: {},
  };
  const status: PipelineResult["status"] = {};
  let forced = false;
  try {
    for (const [i, stage] of STAGES.entries()) {
      const label = `[${i + 1}/${STAGES.length}] ${stage.name}`;
      const dir = ctx.dir(stage.name);
      const hash = inputHash({
        version: PIPELINE_VERSION,
        settings: stage.settings(config),
        reads: stage.reads.map((r) => ctx.done[r]?.inputHash),
      });
      forced ||= options.from === stage.name;
      const manifest = readManifest(dir);
      if (!forced && manifest?.inputHash === hash) {
        ctx.done[stage.name] = manifest;
        status[stage.name] = "skipped";
        note(`reproduce: ${label}: skipped, unchanged since ${manifest.completedAt}\n`);
        continue;
      }
      const started = readStarted(dir);
      const resuming = !forced && manifest === undefined && started === hash;
      if (!resuming) clearFolder(dir, ["checkpoint"]);
      mkdirSync(dir, { recursive: true });
      writeStarted(dir, hash);
      note(`reproduce: ${label}: ${resuming ? "resuming" : "running"} — ${stage.title}\n`);
      const tick = ticker(label, stage.progress && (() => stage.progress!(ctx)));
      let outcome: Awaited<ReturnType<typeof stage.run>>;
      try {
        outcome = await stage.run(ctx);
      } finally {
        tick.stop();
      }
      if ("handoff" in outcome) return { code: 3, done: ctx.done, status, handoff: outcome.handoff };
      const m: StageManifest = {
        stage: stage.name,
        inputHash: hash,
        completedAt: new Date().toISOString(),
        seconds: Math.round(tick.seconds() * 10) / 10,
        costUsd: outcome.costUsd,
        outputs: outcome.outputs,
      };
      ctx.done[stage.name] = m;
      writeManifest(dir, m);
      status[stage.name] = "ran";
      note(`reproduce: ${label}: done in ${duration(m.seconds * 1000)}, $${m.costUsd.toFixed(4)}\n`);
    }
    return { code: 0, done: ctx.done, status };
  } catch (error) {
    if (error instanceof StageFailed) {
      process.stderr.write(
        `lmcot reproduce: ${error.message}; the completed stages are kept — fix the cause and run the same command to go on\n`,
      );
      return { code: error.code, done: ctx.done, status };
    }
    throw error;
  } finally {
    lock.release();
  }
}
