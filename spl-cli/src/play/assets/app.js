// spl play: the page. Sends the SPL and the sample to /api/run (debounced) and shows the
// diagnostics (squiggles at their spans), the stages with counts, each stage's rows, the
// outputs, the error stream and a row's trace. Words to highlight come from /api/vocabulary.
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
let vocab = { instructions: new Set(), keywords: new Set(), functions: new Set(), options: new Set() };
let last = null, selectedStage = null, timer = null, seq = 0;

function tokenClasses(text) {
  const cls = new Array(text.length).fill("");
  const re = /(--[^\n]*)|('(?:[^'\\]|\\.|'')*'?|"(?:[^"\\]|\\.)*"?)|(\b\d+(?:\.\d+)?\b)|(-[A-Za-z_][\w-]*)|([A-Za-z_][\w-]*)|(\|)/g;
  let m;
  while ((m = re.exec(text))) {
    let c = "";
    if (m[1]) c = "cmt"; else if (m[2]) c = "str"; else if (m[3]) c = "num"; else if (m[6]) c = "pipe";
    else if (m[4]) c = vocab.options.has(m[4].slice(1)) ? "opt" : "";
    else if (m[5]) {
      const w = m[5].toLowerCase();
      if (vocab.instructions.has(w)) c = "instr";
      else if (vocab.keywords.has(w)) c = "kw";
      else if (vocab.functions.has(w) && /^\s*\(/.test(text.slice(re.lastIndex))) c = "fn";
      if (!c && m[5].includes("-")) { re.lastIndex = m.index + m[5].indexOf("-"); continue; }
    }
    for (let i = m.index; i < m.index + m[0].length; i++) cls[i] = c;
  }
  return cls;
}

function renderHighlight() {
  const text = $("spl").value;
  const cls = tokenClasses(text);
  const sq = new Array(text.length + 1).fill("");
  for (const d of (last && last.diagnostics) || []) {
    let s = Math.min(d.start, text.length), e = Math.min(Math.max(d.end, s + 1), text.length + 1);
    for (let i = s; i < e; i++) if (!sq[i] || d.severity === "error") sq[i] = d.severity;
  }
  let html = "", i = 0;
  const chars = text + " ";
  while (i < chars.length) {
    let j = i + 1;
    while (j < chars.length && cls[j] === cls[i] && sq[j] === sq[i]) j++;
    const classes = [cls[i] || "", sq[i] ? "squiggle " + sq[i] : ""].join(" ").trim();
    const piece = esc(chars.slice(i, j));
    html += classes ? `<span class="${classes}">${piece}</span>` : piece;
    i = j;
  }
  $("highlight").innerHTML = html + "\n";
  $("highlight").scrollTop = $("spl").scrollTop;
}

function renderDiagnostics() {
  const items = ((last && last.diagnostics) || []).map((d) => {
    const help = d.help ? `<span class="help">help: ${esc(d.help)}</span>` : "";
    const labels = d.labels.filter((l) => l.message && !l.primary).map((l) => `<span class="help">note: ${esc(l.message)}</span>`).join("");
    return `<li class="diag ${d.severity}" data-code="${esc(d.code)}"><span class="code">${esc(d.code)}</span><span class="message">${esc(d.message)}</span>${help}${labels}</li>`;
  });
  if (last && last.fatal) items.push(`<li class="diag"><span class="message">${esc(last.fatal)}</span></li>`);
  $("diagnostics").innerHTML = items.join("");
}

function table(rows, extra) {
  const cols = [];
  for (const r of rows) for (const k of Object.keys(r.row)) if (!cols.includes(k)) cols.push(k);
  const head = `<tr>${(extra ? extra.head : []).map((h) => `<th>${esc(h)}</th>`).join("")}${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`;
  const body = rows.map((r, i) => `<tr class="${r.cls || "row"}" data-rows="${(r.from || []).join(",")}">${(extra ? extra.cells(r, i) : []).map((c) => `<td>${c}</td>`).join("")}${cols.map((c) => `<td>${r.row[c] === undefined ? "" : esc(r.row[c])}</td>`).join("")}</tr>`).join("");
  return `<table>${head}${body}</table>`;
}

