// The dashboard: routes `#/`, `#/executions/<id>`, `#/workflows` and `#/workflows/<name>`,
// and passes the event stream's status changes to the views on screen.

import { api } from "./api.js";
import { ExecutionDetail } from "./detail.js";
import { $, el, note } from "./dom.js";
import { ExecutionList } from "./executions.js";
import { follow } from "./stream.js";
import { workflowList, workflowView } from "./workflows.js";

const state = { list: null, listNode: null, listReady: null, detail: null };

function open(id) {
  location.hash = `#/executions/${encodeURIComponent(id)}`;
}

function showList() {
  state.listReady ||= (async () => {
    const list = new ExecutionList(open);
    state.listNode = await list.mount(api("workflows"));
    state.list = list;
  })();
  return state.listReady;
}

async function showExecutions(id) {
  state.detail = id ? new ExecutionDetail(id, open) : null;
  await Promise.all([showList(), state.detail?.load()]);
  const panes = [state.listNode];
  if (id) {
    state.list.select(id);
    panes.push(state.detail.node);
  } else {
    state.list.select(null);
    panes.push(el("section", { className: "panel" }, el("p", { className: "empty", text: "Click an execution to see its job executions." })));
  }
  $("view").replaceChildren(el("div", { className: "split" }, ...panes));
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  $("nav-executions").classList.toggle("current", parts[0] !== "workflows");
  $("nav-workflows").classList.toggle("current", parts[0] === "workflows");
  try {
    if (parts[0] === "workflows") {
      state.detail = null;
      $("view").replaceChildren(parts[1] ? await workflowView(parts[1]) : await workflowList());
    } else {
      await showExecutions(parts[0] === "executions" ? parts[1] : null);
    }
  } catch (error) {
    note(error.message, true);
  }
}

function changed(event) {
  state.list?.changed(event);
  state.detail?.changed(event);
}

window.addEventListener("hashchange", route);
route().then(() => follow(changed));
