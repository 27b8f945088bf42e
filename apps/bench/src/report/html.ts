import { contentSecurityPolicy, cspHash, escapeHtml, Html, html } from "../html";
import {
  type CellSummary,
  cellLabel,
  coverage,
  failureNote,
  listedNote,
  type ReportData,
  scoreText,
} from "./data";
import { runConfigRows, tokenHeaders, tokenRows } from "./facts";
import { rationaleQualityHtml } from "./rationale-quality-render";

const pct = (x: number) => (100 * x).toFixed(1);
const COLORS = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d"];
const color = (i: number) => COLORS[i % COLORS.length];
const name = (c: CellSummary) => `${cellLabel(c.cell)} · ${c.cell.dataset}`;

/** Grouped bar chart of F1 (with CI whiskers) and EM per cell, grouped by dataset. */
function barChart(cells: CellSummary[]) {
  const width = 760;
  const rowH = 26;
  const left = 260;
  const h = cells.length * rowH + 40;
  const x = (v: number) => left + v * (width - left - 20);
  const bars = cells.map((c, i) => {
    const y = 20 + i * rowH;
    return html`<g><text x="${left - 8}" y="${y + 15}" text-anchor="end">${name(c)}</text>
<rect class="bar f1" x="${left}" y="${y + 2}" width="${x(c.f1.mean) - left}" height="10" fill="${color(i)}"><title>F1 ${pct(c.f1.mean)}% [${pct(c.f1.low)}, ${pct(c.f1.high)}]</title></rect>
<line x1="${x(c.f1.low)}" x2="${x(c.f1.high)}" y1="${y + 7}" y2="${y + 7}" stroke="#111" stroke-width="1.5"/>
<rect class="bar em" x="${left}" y="${y + 13}" width="${x(c.em.mean) - left}" height="7" fill="${color(i)}" opacity="0.45"><title>EM ${pct(c.em.mean)}%</title></rect></g>\n`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(
    (t) =>
      html`<line x1="${x(t)}" x2="${x(t)}" y1="15" y2="${h - 20}" stroke="#e5e7eb"/><text x="${x(t)}" y="${h - 6}" text-anchor="middle">${t * 100}%</text>`,
  );
  return html`<svg id="chart-scores" role="img" aria-label="F1 and EM per method" viewBox="0 0 ${width} ${h}" width="100%">${ticks}${bars}</svg>`;
}

/** Accuracy (F1) against cost per 100 questions. */
function costChart(cells: CellSummary[]) {
  const w = 520;
  const h = 300;
  const maxCost = Math.max(1e-9, ...cells.map((c) => c.costPer100));
  const free = cells.every((c) => c.costPer100 === 0);
  const x = (v: number) => 50 + (v / maxCost) * (w - 80);
  const y = (v: number) => h - 40 - v * (h - 70);
  const text = (c: CellSummary) => `${name(c)}: F1 ${pct(c.f1.mean)}%, $${c.costPer100.toFixed(4)} / 100 q`;
  const points = cells.map(
    (c, i) =>
      html`<g class="point"><circle cx="${x(c.costPer100)}" cy="${y(c.f1.mean)}" r="6" fill="${color(i)}" fill-opacity="0.8"><title>${text(c)}</title></circle></g>`,
  );
  // Labels go in a legend, one line each, so they never overlap however close the points are.
  const legend = cells.map(
    (c, i) =>
      html`<g class="legend"><rect x="50" y="${h + 6 + i * 16}" width="10" height="10" fill="${color(i)}"/><text x="66" y="${h + 15 + i * 16}">${text(c)}</text></g>`,
  );
  const height = h + 12 + cells.length * 16;
  const note =
    free &&
    html`<text x="${w / 2}" y="40" text-anchor="middle">every cell cost $0 (offline models or cache hits)</text>`;
  return html`<svg id="chart-cost" class="narrow" role="img" aria-label="F1 against cost" viewBox="0 0 ${w} ${height}" width="100%">${note}
<line x1="50" x2="${w - 20}" y1="${h - 40}" y2="${h - 40}" stroke="#111"/><line x1="50" x2="50" y1="20" y2="${h - 40}" stroke="#111"/>
<text x="${w / 2}" y="${h - 8}" text-anchor="middle">cost per 100 questions (USD, max $${maxCost.toFixed(4)})</text>
<text x="14" y="${h / 2}" transform="rotate(-90 14 ${h / 2})" text-anchor="middle">F1</text>
<text x="44" y="${y(1) + 4}" text-anchor="end">100%</text><text x="44" y="${y(0) + 4}" text-anchor="end">0%</text>${points}${legend}</svg>`;
}

/** Histogram of rationale lengths in words, one row per cell that has rationales. */
function lengthChart(cells: CellSummary[]) {
  const withRationales = cells.filter((c) => c.rationaleWords.length);
  if (!withRationales.length) return html`<p>No rationales in this run.</p>`;
  // A loop, not Math.max(...words): a full-dev grid has hundreds of thousands of rationales.
  const max = withRationales.reduce(
    (m, c) => c.rationaleWords.reduce((x, w) => Math.max(x, w), m),
    -Infinity,
  );
  const bins = 12;
  const size = Math.max(1, Math.ceil((max + 1) / bins));
  return withRationales.map((c, i) => {
    const counts = Array.from({ length: bins }, () => 0);
    for (const wds of c.rationaleWords) counts[Math.min(bins - 1, Math.floor(wds / size))]!++;
    const peak = Math.max(...counts);
    const bars = counts.map(
      (n, b) =>
        html`<rect x="${10 + b * 30}" y="${90 - (70 * n) / peak}" width="26" height="${(70 * n) / peak}" fill="${color(i)}"><title>${b * size}–${(b + 1) * size - 1} words: ${n}</title></rect><text x="${23 + b * 30}" y="104" text-anchor="middle" font-size="9">${b * size}</text>`,
    );
    return html`<figure><figcaption>${name(c)}</figcaption><svg class="hist" viewBox="0 0 380 110" width="380">${bars}</svg></figure>`;
  });
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#111;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:24px}h1{margin:0 0 4px}section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px 20px;margin:16px 0}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #eee;padding:5px 8px;text-align:left;vertical-align:top}th{background:#f3f4f6}#examples th{position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}.note{background:#fff7ed;border-color:#fdba74}.ok{color:#15803d}.bad{color:#b91c1c}
svg text{font-size:11px;fill:#333}figure{display:inline-block;margin:6px 12px}figcaption{font-size:12px}.controls{display:flex;gap:8px;margin-bottom:8px;flex-wrap:wrap}
#examples td.rationale{max-width:380px;color:#444}.verdict{font-weight:600}svg.narrow{max-width:640px}.scroll{max-height:520px;overflow:auto}`;

const SCRIPT = `const rows=[...document.querySelectorAll('#examples tbody tr')];const q=document.getElementById('filter');const cell=document.getElementById('cell');const wrong=document.getElementById('wrong');const count=document.getElementById('count');
function apply(){const t=q.value.toLowerCase();let n=0;for(const r of rows){const show=(!t||r.textContent.toLowerCase().includes(t))&&(!cell.value||r.dataset.cell===cell.value)&&(!wrong.checked||r.dataset.correct==='0');r.hidden=!show;if(show)n++;}count.textContent=n+' shown';}
q.addEventListener('input',apply);cell.addEventListener('change',apply);wrong.addEventListener('change',apply);apply();`;

/** The report's policy: its one inline script and its one style sheet, nothing else. */
export const REPORT_CSP = contentSecurityPolicy({ script: [cspHash(SCRIPT)], style: [cspHash(CSS)] });

function batchesSection(data: ReportData) {
  if (!data.batches) return "";
  const rows = data.batches.map(
    (b) =>
      html`<tr><td><code>${b.batch}</code></td><td>${b.model}</td><td class="num">${b.requests}</td><td>${b.status}</td><td class="num">${b.succeeded}</td><td class="num">${b.failed}</td></tr>`,
  );
  return html`<section id="batches"><h2>Batches</h2><p>Large-LM calls sent as provider batches, at batch prices.</p><table><thead><tr><th>batch</th><th>model</th><th>requests</th><th>status</th><th>succeeded</th><th>failed</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function failuresSection(data: ReportData) {
  const note = failureNote(data);
  if (!note) return "";
  const rows = data.failures.byClass.map(
    (f) =>
      html`<tr><td>${f.errorClass}${f.status !== undefined && ` (HTTP ${f.status})`}</td><td class="num">${f.count}</td><td>${f.firstMessage}</td><td>${f.fix}</td></tr>`,
  );
  return html`<section class="note" id="failures"><h2>Failures</h2><p>${note}</p><table><thead><tr><th>error class</th><th>count</th><th>first message</th><th>fix</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

/** One self-contained HTML file: inline CSS, inline SVG charts, a few lines of JS; no network. */
export function renderHtml(data: ReportData): string {
  const cellsTable = data.cells.map(
    (c) =>
      html`<tr><td>${cellLabel(c.cell)}</td><td>${c.cell.dataset}</td><td>${c.cell.large}</td><td class="num${c.expected !== undefined && c.n < c.expected ? " bad" : ""}">${coverage(c)}</td><td class="num">${scoreText(c, "em")}</td><td class="num">${scoreText(c, "f1")}</td><td class="num">$${c.costPer100.toFixed(4)}</td><td class="num">${c.latencyPer100s.toFixed(2)} s</td><td class="num">${c.cacheHits}</td></tr>`,
  );
  const comparisons = data.comparisons
    .filter((c) => c.metric === "f1")
    .map(
      (c) =>
        html`<tr><td>${c.dataset}</td><td>${c.guided} vs ${c.baseline}</td><td class="num">${c.n}</td><td class="num ${c.test.meanDiff >= 0 ? "ok" : "bad"}">${pct(c.test.meanDiff)}</td><td class="num">[${pct(c.test.ci.low)}, ${pct(c.test.ci.high)}]</td><td class="num">${c.test.pValue.toFixed(3)}</td><td class="num">${c.longContext ? pct(c.longContext.meanDiff) : "–"}</td></tr>`,
    );
  const types = [...new Set(data.cells.flatMap((c) => Object.keys(c.byType)))].sort();
  const typeRows = data.cells.map(
    (c) =>
      html`<tr><td>${name(c)}</td>${types.map((t) => {
        const byType = c.byType[t];
        return html`<td class="num">${byType ? html`${pct(byType.f1.mean)} <small>(n=${byType.n})</small>` : "–"}</td>`;
      })}</tr>`,
  );
  const cellIds = [...new Set(data.examples.map((e) => e.cell.id))];
  const examples = data.examples.map(
    (e) =>
      html`<tr data-cell="${e.cell.id}" data-correct="${e.em === 1 ? 1 : 0}"><td>${e.cell.id}</td><td>${e.question}</td><td class="rationale">${e.rationale}</td><td>${e.answer}</td><td>${e.gold[0]}</td><td class="num">${e.em === 1 ? html`<span class="ok">✓</span>` : html`<span class="bad">✗</span>`} ${pct(e.f1)}</td></tr>`,
  );
  return html`<!doctype html><html lang="en"><head><meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>lmcot benchmark report</title><style>${new Html(CSS)}</style></head><body><main>
<h1>lmcot benchmark report</h1><p>Run <code>${data.runDir}</code>, generated ${data.generatedAt}. LM-guided chain-of-thought (Lee et al., 2024, arXiv:2404.03414).</p>
<section><h2>Models</h2><ul>${data.models.map((m) => html`<li>${m.role} LM: <code>${m.id}</code>${m.offline && html` — <strong>offline stand-in</strong>`}</li>`)}</ul></section>
${data.offlineNote && html`<section class="note" id="offline-note"><strong>Offline stand-ins.</strong> ${data.offlineNote}</section>`}
<section><h2>EM and F1 per method × dataset</h2><table id="results"><thead><tr><th>method</th><th>dataset</th><th>large LM</th><th>n / expected</th><th>EM % [95% CI]</th><th>F1 % [95% CI]</th><th>cost / 100 q</th><th>latency / 100 q</th><th>cache hits</th></tr></thead><tbody>${cellsTable}</tbody></table>
<h3>F1 (bars, with 95% CI) and EM (pale bars)</h3>${barChart(data.cells.filter((c) => c.n))}</section>
${failuresSection(data)}
${batchesSection(data)}
<section><h2>The paper's claims in this run</h2><p>A claim is judged only on comparisons of at least ${data.minClaimN} questions.</p><table id="claims"><thead><tr><th>claim</th><th>verdict</th><th>evidence</th></tr></thead><tbody>${data.claims.map((c) => html`<tr><td>${c.claim}</td><td class="verdict">${c.verdict}</td><td>${c.evidence}</td></tr>`)}</tbody></table></section>
${data.rationaleQuality && new Html(rationaleQualityHtml(data.rationaleQuality, escapeHtml))}
<section id="tokens"><h2>Tokens per cell</h2><table><thead><tr>${tokenHeaders(data).map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${tokenRows(
    data,
  ).map(
    (r) => html`<tr>${r.map((v, i) => (i > 2 ? html`<td class="num">${v}</td>` : html`<td>${v}</td>`))}</tr>`,
  )}</tbody></table></section>
<section id="run-config"><h2>Run configuration</h2><table>${runConfigRows(data).map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table></section>
<section><h2>LM-guided CoT vs each baseline (F1, paired bootstrap)</h2><p>${data.statistics}</p><table id="comparisons"><thead><tr><th>dataset</th><th>comparison</th><th>n</th><th>Δ F1 (pts)</th><th>95% CI</th><th>p</th><th>Δ on long contexts</th></tr></thead><tbody>${comparisons.length ? comparisons : html`<tr><td colspan="7">No comparisons in this run.</td></tr>`}</tbody></table></section>
<section><h2>Accuracy against cost</h2>${costChart(data.cells.filter((c) => c.n))}</section>
<section><h2>By question type (F1 %)</h2><table id="by-type"><thead><tr><th>cell</th>${types.map((t) => html`<th>${t}</th>`)}</tr></thead><tbody>${typeRows}</tbody></table></section>
<section><h2>Rationale length (words)</h2>${lengthChart(data.cells)}</section>
<section><h2>Examples</h2>${listedNote(data) && html`<p id="listed">${listedNote(data)}</p>`}<div class="controls"><input id="filter" type="search" placeholder="filter by text"><select id="cell"><option value="">all cells</option>${cellIds.map((id) => html`<option>${id}</option>`)}</select><label><input id="wrong" type="checkbox"> wrong answers only</label><span id="count"></span></div>
<div class="scroll"><table id="examples"><thead><tr><th>cell</th><th>question</th><th>rationale</th><th>answer</th><th>gold</th><th>correct? / F1</th></tr></thead><tbody>${examples}</tbody></table></div></section>
</main><script>${new Html(SCRIPT)}</script></body></html>
`.text;
}
