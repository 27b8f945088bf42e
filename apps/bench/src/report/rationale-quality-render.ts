import type { ConfidenceInterval, PairedTestResult } from "@lmcot/metrics";
import type { Correlation } from "./correlation";
import { md } from "./md";
import type { RationaleExample, RationaleQuality } from "./rationale-quality";

const TITLE = "Rationale quality (the judge's aspect scores)";
const INTRO =
  "Each aspect is the judge's score in [0, 1]; R_aspect is their sum (0–8 with all eight). Means with 95% bootstrap CIs per LM-guided cell; KD+RL against KD by a paired bootstrap over the questions both answered; correlations are Pearson's r over every scored LM-guided item (point-biserial with EM), 95% CI by Fisher's z.";

const mean = (c: ConfidenceInterval | null, digits = 2) =>
  c ? `${c.mean.toFixed(digits)} [${c.low.toFixed(digits)}, ${c.high.toFixed(digits)}]` : "–";
const diff = (t: PairedTestResult | null) =>
  t
    ? `${t.meanDiff >= 0 ? "+" : ""}${t.meanDiff.toFixed(3)} [${t.ci.low.toFixed(3)}, ${t.ci.high.toFixed(3)}] p=${t.pValue.toFixed(3)}`
    : "–";
const corr = (c: Correlation | null) =>
  c ? `${c.r.toFixed(2)} [${c.low.toFixed(2)}, ${c.high.toFixed(2)}] p=${c.p.toFixed(3)}` : "–";

/** The section's tables as rows of plain text, shared by the markdown and the HTML writer. */
function tables(q: RationaleQuality) {
  return {
    cells: {
      head: ["cell", "dataset", "scored", ...q.aspects, "R_aspect", "F1 %"],
      rows: q.cells.map((c) => [
        `lm-guided (${c.small})`,
        c.dataset,
        `${c.scored}${c.unscored ? ` (+${c.unscored} unscored)` : ""}`,
        ...q.aspects.map((a) => mean(c.aspects[a] ?? null)),
        mean(c.rAspect),
        (100 * c.f1).toFixed(1),
      ]),
    },
    pairs: {
      head: ["aspect", ...q.pairs.map((p) => `${p.rl} − ${p.kd} · ${p.dataset} (n=${p.n})`)],
      rows: [
        ...q.aspects.map((a) => [a, ...q.pairs.map((p) => diff(p.aspects[a] ?? null))]),
        ["R_aspect", ...q.pairs.map((p) => diff(p.rAspect))],
        ["F1", ...q.pairs.map((p) => diff(p.f1))],
      ],
    },
    correlations: {
      head: ["aspect", "r with EM (point-biserial)", "r with F1"],
      rows: q.correlations.map((c) => [c.aspect, corr(c.em), corr(c.f1)]),
    },
  };
}

const side = (label: string, s: RationaleExample["kd"]) =>
  `${label}: answer "${s.answer}" (${s.em ? "right" : "wrong"}), R_aspect ${s.rAspect === null ? "–" : s.rAspect.toFixed(2)}; rationale: ${s.rationale}`;

const mdTable = ({ head, rows }: { head: string[]; rows: string[][] }) =>
  [head, head.map((_, i) => (i ? "---:" : "---")), ...rows].map((r) => `| ${r.map(md).join(" | ")} |`);

/** The rationale-quality section of report.md. */
export function rationaleQualityMarkdown(q: RationaleQuality): string {
  const t = tables(q);
  const out = [`## ${TITLE}`, "", INTRO, ""];
  if (q.note) out.push(`> ${q.note}`, "");
  out.push(...mdTable(t.cells), "", "### KD vs KD+RL (paired, Δ = KD+RL − KD)", "");
  out.push(...(q.pairs.length ? mdTable(t.pairs) : ["No KD vs KD+RL pair in this run."]), "");
  out.push("### Which aspects go with a correct answer", "", ...mdTable(t.correlations), "");
  out.push(`- **${q.claim.claim}** — ${q.claim.verdict}. ${md(q.claim.evidence)}`, "");
  out.push("### Where RL changed the answer", "");
  if (q.examples.length === 0) out.push("RL changed no answer (by EM) on the scored questions.");
  for (const e of q.examples)
    out.push(
      `- **${e.change}** — ${md(e.question)} (gold: ${md(e.gold)})`,
      `  - ${md(side("KD", e.kd))}`,
      `  - ${md(side("KD+RL", e.rl))}`,
    );
  out.push("");
  return out.join("\n");
}

/** The same section as HTML; `esc` is the report writer's escaping, applied to every value. */
export function rationaleQualityHtml(q: RationaleQuality, esc: (s: string) => string): string {
  const t = tables(q);
  const table = (id: string, { head, rows }: { head: string[]; rows: string[][] }) =>
    `<table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
      .map((r) => `<tr>${r.map((v, i) => `<td${i ? ' class="num"' : ""}>${esc(v)}</td>`).join("")}</tr>`)
      .join("")}</tbody></table>`;
  const examples = q.examples
    .map(
      (e) =>
        `<tr><td>${esc(e.change)}</td><td>${esc(e.question)}<br><small>gold: ${esc(e.gold)}</small></td><td class="rationale">${esc(side("KD", e.kd))}</td><td class="rationale">${esc(side("KD+RL", e.rl))}</td></tr>`,
    )
    .join("");
  return `<section id="rationale-quality"><h2>${esc(TITLE)}</h2><p>${esc(INTRO)}</p>${q.note ? `<p class="note">${esc(q.note)}</p>` : ""}
${table("rq-cells", t.cells)}
<h3>KD vs KD+RL (paired, Δ = KD+RL − KD)</h3>${q.pairs.length ? table("rq-pairs", t.pairs) : "<p>No KD vs KD+RL pair in this run.</p>"}
<h3>Which aspects go with a correct answer</h3>${table("rq-correlations", t.correlations)}
<table id="rq-claim"><tbody><tr><td>${esc(q.claim.claim)}</td><td class="verdict">${esc(q.claim.verdict)}</td><td>${esc(q.claim.evidence)}</td></tr></tbody></table>
<h3>Where RL changed the answer</h3><table id="rq-examples"><thead><tr><th>change</th><th>question</th><th>KD</th><th>KD+RL</th></tr></thead><tbody>${examples || '<tr><td colspan="4">RL changed no answer (by EM) on the scored questions.</td></tr>'}</tbody></table></section>`;
}
