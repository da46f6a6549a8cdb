// An execution's job executions as a tree (stacked names, attempts) beside a timeline
// (one bar per job execution on a shared time axis), virtualized: only visible rows exist.

import { duration, el, millis } from "./dom.js";
import { VirtualRows } from "./virtual.js";

const ROW_PX = 24;
const TICKS = 5;

export function buildTree(jobs) {
  const nodes = jobs.map((job, index) => ({ job, index, children: [], depth: 0 }));
  const latest = new Map();
  const roots = [];
  for (const node of nodes) {
    const name = node.job.stackedJobName;
    const parent = latest.get(name.slice(0, Math.max(name.lastIndexOf("/"), 0)));
    if (parent) {
      node.depth = parent.depth + 1;
      parent.children.push(node);
    } else {
      roots.push(node);
    }
    latest.set(name, node);
  }
  return roots;
}

export class Timeline {
  constructor(jobs, onSelect) {
    this.jobs = jobs;
    this.onSelect = onSelect;
    this.roots = buildTree(jobs);
    this.collapsed = new Set();
    this.selected = null;
    this.span = timeSpan(jobs);
    this.rows = new VirtualRows("rows", ROW_PX, (node) => this.row(node));
    this.rowsNode = this.rows.node;
    this.node = el("div", { className: "timeline" }, this.axis(), this.rowsNode);
    this.refresh();
  }

  axis() {
    const ticks = el("div", { className: "ticks" });
    for (let i = 0; i < TICKS; i += 1) {
      const share = i / (TICKS - 1);
      const edge = i === 0 ? " first" : i === TICKS - 1 ? " last" : "";
      const tick = el("span", { className: `tick${edge}`, text: duration(share * this.span.ms) });
      tick.style.left = `${share * 100}%`;
      ticks.append(tick);
    }
    const label = el("div", { className: "label", text: `${this.jobs.length} job executions` });
    return el("div", { className: "axis" }, label, ticks);
  }

  refresh() {
    this.visible = [];
    const walk = (node) => {
      this.visible.push(node);
      if (!this.collapsed.has(node.index)) node.children.forEach(walk);
    };
    this.roots.forEach(walk);
    this.rows.set(this.visible);
  }

  draw() {
    this.rows.draw();
  }

  row(node) {
    const { job } = node;
    const toggle = el("span", {
      className: "toggle",
      text: node.children.length ? (this.collapsed.has(node.index) ? "▸" : "▾") : "",
      on: { click: (event) => { event.stopPropagation(); this.toggle(node); } },
    });
    const name = el(
      "span", { className: "name", title: job.stackedJobName },
      toggle, el("span", { text: lastPart(job.stackedJobName) }),
      el("span", { className: "attempt", text: job.attempt > 1 ? `#${job.attempt}` : "" }),
    );
    name.style.paddingLeft = `${node.depth * 14}px`;
    const row = el(
      "div", { className: "row", data: { jobId: job.id }, on: { click: () => this.select(job) } },
      name, el("div", { className: "track" }, this.bar(job)),
    );
    row.classList.toggle("selected", job.id === this.selected);
    return row;
  }

  bar(job) {
    const start = millis(job.startedAt) ?? this.span.start;
    const end = millis(job.finishedAt) ?? this.span.end;
    const bar = el("div", {
      className: `bar s-${job.status}`,
      title: `${job.stackedJobName} (attempt ${job.attempt}): ${job.status}, ${duration(end - start)}`,
      data: { jobId: job.id },
    });
    bar.style.left = `${((start - this.span.start) / this.span.ms) * 100}%`;
    bar.style.width = `${Math.max(((end - start) / this.span.ms) * 100, 0.2)}%`;
    return bar;
  }

  toggle(node) {
    if (this.collapsed.has(node.index)) this.collapsed.delete(node.index);
    else this.collapsed.add(node.index);
    this.refresh();
  }

  select(job) {
    this.selected = job.id;
    this.draw();
    this.onSelect(job);
  }
}

function timeSpan(jobs) {
  const starts = jobs.map((job) => millis(job.startedAt)).filter((t) => t !== null);
  const ends = jobs.map((job) => millis(job.finishedAt) ?? Date.now());
  const start = starts.length ? Math.min(...starts) : Date.now();
  const end = Math.max(start + 1, ...ends);
  return { start, end, ms: end - start };
}

function lastPart(stackedName) {
  return stackedName.slice(stackedName.lastIndexOf("/") + 1);
}
