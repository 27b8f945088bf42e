/** The viewer page's script: plain browser JavaScript (no template literals inside, so it sits in String.raw). */
export const CLIENT = String.raw`
"use strict";
(function () {
  var D = window.LMCOT_DATA;
  var FLAGS = D.flags;
  var N = D.n;
  var cols = D.columns;
  var ROW = 28;
  var $ = function (id) { return document.getElementById(id); };
  // The matrix comes as one array per field (see matrixPayload): these read one item's values.
  function f1Of(i, c) { var v = D.f1[c][i]; return v < 0 ? null : v / 10000; }
  function typeOf(i) { return D.type[i] < 0 ? "" : D.types[D.type[i]]; }
  function datasetOf(i) { return D.datasets[D.dataset[i]]; }
  // Markup is built only by h(): every value it fills in is escaped unless h() made it (the browser
  // twin of the html template the report is built with).
  function Markup(text) { this.text = text; }
  function piece(v) {
    if (v instanceof Markup) return v.text;
    if (Array.isArray(v)) return v.map(piece).join("");
    if (v === undefined || v === null || v === false) return "";
    return String(v).replace(/[&<>"'\u0060]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }
  function h(template) {
    var args = arguments, i = 0;
    return new Markup(template.replace(/\{\}/g, function () { return piece(args[++i]); }));
  }
  function fill(el, markup) { el.innerHTML = piece(markup); }
  // A number as text, whatever the value was (the data is validated; this keeps the page whole).
  function fixed(v, digits) { return Number(v).toFixed(digits); }
  var hay = new Array(N);
  for (var hi = 0; hi < N; hi++) {
    var text = D.question[hi] + "\u0001" + D.gold[hi].join("\u0001") + "\u0001" + D.id[hi];
    for (var hc = 0; hc < cols.length; hc++) if (D.answer[hc][hi] !== null) text += "\u0001" + D.answer[hc][hi];
    hay[hi] = text.toLowerCase();
  }
  var view = [];
  var sortKey = null;
  var sortDir = 1;
  var sel = 0;
  // Item details (context, prompts, raw replies) load one item at a time: items/<i>.js calls LMCOT_ITEM.
  var details = {};
  var opened = -1;
  window.LMCOT_ITEM = function (i, d) {
    details[i] = d;
    document.body.setAttribute("data-item-loaded", String(i));
    if (opened === i) openItem(i);
  };
  function loadItem(i) {
    if (details[i] || document.getElementById("item-script-" + i)) return;
    var s = document.createElement("script");
    s.id = "item-script-" + i;
    s.src = "items/" + i + ".js";
    s.onerror = function () {
      s.remove();
      var note = $("loading");
      if (opened === i && note) note.textContent = "the details could not be read (the viewer's terminal or " + s.src + " says why)";
    };
    document.body.appendChild(s);
  }

  // Header, filters and column template.
  var template = "minmax(260px,1fr) 160px 100px 70px" + cols.map(function () { return " 120px"; }).join("");
  document.documentElement.style.setProperty("--cols", template);
  var heads = [["question", "question"], ["gold", "gold"], ["type", "type"], ["ctx", "context"]]
    .concat(cols.map(function (c, i) { return [String(i), c.label]; }));
  fill($("head"), heads.map(function (x) {
    return h('<div class="h" role="columnheader" data-sort="{}" title="sort by {}">{}<span class="dir"></span></div>', x[0], x[1], x[1]);
  }));
  var typeSel = $("type");
  D.types.forEach(function (t) { var o = document.createElement("option"); o.value = t; o.textContent = t; typeSel.appendChild(o); });
  if (D.runs.length < 2) Array.prototype.forEach.call(document.querySelectorAll("option.two-runs"), function (o) { o.remove(); });
  $("runs").textContent = D.runs.map(function (r) { return r.label; }).join("  vs  ");
  var failures = D.runs.reduce(function (n, r) { return n + r.failures.length; }, 0);
  $("show-failures").textContent = "failures (" + failures + ")";

  function keyOf(i) {
    if (sortKey === "question") return D.question[i].toLowerCase();
    if (sortKey === "gold") return (D.gold[i][0] || "").toLowerCase();
    if (sortKey === "type") return typeOf(i);
    if (sortKey === "ctx") return D.contextChars[i];
    var v = D.f1[+sortKey][i];
    return v < 0 ? -1 : v;
  }

  function applyFilters() {
    var flag = FLAGS[$("flag").value] || 0;
    var type = typeSel.value;
    var min = $("ctxmin").value === "" ? -Infinity : +$("ctxmin").value;
    var max = $("ctxmax").value === "" ? Infinity : +$("ctxmax").value;
    var q = $("search").value.trim().toLowerCase();
    var out = [];
    var typeIndex = type ? D.types.indexOf(type) : -2;
    for (var i = 0; i < N; i++) {
      if (flag && !(D.itemFlags[i] & flag)) continue;
      if (type && D.type[i] !== typeIndex) continue;
      if (D.contextChars[i] < min || D.contextChars[i] > max) continue;
      if (q && hay[i].indexOf(q) < 0) continue;
      out.push(i);
    }
    if (sortKey !== null) {
      var keys = new Map();
      out.forEach(function (i) { keys.set(i, keyOf(i)); });
      out.sort(function (a, b) {
        var x = keys.get(a), y = keys.get(b);
        return (x < y ? -1 : x > y ? 1 : a - b) * sortDir;
      });
    }
    view = out;
    sel = Math.min(sel, Math.max(0, view.length - 1));
    $("count").textContent = view.length + " of " + N + " questions";
    $("spacer").style.height = view.length * ROW + "px";
    render();
  }

  function cellHtml(i, c) {
    var f = f1Of(i, c);
    if (f === null) return h('<div class="c na">–</div>');
    var ok = D.em[c][i] === 1;
    return h('<div class="c {}" title="{}">{} {}</div>', ok ? "ok" : f > 0 ? "part" : "bad", D.answer[c][i] || "", ok ? "✓" : "✗", fixed(f, 2));
  }

  function render() {
    var scroll = $("scroll");
    var first = Math.max(0, Math.floor(scroll.scrollTop / ROW) - 5);
    var last = Math.min(view.length, first + Math.ceil(scroll.clientHeight / ROW) + 10);
    var rows = [];
    for (var k = first; k < last; k++) {
      var i = view[k];
      rows.push(h('<div class="row{}" role="row" data-k="{}"><div class="q">{}</div><div>{}</div><div>{}</div><div class="n">{}</div>{}</div>',
        k === sel ? " sel" : "", k, D.question[i], D.gold[i].join(" | "), typeOf(i), D.contextChars[i],
        cols.map(function (_, c) { return cellHtml(i, c); })));
    }
    var box = $("rows");
    fill(box, rows);
    // Placed through the style object: the page's CSP allows no inline style attributes.
    for (var j = 0; j < box.children.length; j++) box.children[j].style.transform = "translateY(" + (first + j) * ROW + "px)";
  }

  function select(k, reveal) {
    if (!view.length) return;
    sel = Math.max(0, Math.min(view.length - 1, k));
    var scroll = $("scroll");
    if (reveal) {
      var top = sel * ROW;
      if (top < scroll.scrollTop) scroll.scrollTop = top;
      else if (top + ROW > scroll.scrollTop + scroll.clientHeight) scroll.scrollTop = top + ROW - scroll.clientHeight;
    }
    render();
  }

  function hashOf(i) { return "#item=" + encodeURIComponent(datasetOf(i)) + "/" + encodeURIComponent(D.id[i]); }

  function contextHtml(ctx) {
    var facts = new Set((ctx.supportingFacts || []).map(function (f) { return f.title + "\u0000" + f.sentence; }));
    return ctx.paragraphs.map(function (p) {
      return h('<div class="para"><b>{}</b> {}</div>', p.title, p.sentences.map(function (s, j) {
        return facts.has(p.title + "\u0000" + j) ? h('<mark class="fact">{}</mark>', s) : s;
      }));
    });
  }

  function promptHtml(p, ctxChars) {
    var usage = p.usage ? " · " + p.usage.inputTokens + " in / " + p.usage.outputTokens + " out tokens" +
      (p.usage.reasoningTokens ? " (" + p.usage.reasoningTokens + " reasoning)" : "") : "";
    var prompt = String(p.prompt).split("{{context}}").join("[the context above, " + ctxChars + " characters]");
    return h('<details class="call"><summary>{} · {}{}</summary>{}<h5>prompt</h5><pre>{}</pre>{}<h5>raw output</h5><pre class="raw">{}</pre></details>',
      p.step, p.model, usage,
      p.system && h("<h5>system</h5><pre>{}</pre>", p.system),
      prompt,
      p.reasoning && h('<h5>reasoning</h5><pre class="reasoning">{}</pre>', p.reasoning),
      p.output);
  }

  function rewardHtml(r) {
    if (!r) return "";
    var parts = Object.keys(r.aspects || {}).map(function (k) { var v = r.aspects[k]; return k + " " + (v === null ? "–" : fixed(v, 2)); });
    return h('<div class="reward">reward {}{}{}{}</div>', r.reward === null ? "–" : fixed(r.reward, 3),
      r.taskReward != null ? " · task " + fixed(r.taskReward, 2) : "",
      r.aspectReward != null ? " · aspects " + fixed(r.aspectReward, 3) : "",
      parts.length ? " (" + parts.join(", ") + ")" : "");
  }

  function cellDetailHtml(cd, i) {
    var u = cd.usage;
    var meta = "large " + u.inputTokens + " in / " + u.outputTokens + " out tokens" +
      (u.reasoningTokens ? " (" + u.reasoningTokens + " reasoning)" : "") +
      (u.smallOutputTokens !== undefined ? " · small " + (u.smallInputTokens || 0) + " in / " + u.smallOutputTokens + " out" : "") +
      " · $" + fixed(cd.costUsd, 5) + " · " + Math.round(cd.latencyMs) + " ms" + (cd.cached ? " · cached" : "");
    return h('{}{}{}<p class="meta">{}</p>{}',
      cd.rationale !== undefined && h('<h4>rationale</h4><p class="rationale">{}</p>', cd.rationale),
      cd.samples && h('<h4>self-consistency samples</h4><ol class="samples">{}</ol>', cd.samples.map(function (x) { return h("<li>{} → <b>{}</b></li>", x.rationale, x.answer); })),
      rewardHtml(cd.reward), meta,
      (cd.prompts || []).map(function (p) { return promptHtml(p, D.contextChars[i]); }));
  }

  function openItem(i) {
    opened = i;
    var d = details[i];
    if (!d) loadItem(i);
    var methods = cols.map(function (c, j) {
      var f = f1Of(i, j);
      if (f === null) return "";
      var cd = d && d.cells[j];
      var ok = D.em[j][i] === 1;
      return h('<section class="method" data-col="{}"><h3>{} <span class="{}">{} F1 {}</span></h3><p>answer: <b class="answer">{}</b></p>{}</section>',
        j, c.label, ok ? "ok" : "bad", ok ? "✓" : "✗", fixed(f, 2), D.answer[j][i], cd && cellDetailHtml(cd, i));
    });
    var type = typeOf(i);
    var html = h('<button id="close" title="close (Esc)">×</button><h2>{}</h2><p class="meta">{} · {}{} · gold: <b>{}</b></p>{}<div class="methods">{}</div>{}',
      D.question[i], datasetOf(i), D.id[i], type && " · " + type, D.gold[i].join(" | "),
      !d && h('<p class="meta" id="loading">loading details…</p>'),
      methods,
      d && d.context && h('<h3>context <small>(supporting facts highlighted)</small></h3><div id="context">{}</div>', contextHtml(d.context)));
    var panel = $("item");
    fill(panel, html);
    panel.hidden = false;
    panel.scrollTop = 0;
    $("close").onclick = closeItem;
    if (location.hash !== hashOf(i)) history.replaceState(null, "", hashOf(i));
  }

  function closeItem() {
    opened = -1;
    $("item").hidden = true;
    history.replaceState(null, "", location.pathname + location.search);
  }

  function fromHash() {
    var m = /^#item=([^/]*)\/(.*)$/.exec(location.hash);
    if (!m) return;
    var ds = decodeURIComponent(m[1]), id = decodeURIComponent(m[2]);
    for (var i = 0; i < N; i++) if (datasetOf(i) === ds && D.id[i] === id) {
      var k = view.indexOf(i);
      if (k >= 0) select(k, true);
      return openItem(i);
    }
  }

  function showFailures() {
    var rows = [];
    D.runs.forEach(function (r) {
      r.failures.forEach(function (f) {
        rows.push(h("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", r.label, f.cell, f.key, f.errorClass, f.status, f.message));
      });
    });
    var panel = $("failures");
    fill(panel, h('<button id="close-failures">×</button><h2>Failures</h2>{}{}',
      rows.length ? h("<table><thead><tr><th>run</th><th>cell</th><th>key</th><th>class</th><th>status</th><th>message</th></tr></thead><tbody>{}</tbody></table>", rows) : h("<p>No failed items.</p>"),
      runInfoHtml()));
    panel.hidden = !panel.hidden;
    $("close-failures").onclick = function () { panel.hidden = true; };
  }

  function runInfoHtml() {
    return D.runs.map(function (r) {
      return h('<h3>{}</h3><p class="meta">{}{}</p>{}', r.label, r.dir, r.rewards && " · rewards found",
        r.info ? h("<pre>{}</pre>", JSON.stringify(r.info, null, 2)) : h("<p>No run-info.json (an older run).</p>"));
    });
  }

  // Events.
  ["flag", "type", "ctxmin", "ctxmax", "search"].forEach(function (id) { $(id).addEventListener("input", applyFilters); });
  $("head").addEventListener("click", function (e) {
    var h = e.target.closest("[data-sort]");
    if (!h) return;
    var k = h.getAttribute("data-sort");
    sortDir = sortKey === k ? -sortDir : k === "question" || k === "gold" || k === "type" ? 1 : -1;
    sortKey = k;
    Array.prototype.forEach.call(document.querySelectorAll("#head .dir"), function (s) { s.textContent = ""; });
    h.querySelector(".dir").textContent = sortDir > 0 ? " ▲" : " ▼";
    applyFilters();
  });
  $("rows").addEventListener("click", function (e) {
    var r = e.target.closest(".row");
    if (!r) return;
    select(+r.getAttribute("data-k"));
    openItem(view[sel]);
  });
  $("scroll").addEventListener("scroll", function () { requestAnimationFrame(render); });
  $("show-failures").addEventListener("click", showFailures);
  window.addEventListener("hashchange", fromHash);
  document.addEventListener("keydown", function (e) {
    var typing = /INPUT|SELECT|TEXTAREA/.test(e.target.tagName);
    if (e.key === "Escape") { if (opened >= 0) closeItem(); else e.target.blur && e.target.blur(); return; }
    if (typing) return;
    if (e.key === "/") { e.preventDefault(); $("search").focus(); return; }
    var step = e.key === "ArrowDown" || e.key === "j" ? 1 : e.key === "ArrowUp" || e.key === "k" ? -1 : e.key === "PageDown" ? 20 : e.key === "PageUp" ? -20 : 0;
    if (step) {
      e.preventDefault();
      select(sel + step, true);
      if (opened >= 0) openItem(view[sel]);
      return;
    }
    if (e.key === "Enter" && view.length) openItem(view[sel]);
  });

  applyFilters();
  window.LMCOT_FIRST_PAINT_MS = performance.now();
  fromHash();
})();
`;
