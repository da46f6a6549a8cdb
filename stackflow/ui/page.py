"""The dashboard's single HTML page: inline CSS and vanilla JS that poll the JSON API.

Everything shown comes from the API and is put in the page with `textContent`
(never as markup), and the Content-Security-Policy allows only this page's own
script and style (by hash), so nothing in a job's logs can run as code.
"""

from __future__ import annotations

import base64
import hashlib
import json

from stackflow.records import ExecutionStatus

REFRESH_MILLISECONDS = 2000
EXECUTION_LIMIT = 200

STYLE = """
:root { --fg: #1d232a; --muted: #67707a; --line: #dde1e6; --bg: #f6f7f9; --accent: #2456c7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem;
  background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 1.05rem; margin: 0 1rem 0 0; }
header label { color: var(--muted); }
select { font: inherit; padding: .15rem .3rem; }
#note { margin-left: auto; color: var(--muted); font-size: .85rem; }
#note.bad { color: #b3261e; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1rem;
  padding: 1rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; overflow: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: #eef3fd; }
tbody tr.selected { background: #dfe8fb; }
.mono { font-family: ui-monospace, monospace; font-size: .82rem; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 9px; font-size: .75rem;
  font-weight: 600; background: #e8eaed; }
.s-SUCCESS { background: #d5f0dc; color: #17612f; }
.s-FAILED { background: #fbdcdc; color: #8f1d1d; }
.s-RUNNING, .s-SUSPEND { background: #dbe6fb; color: #1d3f8f; }
.s-WAITING, .s-PENDING_RESUME, .s-PENDING_RETRY { background: #fdf0cf; color: #735300; }
.s-CANCELED { background: #e4e4e4; color: #555; }
#detail { padding: .8rem 1rem; }
#detail h2 { font-size: 1rem; margin: 0 0 .5rem; word-break: break-all; }
#detail h3 { font-size: .9rem; margin: 1rem 0 .3rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-all; }
pre { margin: .2rem 0; padding: .4rem .5rem; background: var(--bg); border-radius: 4px;
  white-space: pre-wrap; word-break: break-word; max-height: 22rem; overflow: auto;
  font: .8rem/1.4 ui-monospace, monospace; }
.job { border-top: 1px solid var(--line); padding-top: .5rem; margin-top: .5rem; }
.actions { display: flex; gap: .5rem; margin: .6rem 0; }
button { font: inherit; padding: .2rem .8rem; border: 1px solid var(--line); border-radius: 4px;
  background: #fff; cursor: pointer; }
button:disabled { opacity: .45; cursor: default; }
.empty { color: var(--muted); padding: 1rem; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
"""

