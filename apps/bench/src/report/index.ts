import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ReportData, type ReportOptions, reportFromColumns } from "./data";
import { renderHtml } from "./html";
import { renderMarkdown } from "./markdown";
import { rationaleQualityFrom, scanScored } from "./rationale-quality";
import { readRewardTable } from "./reward-table";

export {
  buildReportData,
  type Claim,
  type Comparison,
  coverage,
  DEFAULT_MIN_CLAIM_N,
  EXAMPLES_IN_REPORT,
  type ReportData,
  type ReportOptions,
} from "./data";
export { renderHtml } from "./html";
export { headlineTable, renderMarkdown } from "./markdown";
export { buildRationaleQuality, type RationaleQuality } from "./rationale-quality";

/**
 * Rebuilds report.json, report.md and report.html in a run directory from its run.jsonl (streamed once,
 * into columns) and the reward rows beside it.
 */
export async function buildReport(
  runDir: string,
  options: ReportOptions = {},
): Promise<{ data: ReportData; files: string[] }> {
  // One pass over run.jsonl serves every section: the rows' reward rows are noted while streaming it.
  const scored = await scanScored(runDir, await readRewardTable(runDir));
  const data = await reportFromColumns(runDir, scored.c, options);
  const rationaleQuality = rationaleQualityFrom(scored, data.minClaimN);
  if (rationaleQuality) data.rationaleQuality = rationaleQuality;
  const files = [join(runDir, "report.json"), join(runDir, "report.md"), join(runDir, "report.html")];
  writeFileSync(files[0]!, `${JSON.stringify(data, null, 2)}\n`);
  writeFileSync(files[1]!, renderMarkdown(data));
  writeFileSync(files[2]!, renderHtml(data));
  return { data, files };
}
