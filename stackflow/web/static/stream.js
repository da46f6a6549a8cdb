// The event stream (`GET /api/events`) read with fetch, so the bearer token goes in a header.

import { authHeaders, ensureToken } from "./api.js";
import { $ } from "./dom.js";

const RETRY_MS = [500, 1000, 2000, 5000];

export function follow(onExecution) {
  let failures = 0;
  const connect = async () => {
    try {
      const response = await fetch("api/events", { headers: authHeaders() });
      if (response.status === 401) {
        await ensureToken(null);
      } else if (response.ok) {
        failures = 0;
        await read(response.body, onExecution);
      }
    } catch {
      // the server went away: try again below
    }
    live(false);
    failures += 1;
    setTimeout(connect, RETRY_MS[Math.min(failures, RETRY_MS.length) - 1]);
  };
  connect();
}

async function read(body, onExecution) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      dispatch(buffer.slice(0, end), onExecution);
      buffer = buffer.slice(end + 2);
    }
  }
}

function dispatch(block, onExecution) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line === ": ready") live(true);
    else if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  if (event === "execution" && data.length) onExecution(JSON.parse(data.join("\n")));
}

function live(on) {
  const badge = $("live");
  badge.textContent = on ? "live" : "offline";
  badge.className = on ? "live on" : "live off";
}
