// Every call the link-worker app makes to follow-up, in one place: the server's routes
// (/app/api/*, see API.md beside this file) are written to match this module, not the pages.
// JSON names are the proto field names; enums travel as their names ("CONTACT_RESULT_REACHED").
"use strict";

const TOKEN_KEY = "signpost-app-token";
const QUEUE_KEY = "signpost-app-queue";  // --no-auth development only: the queue to act as

// A refusal from the server: {code, message, violations: [{field, description}]}.
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super((body && body.message) || `The server answered ${status}`);
    this.status = status;
    this.code = (body && body.code) || "";
    this.violations = (body && Array.isArray(body.violations)) ? body.violations : [];
    this.retryAfter = Number(retryAfter) || 0;
  }
}

// The sign-in link carries "#token=…" (and, without authentication, "#queue=…"): kept for this
// tab only and taken out of the address bar at once.
export const session = {
  takeFromFragment() {
    const hash = location.hash.replace(/^#/, "");
    if (hash.startsWith("/")) return;
    const params = new URLSearchParams(hash);
    const token = params.get("token"), queue = params.get("queue");
    if (!token && !queue) return;
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    if (queue) sessionStorage.setItem(QUEUE_KEY, queue);
    history.replaceState(null, "", location.pathname + location.search + "#/");
  },
  token() { return sessionStorage.getItem(TOKEN_KEY) || ""; },
  queue() { return sessionStorage.getItem(QUEUE_KEY) || ""; },
  signIn(token) { sessionStorage.setItem(TOKEN_KEY, token.trim()); },
  signOut() { sessionStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(QUEUE_KEY); },
  hasSignIn() { return Boolean(this.token() || this.queue()); },
};

function url(path) {
  const queue = session.queue();
  return queue ? `${path}?queue=${encodeURIComponent(queue)}` : path;
}

function headers(extra = {}) {
  const h = { Accept: "application/json", ...extra };
  const token = session.token();
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

async function bodyOf(response) {
  const text = await response.text();
  if (!text) return {};
  try { return JSON.parse(text); } catch { return { message: text.slice(0, 500) }; }
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

async function call(method, path, body) {
  const init = { method, headers: headers(), cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path), init);
  const data = await bodyOf(response);
  if (!response.ok) throw new ApiError(response.status, data, response.headers.get("Retry-After"));
  return data;
}

function newRequestId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));  // plain http (development): no randomUUID
  return Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
}

// A case action: one request_id for the person's one action, sent again unchanged after a lost
// answer or a busy server (at most three tries), so the server applies it once.
async function act(path, body) {
  const request = { ...body, request_id: newRequestId() };
  for (let attempt = 1; ; ++attempt) {
    try {
      return await call("POST", path, request);
    } catch (e) {
      const retry = !(e instanceof ApiError) || e.status === 503;
      if (!retry || attempt >= 3) throw e;
      await sleep(e instanceof ApiError && e.retryAfter ? e.retryAfter * 1000 : 1000 * attempt);
    }
  }
}

const caseUrl = (id, action) =>
  `api/cases/${encodeURIComponent(id)}${action ? "/" + action : ""}`;

export const api = {
  me: () => call("GET", "api/me"),
  tasks: () => call("GET", "api/tasks"),
  completeTask: (task_id, note = "") => act("api/task-done", { task_id, note }),
  viewCase: id => call("GET", caseUrl(id)),
  // The person's details: audited on the server, so never retried and never fetched twice.
  caseDetails: (id, purpose) => call("POST", caseUrl(id, "details"), { purpose }),
  recordContact: (id, result, note) => act(caseUrl(id, "contact"), { result, note }),
  agreePlan: (id, plan) => act(caseUrl(id, "plan"), { plan }),
  recordConnection: (id, resource_id) => act(caseUrl(id, "connection"), { resource_id }),
  recordAttendance: (id, attended, note) => act(caseUrl(id, "attendance"), { attended, note }),
  recordOutcome: (id, measure) => act(caseUrl(id, "outcome"), { measure }),
  closeCase: (id, reason, note) => act(caseUrl(id, "close"), { reason, note }),
  reassignCase: (id, to_link_worker_id, reason) =>
    act(caseUrl(id, "reassign"), { to_link_worker_id, reason }),
};