function renderStages() {
  const stages = (last && last.stages) || [];
  $("stages").innerHTML = stages.map((s) =>
    `<button class="stage${selectedStage === s.index ? " selected" : ""}" data-index="${s.index}" title="${esc(s.text)}">` +
    `${last.stages.some((t) => t.statement > 1) ? s.statement + "." : ""}${s.stage} ${esc(s.text.length > 40 ? s.text.slice(0, 39) + "…" : s.text)}` +
    `<span class="counts">in ${s.rows_in} · out ${s.rows_out}${s.dropped ? " · dropped " + s.dropped : ""}${s.failed ? " · failed " + s.failed : ""}</span></button>`).join("");
  const s = stages.find((t) => t.index === selectedStage);
  if (!s) { $("stage-rows").innerHTML = ""; return; }
  const rows = s.steps.map((st) => ({ row: st.in, from: st.rows, cls: "step " + st.outcome, step: st }));
  $("stage-rows").innerHTML = `<h3>${esc(s.text)}</h3>` + table(rows, {
    head: ["input row", "outcome", "why"],
    cells: (r) => [esc(r.from.join(", ")), esc(r.step.outcome), `<span class="reason">${esc(r.step.reason || "")}</span>`],
  });
}

function renderOutputs() {
  const outs = (last && last.outputs) || [];
  // A `render` chart comes as SVG text; shown as an image (no script of it can run).
  const chart = (o) => o.chart ? `<img class="chart" alt="chart of ${esc(o.name)}" src="data:image/svg+xml;charset=utf-8,${encodeURIComponent(o.chart)}">`
    : o.chart_error ? `<p class="chart-error">chart: ${esc(o.chart_error)}</p>` : "";
  $("outputs").innerHTML = outs.map((o) => `<h3>${esc(o.name)} (${o.count} rows)</h3>` + chart(o) + table(o.rows)).join("");
  const errs = (last && last.errors) || [];
  $("errors").innerHTML = errs.length ? table(errs.map((e) => ({ row: Object.assign({ __error__: `${e.code} ${e.message}`, stage: `${e.statement}.${e.stage} ${e.instruction}` }, e.row) }))) : "<i>no error rows</i>";
}

function showTrace(rowNumbers) {
  const n = Number(String(rowNumbers).split(",")[0]);
  const t = ((last && last.traces) || []).find((x) => x.row === n);
  if (!t) return;
  let s = `row ${t.row}: ${JSON.stringify(t.input)}\n`;
  for (const st of t.steps) {
    s += `  [${st.statement}.${st.stage}] ${st.text} → ${st.outcome}\n`;
    if (st.reason) s += `      why: ${st.reason}\n`;
    if (st.out.length && JSON.stringify(st.out[0]) !== JSON.stringify(st.in)) s += `      out: ${st.out.map((o) => JSON.stringify(o)).join("\n           ")}\n`;
  }
  s += t.outputs.length ? t.outputs.map((o) => `  → ${o.output}: ${JSON.stringify(o.row)}`).join("\n") : "  → reaches no output";
  $("trace").textContent = s;
}

function render() { renderHighlight(); renderDiagnostics(); renderStages(); renderOutputs(); }

async function runNow() {
  const mine = ++seq;
  $("status").textContent = "running…";
  const body = JSON.stringify({ spl: $("spl").value, sample: $("sample").value, profile: $("profile").value });
  try {
    const r = await fetch("/api/run", { method: "POST", headers: { "content-type": "application/json" }, body });
    const v = await r.json();
    if (mine !== seq) return;
    last = v;
    $("status").textContent = v.ok ? `${v.input_rows} input rows${v.truncated ? " (sample cut)" : ""}` : "does not compile";
    document.body.dataset.runs = String(mine);
  } catch (e) {
    last = { fatal: String(e), diagnostics: [] };
  }
  render();
}

function schedule() { clearTimeout(timer); timer = setTimeout(runNow, 250); renderHighlight(); }

async function start() {
  const v = await (await fetch("/api/vocabulary")).json();
  vocab.instructions = new Set(v.instructions.map((i) => i.name));
  vocab.options = new Set(v.instructions.flatMap((i) => i.options));
  vocab.keywords = new Set(v.keywords);
  vocab.functions = new Set(v.functions.map((f) => f.name));
  $("sample").value = (await (await fetch("/api/sample")).json()).sample;
  $("spl").addEventListener("input", schedule);
  $("spl").addEventListener("scroll", () => { $("highlight").scrollTop = $("spl").scrollTop; });
  $("sample").addEventListener("input", schedule);
  $("profile").addEventListener("change", schedule);
  $("stages").addEventListener("click", (e) => {
    const b = e.target.closest(".stage");
    if (b) { selectedStage = Number(b.dataset.index); renderStages(); }
  });
  for (const id of ["outputs", "stage-rows"]) $(id).addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-rows]");
    if (tr && tr.dataset.rows) showTrace(tr.dataset.rows);
  });
  runNow();
}
start();
