// Building the page from data: every piece of user data goes in as text, never as markup.

export const $ = (id) => document.getElementById(id);

export function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  if (options.title) node.title = options.title;
  for (const [name, value] of Object.entries(options.data || {})) node.dataset[name] = value;
  for (const [event, handler] of Object.entries(options.on || {})) {
    node.addEventListener(event, handler);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

export function badge(status) {
  return el("span", { className: `status s-${status}`, text: status });
}

export function pretty(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

export function note(text, bad = false) {
  const node = $("note");
  node.textContent = text;
  node.className = bad ? "bad" : "";
}

export function millis(timestamp) {
  return timestamp ? Date.parse(timestamp) : null;
}

export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "-";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60000)} m ${Math.round((ms % 60000) / 1000)} s`;
}

export function debounce(action, waitMs) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(action, waitMs);
  };
}
