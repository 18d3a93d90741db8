// Every call to the service goes through here: same origin, the API key when one is needed,
// JSON bodies sent as application/json, and one error type that carries the API's own message.

const KEY_STORAGE = "energy-data-service.api-key";

export const config = JSON.parse(
  document.querySelector('meta[name="eds-config"]').getAttribute("content"),
);

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let keyPrompt = null; // one pending prompt shared by every request that needs the key

export function storedKey() {
  return localStorage.getItem(KEY_STORAGE);
}

export function forgetKey() {
  localStorage.removeItem(KEY_STORAGE);
}

function askForKey(refused) {
  if (keyPrompt) return keyPrompt;
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  document.getElementById("key-error").hidden = !refused;
  keyPrompt = new Promise((resolve) => {
    const form = document.getElementById("key-form");
    const done = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      localStorage.setItem(KEY_STORAGE, key);
      form.removeEventListener("submit", done);
      dialog.close();
      input.value = "";
      keyPrompt = null;
      resolve(key);
    };
    form.addEventListener("submit", done);
  });
  dialog.addEventListener("cancel", (event) => event.preventDefault()); // the key is required
  dialog.showModal();
  input.focus();
  return keyPrompt;
}

/** The key to send, asking once when the service needs one and none is stored. */
export async function apiKey() {
  if (!config.keys_required) return null;
  return storedKey() || askForKey(false);
}

async function send(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = await apiKey();
  if (key) headers.set("X-API-Key", key);
  if (options.json !== undefined) headers.set("Content-Type", "application/json");
  const response = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
    credentials: "same-origin",
    mode: "same-origin",
    signal: options.signal,
  });
  if (response.status === 401 && config.keys_required) {
    forgetKey();
    await askForKey(true);
    return send(path, options);
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && body.detail) {
        message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      }
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, message);
  }
  return response;
}

export async function getJson(path, options) {
  return (await send(path, options)).json();
}

export async function postJson(path, body) {
  return (await send(path, { method: "POST", json: body })).json();
}

export async function getBlob(path) {
  const response = await send(path);
  return { blob: await response.blob(), disposition: response.headers.get("Content-Disposition") };
}

/** A query string from an object; arrays repeat the key, empty values are left out. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, item);
  }
  return search.toString();
}
