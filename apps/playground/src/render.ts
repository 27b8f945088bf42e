import type { Example, Prediction } from "@lmcot/core";
import { scoreAnswer } from "@lmcot/metrics";

export const METHODS = [
  { name: "standard", title: "Standard prompting" },
  { name: "cot", title: "Chain-of-thought (large LM's own)" },
  { name: "lm-guided", title: "LM-guided CoT (small LM's rationale)" },
] as const;

export type MethodKey = (typeof METHODS)[number]["name"];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function facts(rows: [string, string, string?][]): HTMLDListElement {
  const dl = el("dl");
  for (const [term, value, className] of rows) dl.append(el("dt", term), el("dd", value, className));
  return dl;
}

const tokens = (u?: { inputTokens: number; outputTokens: number }) =>
  u ? `${u.inputTokens} in / ${u.outputTokens} out` : "—";

/** One method's card: its answer, rationale, EM/F1 when there is a gold answer, tokens and latency. */
export function card(
  method: MethodKey,
  outcome: { prediction: Prediction } | { error: string } | "running",
  example: Example,
) {
  const title = METHODS.find((m) => m.name === method)!.title;
  const box = el("article", undefined, "card");
  box.dataset.method = method;
  box.append(el("h3", title));
  if (outcome === "running") {
    box.append(el("p", "running…", "note"));
    return box;
  }
  if ("error" in outcome) {
    box.append(el("p", outcome.error, "error"));
    return box;
  }
  const p = outcome.prediction;
  box.append(el("p", p.answer || "(no answer)", "answer"));
  if (p.rationale) box.append(el("p", p.rationale, "rationale"));
  const rows: [string, string, string?][] = [];
  if (example.answer) {
    const s = scoreAnswer(p.answer, example.answerAliases ?? example.answer);
    rows.push(
      ["gold", example.answer],
      ["EM", String(s.em), s.em ? "em1" : undefined],
      ["F1", s.f1.toFixed(2)],
    );
  }
  rows.push(["large LM tokens", tokens(p.usage.large)]);
  if (p.usage.small) rows.push(["small LM tokens", tokens(p.usage.small)]);
  rows.push(["latency", `${(p.latencyMs / 1000).toFixed(2)} s`]);
  if (p.cached) rows.push(["large LM", "answered from this browser's cache (IndexedDB), free"]);
  box.append(facts(rows));
  return box;
}
