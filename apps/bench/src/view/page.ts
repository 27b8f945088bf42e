import { contentSecurityPolicy, cspHash } from "../html";
import { CLIENT } from "./client";
import { buildViewData, FLAGS, type ViewData, type ViewIndex } from "./data";

const CSS = `
:root{font:13px/1.4 system-ui,sans-serif;color:#111;--cols:1fr}
body{margin:0;display:flex;flex-direction:column;height:100vh}
header{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:8px 12px;border-bottom:1px solid #ddd;background:#f8fafc}
header h1{font-size:15px;margin:0 8px 0 0}
header input,header select,header button{font:inherit;padding:3px 6px}
#runs,#count{color:#555}
#head,.row{display:grid;grid-template-columns:var(--cols);align-items:center}
#head{background:#f1f5f9;border-bottom:1px solid #ccc;font-weight:600;overflow:hidden;scrollbar-gutter:stable}
#head .h{padding:4px 6px;cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#scroll{flex:1;overflow:auto;position:relative;scrollbar-gutter:stable}
#spacer{position:relative}
.row{position:absolute;left:0;right:0;height:28px;border-bottom:1px solid #eee;cursor:pointer}
.row>div{padding:0 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.row.sel{background:#dbeafe}
.row:hover{background:#eff6ff}
.n{text-align:right;color:#555}
.c{text-align:center;font-variant-numeric:tabular-nums}
.ok{color:#15803d}.bad{color:#b91c1c}.part{color:#b45309}.na{color:#bbb}
#item,#failures{position:fixed;top:0;right:0;bottom:0;width:min(900px,92vw);overflow:auto;background:#fff;border-left:1px solid #ccc;box-shadow:-6px 0 18px #0002;padding:12px 20px}
#item h2{font-size:16px;margin:4px 28px 4px 0}
#close,#close-failures{position:absolute;top:8px;right:12px;font-size:20px;border:0;background:none;cursor:pointer}
.meta{color:#555}
.methods{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:10px}
.method{border:1px solid #e5e7eb;border-radius:6px;padding:6px 10px}
.method h3{font-size:13px;margin:2px 0}
pre{white-space:pre-wrap;background:#f8fafc;padding:6px;max-height:260px;overflow:auto}
pre.reasoning{background:#f5f3ff;color:#4c1d95}
mark.fact{background:#fde68a}
.para{margin:4px 0}
.reward{color:#6d28d9}
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
`;

/** The viewer's policy: its own scripts (data.js, items/<i>.js) and the inline client, its style sheet; nothing else. */
export const VIEW_CSP = contentSecurityPolicy({ script: ["'self'", cspHash(CLIENT)], style: [cspHash(CSS)] });

const HTML = `<!doctype html><html lang="en"><head><meta http-equiv="Content-Security-Policy" content="${VIEW_CSP}"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>lmcot view</title><link rel="icon" href="data:,"><style>${CSS}</style></head><body>
<header><h1>lmcot view</h1><span id="runs"></span>
<select id="flag" aria-label="show"><option value="">all questions</option>
<option value="fixedStandard">LM-guided fixed (vs standard)</option><option value="brokeStandard">LM-guided broke (vs standard)</option>
<option value="fixedCot">LM-guided fixed (vs CoT)</option><option value="brokeCot">LM-guided broke (vs CoT)</option>
<option value="wrongEverywhere">wrong everywhere</option><option value="rlRatedHigherWorse">RL rationale rated higher but the answer got worse</option>
<option class="two-runs" value="betterInB">B better than A</option><option class="two-runs" value="worseInB">B worse than A</option></select>
<select id="type" aria-label="question type"><option value="">every type</option></select>
<input id="ctxmin" type="number" min="0" placeholder="context ≥ chars" size="10"><input id="ctxmax" type="number" min="0" placeholder="context ≤ chars" size="10">
<input id="search" type="search" placeholder="search (/)" size="24">
<span id="count"></span><button id="show-failures">failures</button>
</header>
<div id="head" role="row"></div>
<div id="scroll" role="table"><div id="spacer"><div id="rows"></div></div></div>
<aside id="item" hidden></aside><aside id="failures" hidden></aside>
<script src="data.js"></script><script>__CLIENT__</script></body></html>
`;

/** A JSON value as a JavaScript expression (JSON.parse of a string parses faster than a literal); `<` escaped so nothing closes the tag. */
const jsonExpression = (value: unknown) =>
  `JSON.parse(${JSON.stringify(JSON.stringify(value))
    .replace(/</g, "\\u003c")
    .replace(/\u2028|\u2029/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)})`;

/**
 * The matrix as the page gets it: one array per field over the items (`f1` in units of 1e-4, -1 where
 * a column has no row for the item; `em` -1 there too), so 20,000 items × 18 columns stay a few MB.
 */
export function matrixPayload(data: ViewData) {
  const { items, columns } = data;
  const typeIndex = new Map(data.types.map((t, i) => [t, i]));
  const datasets = [...new Set(items.map((x) => x.dataset))];
  return {
    runs: data.runs,
    columns,
    types: data.types,
    flags: FLAGS,
    n: items.length,
    datasets,
    dataset: items.map((x) => datasets.indexOf(x.dataset)),
    id: items.map((x) => x.id),
    question: items.map((x) => x.question),
    gold: items.map((x) => x.gold),
    type: items.map((x) => (x.type === undefined ? -1 : (typeIndex.get(x.type) ?? -1))),
    contextChars: items.map((x) => x.contextChars),
    itemFlags: items.map((x) => x.flags),
    f1: columns.map((_, c) => items.map((x) => (x.f1[c] === null ? -1 : Math.round(10_000 * x.f1[c]!)))),
    em: columns.map((_, c) => items.map((x) => x.em[c] ?? -1)),
    answer: columns.map((_, c) => items.map((x) => x.answer[c] ?? null)),
  };
}

/** The viewer's pages: fixed files, and one script per item with its details, made when asked for. */
export interface ViewFiles {
  /** index.html and data.js (the matrix). */
  fixed: Map<string, string>;
  /** How many items there are: `items/<i>.js` for i below it. */
  items: number;
  /** `items/<i>.js`: calls `LMCOT_ITEM(i, details)`; read from the run files when asked for. */
  item(i: number): string;
}

/** The viewer's files over an index: the page, the matrix (data.js) and each item's details on demand. */
export function viewFiles(index: ViewIndex): ViewFiles {
  return {
    fixed: new Map([
      ["index.html", HTML.replace("__CLIENT__", () => CLIENT)],
      ["data.js", `window.LMCOT_DATA=${jsonExpression(matrixPayload(index.data))};\n`],
    ]),
    items: index.data.items.length,
    item: (i) => `window.LMCOT_ITEM(${i},${jsonExpression(index.detail(i))});\n`,
  };
}

/** Reads the run directories (streaming) and returns the viewer's files. */
export async function buildView(runDirs: string[]): Promise<ViewFiles> {
  return viewFiles(await buildViewData(runDirs));
}
