// The executions list: newest first, filtered by status and workflow, paged with `before`.

import { api } from "./api.js";
import { badge, debounce, el } from "./dom.js";
import { VirtualRows } from "./virtual.js";

const STATUSES = [
  "PENDING", "PENDING_RESUME", "PENDING_RETRY", "RUNNING", "WAITING", "SUCCESS", "FAILED",
  "CANCELED",
];
const PAGE_SIZES = [50, 200, 1000];
const COLUMNS = ["id", "workflow", "status", "jobs", "started", "finished"];
const ROW_PX = 31;

export class ExecutionList {
  constructor(onOpen) {
    const query = new URLSearchParams(location.search);
    this.onOpen = onOpen;
    this.status = query.get("status") || "";
    this.workflow = query.get("workflow") || "";
    const limit = Number(query.get("limit"));
    this.limit = PAGE_SIZES.includes(limit) ? limit : PAGE_SIZES[0];
    this.pages = [""]; // the `before` cursor of each page shown so far
    this.selected = null;
    this.reloadSoon = debounce(() => this.load(), 300);
    this.node = el("section", { className: "panel", data: { view: "executions" } });
  }

  async mount(workflows) {
    this.filterBar = el("div", { className: "filters" });
    this.node.replaceChildren(this.filterBar, this.table(), this.pager());
    await Promise.all([this.load(), workflows.then((found) => this.filterBar.replaceWith(this.filters(found)))]);
    return this.node;
  }

  filters(workflows) {
    const status = select("status-filter", ["", ...STATUSES], this.status, "all statuses");
    const names = workflows.map((workflow) => workflow.name);
    const workflow = select("workflow-filter", ["", ...names], this.workflow, "all workflows");
    const size = select("page-size", PAGE_SIZES.map(String), String(this.limit));
    status.onchange = () => { this.status = status.value; this.restart(); };
    workflow.onchange = () => { this.workflow = workflow.value; this.restart(); };
    size.onchange = () => { this.limit = Number(size.value); this.restart(); };
    return el(
      "div", { className: "filters" },
      el("label", { text: "Status " }, status),
      el("label", { text: "Workflow " }, workflow),
      el("label", { text: "Per page " }, size),
    );
  }

  table() {
    const head = el("div", { className: "erow head" }, ...COLUMNS.map((name) => el("span", { text: name })));
    this.list = new VirtualRows("execution-rows", ROW_PX, (execution) => this.row(execution));
    this.rows = this.list.node;
    this.none = el("p", { className: "empty", text: "No executions found." });
    this.none.hidden = true;
    return el("div", { className: "elist" }, head, this.rows, this.none);
  }

  pager() {
    this.newer = el("button", { text: "‹ Newer", on: { click: () => this.page(-1) } });
    this.older = el("button", { text: "Older ›", on: { click: () => this.page(1) } });
    this.pageLabel = el("span");
    return el("div", { className: "pager" }, this.newer, this.pageLabel, this.older);
  }

  restart() {
    this.pages = [""];
    this.load();
  }

  page(step) {
    if (step > 0) this.pages.push(this.lastId);
    else this.pages.pop();
    this.load();
  }

  async load() {
    const query = new URLSearchParams({ limit: String(this.limit) });
    if (this.status) query.set("status", this.status);
    if (this.workflow) query.set("workflow", this.workflow);
    const before = this.pages[this.pages.length - 1];
    if (before) query.set("before", before);
    const executions = await api(`executions?${query}`);
    this.rows.scrollTop = 0;
    this.list.set(executions);
    this.none.hidden = executions.length > 0;
    this.lastId = executions.length ? executions[executions.length - 1].id : null;
    this.newer.disabled = this.pages.length === 1;
    this.older.disabled = executions.length < this.limit;
    this.pageLabel.textContent = `page ${this.pages.length}`;
  }

  row(execution) {
    const row = el(
      "div",
      { className: "erow", data: { id: execution.id }, on: { click: () => this.onOpen(execution.id) } },
      el("span", { className: "mono", text: execution.id, title: execution.id }),
      el("span", { text: execution.workflowName }),
      el("span", { className: "status-cell" }, badge(execution.status)),
      el("span", { text: execution.jobExecutions }),
      el("span", { className: "mono", text: execution.startedAt || "-" }),
      el("span", { className: "mono", text: execution.finishedAt || "-" }),
    );
    row.classList.toggle("selected", execution.id === this.selected);
    return row;
  }

  select(id) {
    this.selected = id;
    this.list.draw();
  }

  changed(event) {
    const shown = this.list.items.find((execution) => execution.id === event.id);
    if (shown) {
      shown.status = event.status;
      this.list.draw();
    }
    if (this.pages.length === 1) this.reloadSoon();
  }
}

function select(id, values, current, allLabel) {
  const node = el("select", { data: { filter: id } });
  node.id = id;
  for (const value of values) node.append(new Option(value || allLabel, value));
  node.value = values.includes(current) ? current : values[0];
  return node;
}