// Server-sent events read with fetch() (EventSource cannot send the Authorization header, and a
// token in the URL would land in logs). Lines per the HTML standard; `dispatch` gets
// {event, data, id} for each event.
async function readEvents(body, dispatch, onBytes) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "", data = [], event = "", id;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onBytes();
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      let line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (data.length || id !== undefined || event) dispatch({ event: event || "message", data: data.join("\n"), id });
        data = []; event = ""; id = undefined;
        continue;
      }
      if (line.startsWith(":")) continue;  // ": ping"
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let v = colon < 0 ? "" : line.slice(colon + 1);
      if (v.startsWith(" ")) v = v.slice(1);
      if (field === "data") data.push(v);
      else if (field === "event") event = v;
      else if (field === "id" && !v.includes("\0")) id = v;
    }
  }
}

// The queue's tasks, live: `onUpdate(TaskUpdate)` for each update (snapshot rows, snapshot_end,
// then changes), `onState("connecting"|"live"|"reconnecting"|"ended", detail)`. Reconnects with
// backoff (1 s doubling to 30 s, jittered) and sends Last-Event-ID, so nothing is missed or
// repeated; a resume point the server no longer knows is dropped and a new snapshot taken.
export function streamTasks({ onUpdate, onState, onSignedOut }) {
  let stopped = false, lastEventId = "", failures = 0, controller = null;
  const SILENCE_MS = 45000;  // the server pings every 15 s: this much quiet is a dead connection

  async function once() {
    controller = new AbortController();
    let watchdog = 0;
    const quiet = () => { clearTimeout(watchdog); watchdog = setTimeout(() => controller.abort(), SILENCE_MS); };
    try {
      const extra = { Accept: "text/event-stream" };
      if (lastEventId) extra["Last-Event-ID"] = lastEventId;
      quiet();
      const response = await fetch(url("api/tasks/stream"),
        { headers: headers(extra), cache: "no-store", credentials: "omit", signal: controller.signal });
      if (response.status === 401) return { end: "signed-out", error: new ApiError(401, await bodyOf(response)) };
      if (response.status === 403) return { end: "refused", error: new ApiError(403, await bodyOf(response)) };
      if (response.status === 400 && lastEventId) { lastEventId = ""; return { again: true }; }
      if (!response.ok || !response.body) {
        throw new ApiError(response.status, await bodyOf(response), response.headers.get("Retry-After"));
      }
      const opened = Date.now();
      onState("live");
      let expired = false;
      await readEvents(response.body, ev => {
        if (ev.event === "task" && ev.data) onUpdate(JSON.parse(ev.data));
        else if (ev.event === "expired") expired = true;
        if (ev.id !== undefined) lastEventId = ev.id;  // only once the event is handled
      }, quiet);
      if (expired) return { end: "signed-out", error: new ApiError(401, { message: "Your sign-in has ended." }) };
      // The server ends every stream after a while: resume at once, unless streams keep ending
      // as soon as they open (then back off as after a failure).
      if (Date.now() - opened < 2000) { failures++; return { again: true, quick: true }; }
      failures = 0;
      return { again: true };
    } catch (e) {
      if (stopped) return { end: "stopped" };
      failures++;
      return { error: e, retryAfter: e instanceof ApiError ? e.retryAfter : 0 };
    } finally {
      clearTimeout(watchdog);
    }
  }

  (async () => {
    onState("connecting");
    while (!stopped) {
      const r = await once();
      if (stopped) return;
      if (r.end === "signed-out") { onState("ended"); onSignedOut(r.error); return; }
      if (r.end === "refused") { onState("ended", r.error); return; }
      if (r.again && !r.quick) { await sleep(200 + Math.random() * 300); continue; }
      if (r.error) onState("reconnecting", r.error);
      const backoff = Math.min(30000, 1000 * 2 ** Math.min(failures - 1, 5));
      const wait = Math.max((r.retryAfter || 0) * 1000, backoff * (0.5 + Math.random() / 2));
      await sleep(wait);
    }
  })();

  return { stop() { stopped = true; if (controller) controller.abort(); } };
}
