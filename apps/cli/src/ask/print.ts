import type { Example, MethodName, Prediction } from "@lmcot/core";

/** One method's outcome on the question: its prediction, or why it failed. */
export type MethodResult =
  | { method: MethodName; prediction: Prediction }
  | { method: MethodName; error: Error };

/** The prediction as `--json` prints it: flagged when its answer is empty. */
export const withFlags = (p: Prediction) => ({ ...p, emptyAnswer: p.answer.trim() === "" });

const shown = (answer: string) => (answer.trim() === "" ? "(empty)" : answer);

function usage(p: Prediction): string {
  const u = p.usage;
  const small = u.small ? `, small ${u.small.inputTokens} in / ${u.small.outputTokens} out` : "";
  return `large ${u.large.inputTokens} in / ${u.large.outputTokens} out${small}, $${p.costUsd.toFixed(6)}, ${p.latencyMs.toFixed(0)} ms${p.cached ? " (cached)" : ""}`;
}

/** Who wrote the rationale: the small LM for LM-guided CoT, the large LM for CoT. */
const rationaleBy = (p: Prediction) => (p.method === "lm-guided" ? p.models.small : p.models.large);

/** One method's answer, as `lmcot ask` prints it. */
export function describeOne(example: Example, p: Prediction): string {
  const lines = [`Question: ${example.question}`];
  if (p.rationale) lines.push(`Rationale (${rationaleBy(p)}): ${p.rationale}`);
  lines.push(`Answer: ${shown(p.answer)}`);
  if (example.answer) lines.push(`Gold: ${example.answer}`);
  lines.push(`Usage: ${usage(p)}`);
  return lines.join("\n");
}

const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

/** The three methods side by side: a row each (answer, usage), then the rationales in full. */
export function sideBySide(example: Example, results: readonly MethodResult[]): string {
  const answers = results.map((r) => ("error" in r ? "(failed)" : clip(shown(r.prediction.answer), 40)));
  const width = Math.max("answer".length, ...answers.map((a) => a.length));
  const rows = results.map(
    (r, i) =>
      `${r.method.padEnd(10)} ${answers[i]!.padEnd(width)}  ${"error" in r ? r.error.message : usage(r.prediction)}`,
  );
  const rationales = results.flatMap((r) =>
    "prediction" in r && r.prediction.rationale
      ? [`  ${r.method} (${rationaleBy(r.prediction)}): ${r.prediction.rationale}`]
      : [],
  );
  return [
    `Question: ${example.question}`,
    ...(example.answer ? [`Gold: ${example.answer}`] : []),
    "",
    `${"method".padEnd(10)} ${"answer".padEnd(width)}  usage`,
    ...rows,
    ...(rationales.length ? ["", "Rationales:", ...rationales] : []),
  ].join("\n");
}
