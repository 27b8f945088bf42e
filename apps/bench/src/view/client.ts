/** The viewer page's script: plain browser JavaScript (no template literals inside, so it sits in String.raw). */
export const CLIENT = String.raw`
"use strict";
(function () {
  var D = window.LMCOT_DATA;
  var FLAGS = D.flags;
  var items = D.items;
  var cols = D.columns;
  var ROW = 28;
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (s) {
    return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  };
  var hay = items.map(function (it) {
    return (it.question + "\u0001" + it.gold.join("\u0001") + "\u0001" + it.answer.join("\u0001") + "\u0001" + it.id).toLowerCase();
  });
  var view = [];
  var sortKey = null;
  var sortDir = 1;
  var sel = 0;
  var details = window.LMCOT_DETAILS || null;
  var opened = -1;

  // Header, filters and column template.
  var template = "minmax(260px,1fr) 160px 100px 70px" + cols.map(function () { return " 120px"; }).join("");
  document.documentElement.style.setProperty("--cols", template);
  var heads = [["question", "question"], ["gold", "gold"], ["type", "type"], ["ctx", "context"]]
    .concat(cols.map(function (c, i) { return [String(i), c.label]; }));
  $("head").innerHTML = heads.map(function (h) {
    return '<div class="h" role="columnheader" data-sort="' + h[0] + '" title="sort by ' + esc(h[1]) + '">' + esc(h[1]) + '<span class="dir"></span></div>';
  }).join("");
  var typeSel = $("type");
  D.types.forEach(function (t) { var o = document.createElement("option"); o.value = t; o.textContent = t; typeSel.appendChild(o); });
  if (D.runs.length < 2) Array.prototype.forEach.call(document.querySelectorAll("option.two-runs"), function (o) { o.remove(); });
  $("runs").textContent = D.runs.map(function (r) { return r.label; }).join("  vs  ");
  var failures = D.runs.reduce(function (n, r) { return n + r.failures.length; }, 0);
  $("show-failures").textContent = "failures (" + failures + ")";

  function keyOf(i) {
    var it = items[i];
    if (sortKey === "question") return it.question.toLowerCase();
    if (sortKey === "gold") return (it.gold[0] || "").toLowerCase();
    if (sortKey === "type") return it.type || "";
    if (sortKey === "ctx") return it.contextChars;
    var v = it.f1[+sortKey];
    return v === null ? -1 : v;
  }

  function applyFilters() {
    var flag = FLAGS[$("flag").value] || 0;
    var type = typeSel.value;
    var min = $("ctxmin").value === "" ? -Infinity : +$("ctxmin").value;
    var max = $("ctxmax").value === "" ? Infinity : +$("ctxmax").value;
    var q = $("search").value.trim().toLowerCase();
    var out = [];
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      if (flag && !(it.flags & flag)) continue;
      if (type && it.type !== type) continue;
      if (it.contextChars < min || it.contextChars > max) continue;
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
    $("count").textContent = view.length + " of " + items.length + " questions";
    $("spacer").style.height = view.length * ROW + "px";
    render();
  }

  function cellHtml(it, c) {
    var f = it.f1[c];
    if (f === null) return '<div class="c na">–</div>';
    var ok = it.em[c] === 1;
    return '<div class="c ' + (ok ? "ok" : f > 0 ? "part" : "bad") + '" title="' + esc(it.answer[c] || "") + '">' + (ok ? "✓" : "✗") + " " + f.toFixed(2) + "</div>";
  }

  function render() {
    var scroll = $("scroll");
    var first = Math.max(0, Math.floor(scroll.scrollTop / ROW) - 5);
    var last = Math.min(view.length, first + Math.ceil(scroll.clientHeight / ROW) + 10);
    var html = "";
    for (var k = first; k < last; k++) {
      var i = view[k];
      var it = items[i];
      html += '<div class="row' + (k === sel ? " sel" : "") + '" role="row" data-k="' + k + '" style="transform:translateY(' + k * ROW + 'px)">' +
        '<div class="q">' + esc(it.question) + "</div><div>" + esc(it.gold.join(" | ")) + "</div><div>" + esc(it.type || "") + '</div><div class="n">' + it.contextChars + "</div>";
      for (var c = 0; c < cols.length; c++) html += cellHtml(it, c);
      html += "</div>";
    }
    $("rows").innerHTML = html;
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

  function hashOf(i) { return "#item=" + encodeURIComponent(items[i].dataset) + "/" + encodeURIComponent(items[i].id); }

  function contextHtml(ctx) {
    var facts = new Set((ctx.supportingFacts || []).map(function (f) { return f.title + "\u0000" + f.sentence; }));
    return ctx.paragraphs.map(function (p) {
      return '<div class="para"><b>' + esc(p.title) + "</b> " + p.sentences.map(function (s, j) {
        return facts.has(p.title + "\u0000" + j) ? '<mark class="fact">' + esc(s) + "</mark>" : esc(s);
      }).join("") + "</div>";
    }).join("");
  }

  function promptHtml(p, ctxChars) {
    var usage = p.usage ? " · " + p.usage.inputTokens + " in / " + p.usage.outputTokens + " out tokens" +
      (p.usage.reasoningTokens ? " (" + p.usage.reasoningTokens + " reasoning)" : "") : "";
    var prompt = p.prompt.split("{{context}}").join("[the context above, " + ctxChars + " characters]");
    return '<details class="call"><summary>' + esc(p.step) + " · " + esc(p.model) + usage + "</summary>" +
      (p.system ? "<h5>system</h5><pre>" + esc(p.system) + "</pre>" : "") +
      "<h5>prompt</h5><pre>" + esc(prompt) + "</pre>" +
      (p.reasoning ? '<h5>reasoning</h5><pre class="reasoning">' + esc(p.reasoning) + "</pre>" : "") +
      '<h5>raw output</h5><pre class="raw">' + esc(p.output) + "</pre></details>";
  }

  function rewardHtml(r) {
    if (!r) return "";
    var parts = Object.keys(r.aspects || {}).map(function (k) { var v = r.aspects[k]; return esc(k) + " " + (v === null ? "–" : v.toFixed(2)); });
    return '<div class="reward">reward ' + r.reward.toFixed(3) + (r.taskReward != null ? " · task " + r.taskReward.toFixed(2) : "") +
      (r.aspectReward != null ? " · aspects " + r.aspectReward.toFixed(3) : "") + (parts.length ? " (" + parts.join(", ") + ")" : "") + "</div>";
  }

  function openItem(i) {
    opened = i;
    var it = items[i];
    var d = details && details[i];
    var html = '<button id="close" title="close (Esc)">×</button><h2>' + esc(it.question) + "</h2>" +
      '<p class="meta">' + esc(it.dataset) + " · " + esc(it.id) + (it.type ? " · " + esc(it.type) : "") + " · gold: <b>" + esc(it.gold.join(" | ")) + "</b></p>";
    if (!details) html += '<p class="meta" id="loading">loading details…</p>';
    html += '<div class="methods">';
    cols.forEach(function (c, j) {
      if (it.f1[j] === null) return;
      var cd = d && d.cells[j];
      html += '<section class="method" data-col="' + j + '"><h3>' + esc(c.label) + ' <span class="' + (it.em[j] === 1 ? "ok" : "bad") + '">' + (it.em[j] === 1 ? "✓" : "✗") + " F1 " + it.f1[j].toFixed(2) + "</span></h3>" +
        '<p>answer: <b class="answer">' + esc(it.answer[j]) + "</b></p>";
      if (cd) {
        if (cd.rationale !== undefined) html += '<h4>rationale</h4><p class="rationale">' + esc(cd.rationale) + "</p>";
        if (cd.samples) html += '<h4>self-consistency samples</h4><ol class="samples">' + cd.samples.map(function (x) { return "<li>" + esc(x.rationale) + " → <b>" + esc(x.answer) + "</b></li>"; }).join("") + "</ol>";
        html += rewardHtml(cd.reward);
        html += '<p class="meta">large ' + cd.usage.inputTokens + " in / " + cd.usage.outputTokens + " out tokens" +
          (cd.usage.reasoningTokens ? " (" + cd.usage.reasoningTokens + " reasoning)" : "") +
          (cd.usage.smallOutputTokens !== undefined ? " · small " + (cd.usage.smallInputTokens || 0) + " in / " + cd.usage.smallOutputTokens + " out" : "") +
          " · $" + cd.costUsd.toFixed(5) + " · " + Math.round(cd.latencyMs) + " ms" + (cd.cached ? " · cached" : "") + "</p>";
        (cd.prompts || []).forEach(function (p) { html += promptHtml(p, it.contextChars); });
      }
      html += "</section>";
    });
    html += "</div>";
    if (d && d.context) html += '<h3>context <small>(supporting facts highlighted)</small></h3><div id="context">' + contextHtml(d.context) + "</div>";
    var panel = $("item");
    panel.innerHTML = html;
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
    for (var i = 0; i < items.length; i++) if (items[i].dataset === ds && items[i].id === id) {
      var k = view.indexOf(i);
      if (k >= 0) select(k, true);
      return openItem(i);
    }
  }

  function showFailures() {
    var rows = "";
    D.runs.forEach(function (r) {
      r.failures.forEach(function (f) {
        rows += "<tr><td>" + esc(r.label) + "</td><td>" + esc(f.cell || "") + "</td><td>" + esc(f.key) + "</td><td>" + esc(f.errorClass) + "</td><td>" + esc(f.status == null ? "" : f.status) + "</td><td>" + esc(f.message || "") + "</td></tr>";
      });
    });
    var panel = $("failures");
    panel.innerHTML = '<button id="close-failures">×</button><h2>Failures</h2>' + (rows ? "<table><thead><tr><th>run</th><th>cell</th><th>key</th><th>class</th><th>status</th><th>message</th></tr></thead><tbody>" + rows + "</tbody></table>" : "<p>No failed items.</p>") + runInfoHtml();
    panel.hidden = !panel.hidden;
    $("close-failures").onclick = function () { panel.hidden = true; };
  }

  function runInfoHtml() {
    return D.runs.map(function (r) {
      return "<h3>" + esc(r.label) + "</h3><p class=\"meta\">" + esc(r.dir) + (r.rewards ? " · rewards found" : "") + "</p>" + (r.info ? "<pre>" + esc(JSON.stringify(r.info, null, 2)) + "</pre>" : "<p>No run-info.json (an older run).</p>");
    }).join("");
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
  // The details (contexts, prompts, raw replies) load after the matrix has painted.
  if (!details) {
    var s = document.createElement("script");
    s.src = "details.js";
    s.onload = function () {
      details = window.LMCOT_DETAILS;
      document.body.setAttribute("data-details", "loaded");
      if (opened >= 0) openItem(opened);
    };
    requestAnimationFrame(function () { setTimeout(function () { document.body.appendChild(s); }, 0); });
  }
})();
`;
