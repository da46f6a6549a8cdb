// The workflows: a list, and one workflow's jobs as a graph (deps solid, triggered jobs dashed).

import { api, enc } from "./api.js";
import { el, svg } from "./dom.js";

const NODE_W = 190;
const NODE_H = 42;
const GAP_X = 70;
const GAP_Y = 18;
const PAD = 16;

export async function workflowList() {
  const workflows = await api("workflows");
  const head = el("tr", {}, ...["name", "main job", "jobs", "updated"].map((name) => el("th", { text: name })));
  const rows = workflows.map((workflow) => el(
    "tr", { data: { name: workflow.name }, on: { click: () => { location.hash = `#/workflows/${enc(workflow.name)}`; } } },
    el("td", { text: workflow.name }),
    el("td", { text: workflow.mainJob }),
    el("td", { text: workflow.jobFunctions }),
    el("td", { className: "mono", text: workflow.updatedAt || "-" }),
  ));
  const table = el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows));
  const empty = workflows.length ? null : el("p", { className: "empty", text: "No workflows found." });
  return el("section", { className: "panel", data: { view: "workflows" } }, el("h2", { text: "Workflows" }), table, empty);
}

export async function workflowView(name) {
  const [detail, graph] = await Promise.all([
    api(`workflows/${enc(name)}`), api(`workflows/${enc(name)}/graph`),
  ]);
  const facts = el("dl");
  for (const [label, value] of [["main job", detail.mainJob], ["created", detail.createdAt], ["updated", detail.updatedAt]]) {
    facts.append(el("dt", { text: label }), el("dd", { text: value }));
  }
  const legend = el("p", { className: "legend", text: "Solid: a dep of the job. Dashed: a job its body triggers. Each box shows the job's version." });
  const other = detail.otherVersions
    ? el("pre", { text: `Other versions run by executions: ${JSON.stringify(detail.otherVersions)}` })
    : null;
  return el(
    "section", { className: "panel graph", data: { view: "workflow" } },
    el("h2", { text: detail.name }), facts, legend, drawGraph(graph), other,
  );
}

function layers(graph) {
  const byName = new Map(graph.jobs.map((job) => [job.name, job]));
  const depth = new Map([[graph.mainJob, 0]]);
  const queue = [graph.mainJob];
  while (queue.length) {
    const name = queue.shift();
    const job = byName.get(name);
    for (const callee of [...job.deps, ...job.triggers]) {
      if (!depth.has(callee) && byName.has(callee)) {
        depth.set(callee, depth.get(name) + 1);
        queue.push(callee);
      }
    }
  }
  const columns = [];
  for (const job of graph.jobs) {
    const column = depth.get(job.name) ?? 0;
    (columns[column] ||= []).push(job);
  }
  return columns;
}

function drawGraph(graph) {
  const columns = layers(graph);
  const place = new Map();
  columns.forEach((jobs, column) => jobs.forEach((job, row) => {
    place.set(job.name, { x: PAD + column * (NODE_W + GAP_X), y: PAD + row * (NODE_H + GAP_Y) });
  }));
  const tallest = Math.max(...columns.map((jobs) => jobs.length));
  const width = PAD * 2 + columns.length * NODE_W + (columns.length - 1) * GAP_X;
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  root.style.maxWidth = `${width}px`;
  root.append(arrowHead());
  for (const job of graph.jobs) {
    for (const [callees, kind] of [[job.deps, "dep"], [job.triggers, "trigger"]]) {
      for (const callee of callees) {
        if (place.has(callee)) root.append(edge(place.get(job.name), place.get(callee), kind));
      }
    }
  }
  for (const job of graph.jobs) root.append(node(job, place.get(job.name), job.name === graph.mainJob));
  return root;
}

function arrowHead() {
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a9099" }));
  const defs = svg("defs");
  defs.append(marker);
  return defs;
}

function edge(from, to, kind) {
  const x1 = from.x + NODE_W;
  const y1 = from.y + NODE_H / 2;
  const x2 = to.x;
  const y2 = to.y + NODE_H / 2;
  const bend = Math.max((x2 - x1) / 2, 30);
  return svg("path", {
    class: `edge ${kind}`, "marker-end": "url(#arrow)",
    d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
  });
}

function node(job, at, main) {
  const group = svg("g", { class: main ? "node main" : "node", transform: `translate(${at.x} ${at.y})`, "data-job": job.name });
  group.append(svg("title", {}, `${job.name} (version ${job.version})`));
  group.append(svg("rect", { width: NODE_W, height: NODE_H }));
  group.append(svg("text", { x: 10, y: 17 }, clip(job.name, 26)));
  group.append(svg("text", { x: 10, y: 33, class: "version" }, job.version));
  return group;
}

function clip(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
