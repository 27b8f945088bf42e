import { cellLabel, coverage, failureNote, listedNote, type ReportData, scoreText } from "./data";
import { runConfigRows, tokenHeaders, tokenRows } from "./facts";
import { md } from "./md";
import { rationaleQualityMarkdown } from "./rationale-quality-render";

/** A table row; every cell escaped (alignment rows such as `---:` pass through unchanged). */
const mdRow = (cells: unknown[]) => `| ${cells.map(md).join(" | ")} |`;

const pct = (x: number) => (100 * x).toFixed(1);

/** The headline table: EM / F1 with 95% CIs per method × dataset, and n / expected per cell. */
export function headlineTable(data: ReportData): string {
  const rows = data.cells.map((c) =>
    mdRow([
      cellLabel(c.cell),
      c.cell.dataset,
      c.cell.large,
      coverage(c),
      scoreText(c, "em"),
      scoreText(c, "f1"),
      `$${c.costPer100.toFixed(4)}`,
      `${c.latencyPer100s.toFixed(2)} s`,
    ]),
  );
  return [
    "| method | dataset | large LM | n / expected | EM % [95% CI] | F1 % [95% CI] | cost / 100 q | latency / 100 q |",
    "| --- | --- | --- | ---: | --- | --- | ---: | ---: |",
    ...rows,
  ].join("\n");
}

/** report.md: the same content as the HTML report, minus charts and the example browser. */
export function renderMarkdown(data: ReportData): string {
  const out: string[] = [
    "# lmcot benchmark report",
    "",
    `Run: ${md(data.runDir)} — generated ${md(data.generatedAt)}`,
    "",
  ];
  out.push(
    "## Models",
    "",
    ...data.models.map((m) => `- ${m.role} LM: ${md(m.id)}${m.offline ? " (offline stand-in)" : ""}`),
    "",
  );
  if (data.offlineNote) out.push(`> **Offline stand-ins.** ${md(data.offlineNote)}`, "");
  out.push("## Results (EM / F1 in %, 95% bootstrap CIs)", "", headlineTable(data), "");
  out.push(
    "## Tokens per cell",
    "",
    mdRow(tokenHeaders(data)),
    `| ${tokenHeaders(data)
      .map((_, i) => (i < 3 ? "---" : "---:"))
      .join(" | ")} |`,
    ...tokenRows(data).map(mdRow),
    "",
    "## Run configuration",
    "",
    "| | |",
    "| --- | --- |",
    ...runConfigRows(data).map(mdRow),
    "",
  );
  const note = failureNote(data);
  if (note) {
    out.push(
      "## Failures",
      "",
      note,
      "",
      "| error class | count | first message | fix |",
      "| --- | ---: | --- | --- |",
    );
    for (const f of data.failures.byClass)
      out.push(
        mdRow([
          `${f.errorClass}${f.status !== undefined ? ` (HTTP ${f.status})` : ""}`,
          f.count,
          f.firstMessage,
          f.fix,
        ]),
      );
    out.push("");
  }
  if (data.batches) {
    out.push(
      "## Batches",
      "",
      "Large-LM calls sent as provider batches (`--batch`), at batch prices; requests that failed or expired are in Failures above.",
      "",
      "| batch | model | requests | status | succeeded | failed |",
      "| --- | --- | ---: | --- | ---: | ---: |",
    );
    for (const b of data.batches)
      out.push(mdRow([b.batch, b.model, b.requests, b.status, b.succeeded, b.failed]));
    out.push("");
  }
  out.push("## LM-guided CoT vs baselines (paired bootstrap)", "", md(data.statistics), "");
  out.push(
    "| dataset | large LM | comparison | metric | n | Δ (pts) | 95% CI | p |",
    "| --- | --- | --- | --- | ---: | ---: | --- | ---: |",
  );
  for (const c of data.comparisons) {
    out.push(
      mdRow([
        c.dataset,
        c.large,
        `${c.guided} vs ${c.baseline}`,
        c.metric.toUpperCase(),
        c.n,
        pct(c.test.meanDiff),
        `[${pct(c.test.ci.low)}, ${pct(c.test.ci.high)}]`,
        c.test.pValue.toFixed(3),
      ]),
    );
  }
  out.push(
    "",
    "## The paper's claims in this run",
    "",
    `A claim is judged only on comparisons of at least ${data.minClaimN} questions (\`--min-claim-n\`, \`LMCOT_MIN_CLAIM_N\`).`,
    "",
  );
  for (const c of data.claims) out.push(`- **${md(c.claim)}** — ${md(c.verdict)}. ${md(c.evidence)}`);
  if (data.rationaleQuality) out.push("", rationaleQualityMarkdown(data.rationaleQuality));
  out.push("", "## By question type (F1 %)", "");
  const types = [...new Set(data.cells.flatMap((c) => Object.keys(c.byType)))].sort();
  out.push(mdRow(["method", "dataset", ...types]), `| --- | --- | ${types.map(() => "---:").join(" | ")} |`);
  for (const c of data.cells)
    out.push(
      mdRow([
        cellLabel(c.cell),
        c.cell.dataset,
        ...types.map((t) => (c.byType[t] ? `${pct(c.byType[t]!.f1.mean)} (n=${c.byType[t]!.n})` : "–")),
      ]),
    );
  out.push("", "## Rationale length (words)", "");
  for (const c of data.cells.filter((x) => x.rationaleWords.length)) {
    const w = [...c.rationaleWords].sort((a, b) => a - b);
    out.push(
      `- ${md(cellLabel(c.cell))} on ${md(c.cell.dataset)}: median ${w[Math.floor(w.length / 2)]}, min ${w[0]}, max ${w.at(-1)}`,
    );
  }
  out.push(
    "",
    `${listedNote(data) ?? `${data.examples.length} predictions; browse them in report.html.`}`,
    "",
  );
  return out.join("\n");
}
