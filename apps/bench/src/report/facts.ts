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

/** Per cell: label, dataset, large-LM input / output tokens, small-LM input / output tokens. */
export function tokenRows(data: ReportData): string[][] {
  return data.cells.map((c) => [
    cellLabel(c.cell),
    c.cell.dataset,
    int(c.tokens.largeIn),
    int(c.tokens.largeOut),
    c.cell.small ? int(c.tokens.smallIn) : "–",
    c.cell.small ? int(c.tokens.smallOut) : "–",
  ]);
}

export const TOKEN_HEADERS = ["method", "dataset", "large in", "large out", "small in", "small out"];
