import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { buildReport, headlineTable, type ReportData, renderMarkdown } from "@lmcot/bench";
import type { StageContext } from "./stages";

const TITLES: Record<string, string> = {
  grid: "The grid (one rationale per question)",
  sc: "Self-consistency (LM-guided CoT, sampled rationales, majority vote)",
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The stages' table: what each took and cost (from their manifests), and the total. */
export function stageRows(done: StageContext["done"]): string[][] {
  const rows = Object.entries(done).map(([stage, m]) => [
    stage,
    `${m!.seconds.toFixed(1)} s`,
    `$${m!.costUsd.toFixed(4)}`,
    m!.completedAt,
  ]);
  const cost = Object.values(done).reduce((s, m) => s + (m?.costUsd ?? 0), 0);
  const seconds = Object.values(done).reduce((s, m) => s + (m?.seconds ?? 0), 0);
  return [...rows, ["total", `${seconds.toFixed(1)} s`, `$${cost.toFixed(4)}`, ""]];
}

/**
 * The report stage: each grid run's own report (report.md/json/html, now with the rationale-quality
 * section from the scores stage's rewards), and report/report.{md,json,html} over all of them.
 */
export async function writeReproduceReport(ctx: StageContext): Promise<string[]> {
  const dir = ctx.dir("report");
  const runs: { name: string; dir: string; data: ReportData; files: string[] }[] = [];
  for (const [name, runDir] of Object.entries(ctx.done.bench?.outputs ?? {})) {
    const { data, files } = await buildReport(runDir, {
      ...(ctx.config.bench.minClaimN !== undefined ? { minClaimN: ctx.config.bench.minClaimN } : {}),
    });
    runs.push({ name, dir: runDir, data, files });
  }
  const stages = stageRows(ctx.done);
  const head = [
    "# lmcot reproduce: LM-guided CoT (Lee et al., 2024, arXiv:2404.03414)",
    "",
    `Run directory \`${ctx.config.out}\`; large LM \`${ctx.config.large}\`, judge \`${ctx.config.judge}\`, training engine \`${ctx.config.train.engine}\`.`,
    "",
    "| stage | time | cost | completed |",
    "| --- | ---: | ---: | --- |",
    ...stages.map((r) => `| ${r.join(" | ")} |`),
    "",
  ];
  // Each grid's own report, its title demoted one level under this one.
  const body = runs.flatMap((r) => [
    `# ${TITLES[r.name] ?? r.name}`,
    "",
    renderMarkdown(r.data)
      .replace(/^# .*\n/, "")
      .replace(/^(#+) /gm, "#$1 "),
  ]);
  const files = [join(dir, "report.md"), join(dir, "report.json"), join(dir, "report.html")];
  writeFileSync(files[0]!, [...head, ...body].join("\n"));
  writeFileSync(
    files[1]!,
    `${JSON.stringify({ config: ctx.config, stages: ctx.done, runs: Object.fromEntries(runs.map((r) => [r.name, r.data])) }, null, 2)}\n`,
  );
  const table = (rows: string[][]) =>
    `<table><tbody>${rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
  writeFileSync(
    files[2]!,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>lmcot reproduce</title></head><body><main>
<h1>lmcot reproduce</h1><p>Run directory <code>${esc(ctx.config.out)}</code>; large LM <code>${esc(ctx.config.large)}</code>, judge <code>${esc(ctx.config.judge)}</code>.</p>
<h2>Stages</h2>${table([["stage", "time", "cost", "completed"], ...stages])}
${runs.map((r) => `<h2>${esc(TITLES[r.name] ?? r.name)}</h2><pre>${esc(headlineTable(r.data))}</pre><p><a href="${esc(relative(dir, r.files[2]!))}">the full report, with the rationale-quality section</a></p>`).join("\n")}
</main></body></html>
`,
  );
  return files;
}
