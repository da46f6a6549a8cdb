// The JSON API with the bearer token: asked for once, kept in this tab's sessionStorage.

import { askToken } from "./dialogs.js";

const TOKEN_KEY = "stackflow-token";
let token = sessionStorage.getItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function authHeaders() {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export async function ensureToken(problem) {
  token = await askToken(problem);
  sessionStorage.setItem(TOKEN_KEY, token);
}

export async function api(path, { method = "GET", body } = {}) {
  for (;;) {
    const response = await send(path, method, body);
    if (response.status === 401) {
      const reason = await errorText(response);
      await ensureToken(token ? reason : null);
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, await errorText(response));
    return response.json();
  }
}

function send(path, method, body) {
  const headers = { ...authHeaders() };
  const options = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  return fetch(`api/${path}`, options);
}

async function errorText(response) {
  try {
    const body = await response.json();
    return body.error || response.statusText;
  } catch {
    return response.statusText;
  }
}

export function post(path, body = {}) {
  return api(path, { method: "POST", body });
}

export const enc = encodeURIComponent;
