// Dialogs: the token prompt, the wait point resolver (a JSON editor) and the restart chooser.

import { $, el, pretty } from "./dom.js";

let pendingToken = null;

export function askToken(problem) {
  if (pendingToken) return pendingToken;
  const dialog = $("token-dialog");
  $("token-error").textContent = problem || "";
  $("token-input").value = "";
  pendingToken = new Promise((resolve) => {
    const done = () => {
      const value = $("token-input").value.trim();
      if (!value) return;
      dialog.close();
      pendingToken = null;
      resolve(value);
    };
    $("token-save").onclick = done;
    $("token-input").onkeydown = (event) => { if (event.key === "Enter") done(); };
    dialog.oncancel = (event) => event.preventDefault();
  });
  dialog.showModal();
  $("token-input").focus();
  return pendingToken;
}

function parseJson(text, errorNode) {
  try {
    return { ok: true, value: text.trim() ? JSON.parse(text) : null };
  } catch (error) {
    errorNode.textContent = `Invalid JSON: ${error.message}`;
    return { ok: false };
  }
}

function wire(prefix, send) {
  const dialog = $(`${prefix}-dialog`);
  $(`${prefix}-cancel`).onclick = () => dialog.close();
  $(`${prefix}-send`).onclick = async () => {
    $(`${prefix}-error`).textContent = "";
    try {
      if (await send()) dialog.close();
    } catch (error) {
      $(`${prefix}-error`).textContent = error.message;
    }
  };
  $(`${prefix}-error`).textContent = "";
  for (const field of dialog.querySelectorAll("textarea, select")) {
    field.oninput = () => { $(`${prefix}-error`).textContent = ""; };
  }
  dialog.showModal();
}

export function resolveDialog(waits, resolve) {
  const open = waits.filter((wait) => !wait.resolved);
  const select = $("resolve-key");
  select.replaceChildren(...open.map((wait) => new Option(wait.key, wait.key)));
  const show = () => {
    const wait = open.find((item) => item.key === select.value);
    $("resolve-payload").textContent = wait ? pretty(wait.payload) : "-";
  };
  select.onchange = show;
  show();
  $("resolve-result").value = "{\n  \n}";
  wire("resolve", async () => {
    const parsed = parseJson($("resolve-result").value, $("resolve-error"));
    if (!parsed.ok) return false;
    await resolve(select.value, parsed.value);
    return true;
  });
}

export function restartDialog(execution, restart) {
  const names = [...new Set(execution.jobDetails.map((job) => job.stackedJobName))];
  const select = $("restart-job");
  select.replaceChildren(
    new Option("(from the start: a fresh run)", ""),
    ...names.map((name) => new Option(name, name)),
  );
  const original = pretty(execution.arg);
  $("restart-arg").value = original;
  wire("restart", async () => {
    const text = $("restart-arg").value;
    const parsed = parseJson(text, $("restart-error"));
    if (!parsed.ok) return false;
    const body = {};
    if (select.value) body.fromJob = select.value;
    if (text.trim() !== original.trim()) body.arg = parsed.value;
    await restart(body);
    return true;
  });
}

export function emptyNode(text) {
  return el("p", { className: "empty", text });
}
