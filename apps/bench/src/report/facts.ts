import { cellLabel, type ReportData } from "./data";

const int = (n: number) => n.toLocaleString("en-US");

/** The run configuration as label / value rows (run-info.json), or one row saying it is missing. */
export function runConfigRows(data: ReportData): [string, string][] {
  const info = data.runInfo;
  if (!info) return [["configuration", "not recorded (a run older than run-info.json)"]];
  const context = info.context ?? {};
  return [
    ["large LMs", info.large.join(", ")],
    ["small LMs", info.small.map((s) => `${s.label} = ${s.id}`).join(", ") || "none"],
    [
      "prompt versions",
      Object.entries(info.promptVersions)
        .map(([m, v]) => `${m}: ${v}`)
        .join("; "),
    ],
    ["large-LM temperature", String(info.temperature)],
    ["self-consistency", String(info.selfConsistency)],
    ["seeds", info.seeds.join(", ")],
    ["context", JSON.stringify(context)],
    [
      "package versions",
      Object.entries(info.versions)
        .map(([p, v]) => `${p} ${v}`)
        .join(", "),
    ],
    ["written", info.writtenAt],
  ];
}

const hasReasoning = (data: ReportData) => data.cells.some((c) => (c.tokens.largeReasoning ?? 0) > 0);

/**
 * Per cell: label, dataset, large LM, large-LM input / output tokens (and the reasoning part of the
 * output when any cell has some), small-LM input / output tokens.
 */
export function tokenRows(data: ReportData): string[][] {
  const reasoning = hasReasoning(data);
  return data.cells.map((c) => [
    cellLabel(c.cell),
    c.cell.dataset,
    c.cell.large,
    int(c.tokens.largeIn),
    int(c.tokens.largeOut),
    ...(reasoning ? [int(c.tokens.largeReasoning ?? 0)] : []),
    c.cell.small ? int(c.tokens.smallIn) : "–",
    c.cell.small ? int(c.tokens.smallOut) : "–",
  ]);
}

/** The headers of `tokenRows`; the first three columns are text. */
export function tokenHeaders(data: ReportData): string[] {
  return [
    "method",
    "dataset",
    "large LM",
    "large in",
    "large out",
    ...(hasReasoning(data) ? ["large reasoning"] : []),
    "small in",
    "small out",
  ];
}