SCRIPT = """
"use strict";
const STATUSES = __STATUSES__;
const REFRESH_MS = __REFRESH__;
const LIMIT = __LIMIT__;
const FINAL = ["SUCCESS", "FAILED", "CANCELED"];
const RESUMABLE = ["FAILED", "PENDING_RESUME", "PENDING_RETRY"];
const $ = (id) => document.getElementById(id);
let selected = decodeURIComponent(location.hash.slice(1)) || null;
let shownDetail = null;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}
function badge(status) { return el("span", status, "status s-" + status); }
function pretty(value) { return JSON.stringify(value, null, 2); }
function note(text, bad) { $("note").textContent = text; $("note").className = bad ? "bad" : ""; }

async function getJson(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function fillSelect(select, values, allLabel) {
  const keep = select.value;
  select.replaceChildren(new Option(allLabel, ""));
  for (const value of values) select.append(new Option(value, value));
  select.value = values.includes(keep) ? keep : "";
}

async function loadWorkflows() {
  const workflows = await getJson("/api/workflows");
  fillSelect($("workflow"), workflows.map((w) => w.name), "all workflows");
}

function executionRow(execution) {
  const row = el("tr");
  row.dataset.id = execution.id;
  if (execution.id === selected) row.className = "selected";
  row.append(el("td", execution.id, "mono"), el("td", execution.workflowName));
  const status = el("td");
  status.append(badge(execution.status));
  row.append(status, el("td", execution.jobExecutions));
  row.append(el("td", execution.startedAt || "-", "mono"));
  row.append(el("td", execution.finishedAt || "-", "mono"));
  row.addEventListener("click", () => select(execution.id));
  return row;
}

async function loadExecutions() {
  const query = new URLSearchParams({ limit: String(LIMIT) });
  if ($("status").value) query.set("status", $("status").value);
  if ($("workflow").value) query.set("name", $("workflow").value);
  const executions = await getJson("/api/executions?" + query);
  $("rows").replaceChildren(...executions.map(executionRow));
  $("none").hidden = executions.length > 0;
}

function field(list, name, value) { list.append(el("dt", name), el("dd", value ?? "-")); }
function block(parent, title, value) {
  parent.append(el("h3", title), el("pre", typeof value === "string" ? value : pretty(value)));
}
function errorBlock(parent, error) {
  if (!error) return;
  block(parent, "Error", (error.type || "Error") + ": " + (error.message || ""));
  if (error.traceback) {
    const more = el("details");
    more.append(el("summary", "Traceback"), el("pre", error.traceback));
    parent.append(more);
  }
}

function jobSection(job) {
  const part = el("div", null, "job");
  const title = el("h3", job.stackedJobName + " ");
  title.append(badge(job.status));
  const facts = el("dl");
  field(facts, "attempt", job.attempt);
  field(facts, "started", job.startedAt);
  field(facts, "finished", job.finishedAt);
  part.append(title, facts);
  block(part, "Input", job.input);
  block(part, "Logs", job.logs || "-");
  block(part, "Result", job.result);
  errorBlock(part, job.error);
  return part;
}

function actionButton(label, enabled, action) {
  const button = el("button", label);
  button.disabled = !enabled;
  button.addEventListener("click", () => act(action));
  return button;
}

function renderDetail(execution) {
  const panel = $("detail");
  const facts = el("dl");
  field(facts, "workflow", execution.workflowName);
  field(facts, "status", execution.status);
  field(facts, "job executions", execution.jobExecutions);
  field(facts, "started", execution.startedAt);
  field(facts, "finished", execution.finishedAt);
  field(facts, "invoker", execution.invoker ? execution.invoker.id : null);
  const actions = el("div", null, "actions");
  actions.append(
    actionButton("Resume", RESUMABLE.includes(execution.status), "resume"),
    actionButton("Cancel", !FINAL.includes(execution.status), "cancel"),
  );
  panel.replaceChildren(el("h2", execution.id), facts, actions);
  block(panel, "Argument", execution.arg);
  block(panel, "Result", execution.result);
  errorBlock(panel, execution.error);
  panel.append(el("h3", "Job executions"));
  if (execution.jobDetails.length === 0) panel.append(el("p", "None yet.", "empty"));
  panel.append(...execution.jobDetails.map(jobSection));
}

async function loadDetail() {
  if (!selected) return;
  const execution = await getJson("/api/executions/" + encodeURIComponent(selected));
  const text = JSON.stringify(execution);
  if (text !== shownDetail) { shownDetail = text; renderDetail(execution); }
}

function select(id) {
  selected = id;
  shownDetail = null;
  history.replaceState(null, "", "#" + encodeURIComponent(id));
  for (const row of $("rows").children) row.classList.toggle("selected", row.dataset.id === id);
  loadDetail().catch((error) => { $("detail").replaceChildren(el("p", error.message, "empty")); });
}

async function act(action) {
  try {
    const url = "/api/executions/" + encodeURIComponent(selected) + "/" + action;
    await getJson(url, { method: "POST" });
    note(action === "resume" ? "Resumed: a worker runs it." : "Cancel requested.");
    await refresh();
  } catch (error) { note(error.message, true); }
}

async function refresh() {
  try {
    await loadExecutions();
    await loadDetail();
    if ($("note").className !== "bad") note("Updated " + new Date().toLocaleTimeString());
  } catch (error) { note(error.message, true); }
}

fillSelect($("status"), STATUSES, "all statuses");
$("status").addEventListener("change", refresh);
$("workflow").addEventListener("change", refresh);
loadWorkflows().catch((error) => note(error.message, true)).then(refresh);
setInterval(() => { $("note").className = ""; refresh(); }, REFRESH_MS);
"""

BODY = """
<header>
  <h1>stackflow</h1>
  <label>Status <select id="status"></select></label>
  <label>Workflow <select id="workflow"></select></label>
  <span id="note"></span>
</header>
<main>
  <section>
    <table>
      <thead><tr><th>id</th><th>workflow</th><th>status</th><th>jobs</th>
        <th>started</th><th>finished</th></tr></thead>
      <tbody id="rows"></tbody>
    </table>
    <p id="none" class="empty" hidden>No executions found.</p>
  </section>
  <section id="detail"><p class="empty">Click an execution to see its job executions.</p></section>
</main>
"""


def _script() -> str:
    statuses = json.dumps([status.value for status in ExecutionStatus])
    return (
        SCRIPT.replace("__STATUSES__", statuses)
        .replace("__REFRESH__", str(REFRESH_MILLISECONDS))
        .replace("__LIMIT__", str(EXECUTION_LIMIT))
    )


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _page(script: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<title>stackflow</title>\n<link rel="icon" href="data:,">\n'
        f"<style>{STYLE}</style>\n</head>\n<body>{BODY}<script>{script}</script>\n"
        "</body>\n</html>\n"
    )


_SCRIPT = _script()
PAGE = _page(_SCRIPT)
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src {_sha256(_SCRIPT)}; style-src {_sha256(STYLE)}; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
"""Only this page's own script and style run; data is fetched from this server only."""
