// One execution: its facts, the actions that apply to its status, its timeline and a job's data.

import { api, enc, post } from "./api.js";
import { resolveDialog, restartDialog } from "./dialogs.js";
import { badge, debounce, el, note, pretty } from "./dom.js";
import { Timeline } from "./timeline.js";

const FINAL = ["SUCCESS", "FAILED", "CANCELED"];
const RESUMABLE = ["FAILED", "PENDING_RESUME", "PENDING_RETRY"];

export class ExecutionDetail {
  constructor(id, onOpen) {
    this.id = id;
    this.onOpen = onOpen;
    this.selectedJob = null;
    this.node = el("section", { className: "panel", data: { view: "execution" } });
    this.reloadSoon = debounce(() => this.load(), 150);
  }

  async load() {
    let execution;
    try {
      execution = await api(`executions/${enc(this.id)}`);
    } catch (error) {
      this.node.replaceChildren(el("p", { className: "empty", text: error.message }));
      return;
    }
    this.execution = execution;
    this.render(execution);
  }

  render(execution) {
    const scroll = this.timeline ? this.timeline.rowsNode.scrollTop : 0;
    this.timeline = new Timeline(execution.jobDetails, (job) => this.showJob(job));
    this.timeline.selected = this.selectedJob;
    this.jobNode = el("div", { className: "job" });
    this.node.replaceChildren(...present(
      el("h2", { text: execution.id }),
      facts(execution),
      this.actions(execution),
      execution.waitingFor ? section(`Waiting for ${execution.waitingFor.key}`, execution.waitingFor.payload) : null,
      section("Argument", execution.arg),
      execution.result !== null ? section("Result", execution.result) : null,
      errorNode(execution.error),
      el("h3", { text: "Job executions" }),
      execution.jobDetails.length ? this.timeline.node : el("p", { className: "empty", text: "None yet." }),
      this.jobNode,
    ));
    this.timeline.rowsNode.scrollTop = scroll;
    this.timeline.draw();
    const job = execution.jobDetails.find((item) => item.id === this.selectedJob);
    if (job) this.showJob(job);
  }

  actions(execution) {
    const status = execution.status;
    const button = (label, enabled, action) => {
      const node = el("button", {
        text: label, data: { action: label.toLowerCase() }, on: { click: action },
      });
      node.disabled = !enabled;
      return node;
    };
    const buttons = [
      button("Resume", RESUMABLE.includes(status), () => this.act("resume", "Resumed: a worker runs it.")),
      button("Cancel", !FINAL.includes(status), () => this.act("cancel", "Cancel requested.")),
      button("Restart", FINAL.includes(status), () => this.restart()),
      button("Resolve", status === "WAITING", () => this.resolve()),
      button("Refresh", true, () => this.load()),
    ];
    return el("div", { className: "actions" }, ...buttons);
  }

  async act(action, done) {
    try {
      await post(`executions/${enc(this.id)}/${action}`);
      note(done);
      await this.load();
    } catch (error) {
      note(error.message, true);
    }
  }

  async resolve() {
    const waits = await api(`executions/${enc(this.id)}/wait-points`);
    resolveDialog(waits, async (key, result) => {
      await post(`executions/${enc(this.id)}/wait-points/${enc(key)}`, { result });
      note(`Resolved wait point '${key}'.`);
      await this.load();
    });
  }

  restart() {
    restartDialog(this.execution, async (body) => {
      const started = await post(`executions/${enc(this.id)}/restart`, body);
      note("Restarted as a new execution.");
      this.onOpen(started.executionId);
    });
  }

  showJob(job) {
    this.selectedJob = job.id;
    const title = el("h3", { text: `${job.stackedJobName} (attempt ${job.attempt}) ` }, badge(job.status));
    const list = el("dl");
    field(list, "started", job.startedAt);
    field(list, "finished", job.finishedAt);
    this.jobNode.replaceChildren(...present(
      title, list,
      section("Input", job.input),
      job.result !== null ? section("Result", job.result) : null,
      errorNode(job.error),
      section("Logs", job.logs || "-"),
    ));
    this.jobNode.dataset.jobId = job.id;
  }

  changed(event) {
    if (event.id === this.id) this.reloadSoon();
  }
}

function present(...nodes) {
  return nodes.filter((node) => node !== null);
}

function facts(execution) {
  const list = el("dl");
  const status = el("dd", { data: { status: execution.status } }, badge(execution.status));
  status.id = "execution-status";
  list.append(el("dt", { text: "status" }), status);
  field(list, "workflow", execution.workflowName);
  field(list, "job executions", execution.jobExecutions);
  field(list, "started", execution.startedAt);
  field(list, "finished", execution.finishedAt);
  if (execution.wakeAt) field(list, "wakes at", execution.wakeAt);
  field(list, "invoker", execution.invoker ? execution.invoker.id : null);
  return list;
}

function field(list, name, value) {
  list.append(el("dt", { text: name }), el("dd", { text: value ?? "-" }));
}

function section(title, value) {
  return el("div", {}, el("h3", { text: title }), el("pre", { text: pretty(value) }));
}

function errorNode(error) {
  if (!error) return null;
  const node = el("div", { className: "error" });
  node.append(el("h3", { text: "Error" }));
  node.append(el("pre", { className: "bad", text: `${error.type || "Error"}: ${error.message || ""}` }));
  if (error.traceback) {
    node.append(el("details", {}, el("summary", { text: "Traceback" }), el("pre", { text: error.traceback })));
  }
  return node;
}
