import { type Command, Option } from "commander";
import { EXIT_HANDOFF } from "../exit-codes";
import { note } from "../log";
import { loadReproduceConfig } from "../reproduce/config";
import { runPipeline } from "../reproduce/pipeline";
import { PRESETS } from "../reproduce/presets";
import { stageRows } from "../reproduce/report";
import { STAGE_NAMES, type StageName } from "../reproduce/stages";
import type { RegisterCommand } from "./index";

interface ReproduceFlags {
  config: string;
  from?: StageName;
  out?: string;
  batch?: boolean;
  dryRun?: boolean;
}

export const registerReproduce: RegisterCommand = (program: Command) => {
  program
    .command("reproduce")
    .description(
      "the paper in one resumable command: distill → KD → PPO → the grid → rationale scores → one report",
    )
    .requiredOption(
      "--config <file|preset>",
      `a YAML/JSON config (\`extends: <preset>\` to start from one) or a preset: ${Object.keys(PRESETS).join(", ")}`,
    )
    .addOption(new Option("--from <stage>", "redo this stage and every one after it").choices(STAGE_NAMES))
    .option("--out <dir>", "the run directory (overrides the config's out)")
    .option("--batch", "provider batches for distill, the grid and the scores (half price, within 24 h)")
    .option("--dry-run", "print each stage's calls, tokens and cost, online and with --batch; run nothing")
    .action(async (flags: ReproduceFlags) => {
      const overrides = { ...(flags.out ? { out: flags.out } : {}), ...(flags.batch ? { batch: true } : {}) };
      const config = loadReproduceConfig(flags.config, overrides);
      if (flags.dryRun) {
        const { priceReproduce } = await import("../reproduce/dry-run");
        const { lines, warnings } = await priceReproduce(config);
        for (const w of new Set(warnings)) process.stderr.write(`lmcot: warning: ${w}\n`);
        process.stdout.write(`${lines.join("\n")}\n`);
        return;
      }
      const rerun = `lmcot reproduce --config ${flags.config}${flags.out ? ` --out ${flags.out}` : ""}${flags.batch ? " --batch" : ""}`;
      const result = await runPipeline(config, { ...(flags.from ? { from: flags.from } : {}), rerun });
      if (result.handoff) {
        process.stderr.write(`lmcot reproduce: ${result.handoff}\n`);
        process.exitCode = EXIT_HANDOFF;
        return;
      }
      if (result.code !== 0) {
        process.exitCode = result.code;
        return;
      }
      const rows = stageRows(result.done);
      const status = (stage: string) => result.status[stage as StageName] ?? "";
      process.stdout.write(
        [
          "stage     status   time       cost",
          ...rows.map((r) => `${r[0]!.padEnd(9)} ${status(r[0]!).padEnd(8)} ${r[1]!.padStart(8)}  ${r[2]}`),
          "",
          `report: ${result.done.report?.outputs.md ?? ""} (and .html, .json); each grid's own report beside its run.jsonl`,
          `look at every question: lmcot view ${Object.values(result.done.bench?.outputs ?? {}).join(" ")}`,
          "",
        ].join("\n"),
      );
      note("reproduce: done\n");
    });
};
