// The queue, live: the open tasks of the signed-in worker's queue (a coordinator's: the team
// queue), kept current from the task stream, and the "My queue" page drawn from them.
"use strict";

import { streamTasks } from "./api.js";
import { h, announce, taskWords, timeElement, messageOf } from "./ui.js";

const tasks = new Map();   // task id -> Task (open only)
let snapshot = null;       // rows of a snapshot being received, swapped in at snapshot_end
let ready = false;         // a snapshot has completed: later OPEN tasks are new
let connection = { state: "connecting", error: null };
const listeners = new Set();
const recent = new Set();  // ids that arrived live, marked "New" until the page is left
let stream = null;

export const onQueueChange = fn => { listeners.add(fn); return () => listeners.delete(fn); };
const changed = () => { for (const fn of listeners) fn(); };

export const openTasks = () => Array.from(tasks.values());
export const tasksOf = referralId => openTasks().filter(t => t.referral_id === referralId);
export const queueReady = () => ready;

// A task done from the app leaves at once; the stream's DONE update confirms it.
export function forgetTask(id) { tasks.delete(id); changed(); }

function apply(update) {
  if (update.snapshot_end) {
    // Only a snapshot ends with snapshot_end (an empty one is just this): it replaces the list.
    tasks.clear();
    if (snapshot) for (const [id, t] of snapshot) tasks.set(id, t);
    snapshot = null;
    ready = true;
    document.body.dataset.queueReady = "true";
    changed();
    return;
  }
  const task = update.task;
  if (!task || !task.id) return;
  if (update.snapshot) {
    if (!snapshot) snapshot = new Map();
    snapshot.set(task.id, task);
    return;
  }
  if (task.status === "TASK_STATUS_OPEN") {
    const isNew = !tasks.has(task.id);
    tasks.set(task.id, task);
    if (isNew && ready) {
      recent.add(task.id);
      announce(`New task: ${taskWords(task.kind)}. ${task.summary || ""}`);
    }
  } else {
    tasks.delete(task.id);
  }
  changed();
}

export function startQueue(onSignedOut) {
  if (stream) return;
  tasks.clear(); snapshot = null; ready = false; recent.clear();  // a new sign-in: a new queue
  delete document.body.dataset.queueReady;
  stream = streamTasks({
    onUpdate: apply,
    onState: (state, error) => {
      // A new connection: the rows of a snapshot the last one broke off are stale (a task among
      // them may be done since); its rows carry no id, so this connection starts it again.
      if (state === "live") snapshot = null;
      connection = { state, error };
      drawStatus();
    },
    onSignedOut,
  });
}
export function stopQueue() { if (stream) stream.stop(); stream = null; }

function drawStatus() {
  const box = document.getElementById("live");
  if (!box) return;
  const text = {
    connecting: "Connecting…", live: "Live: updates appear by themselves",
    reconnecting: "Connection lost: reconnecting…", ended: "Not updating",
  }[connection.state];
  box.textContent = text;
  box.dataset.state = connection.state;
}

// SLA state in words (colour only repeats it): from the task's due time and the referral's open
// deadline alerts.
export function slaState(task, now = Date.now()) {
  const alerts = tasksOf(task.referral_id).map(t => t.kind);
  const due = Date.parse(task.due_at || "");
  if (alerts.includes("TASK_KIND_SLA_BREACHED")) return ["breached", "Deadline missed"];
  if (!Number.isNaN(due) && due < now) return ["overdue", "Overdue"];
  if (alerts.includes("TASK_KIND_SLA_AT_RISK")) return ["at-risk", "At risk"];
  if (!Number.isNaN(due) && new Date(due).toDateString() === new Date(now).toDateString()) return ["today", "Due today"];
  return ["on-time", "On time"];
}

const byDue = (a, b) => (Date.parse(a.due_at || "") || Infinity) - (Date.parse(b.due_at || "") || Infinity);

export function slaBadge(task) {
  const [key, text] = slaState(task);
  return h("span", { class: `badge badge--${key}` }, text);
}

// The page. me: {subject, role, network, queue}.
export function renderQueue(main, me) {
  const team = String(me.queue || "").startsWith("team:");
  const title = team ? `Team queue (${me.queue})` : "My queue";
  const body = h("div", { id: "queue-body" });
  main.replaceChildren(
    h("h1", { tabindex: "-1" }, title),
    h("p", { class: "hint" }, team
      ? "Cases on your network's team queue: open one to assign it to a link worker or work it."
      : "Your open tasks, soonest due first. New tasks appear here by themselves."),
    h("p", { class: "status-line" }, h("span", { class: "visually-hidden" }, "Connection: "),
      h("span", { id: "live", class: "live-status" })),
    body);
  drawStatus();
  const draw = () => {
    if (!document.body.contains(body)) return;
    if (connection.state === "ended" && connection.error) {
      body.replaceChildren(h("div", { class: "notice notice--error" }, messageOf(connection.error)));
      return;
    }
    if (!ready) { body.replaceChildren(h("p", {}, "Loading your queue…")); return; }
    // Redrawing must not lose the reader's place: a focused case link is focused again.
    const focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("[data-task-id]") : null;
    const focusedId = focused && body.contains(focused) ? focused.dataset.taskId : null;
    const list = openTasks().sort(byDue);
    if (!list.length) { body.replaceChildren(h("p", { class: "empty" }, "No open tasks.")); return; }
    body.replaceChildren(h("table", { class: "tasks", role: "table" },
      h("caption", { class: "visually-hidden" }, `${title}: ${list.length} open task${list.length === 1 ? "" : "s"}`),
      h("thead", { role: "rowgroup" }, h("tr", { role: "row" },
        ...["Due", "Deadline", "Task", "Details", "Case"].map(t => h("th", { scope: "col", role: "columnheader" }, t)))),
      h("tbody", { role: "rowgroup" }, list.map(task => h("tr", { role: "row", "data-task-id": task.id, "data-referral-id": task.referral_id },
        h("td", { role: "cell", "data-label": "Due" }, timeElement(task.due_at)),
        h("td", { role: "cell", "data-label": "Deadline" }, slaBadge(task)),
        h("td", { role: "cell", "data-label": "Task" }, taskWords(task.kind),
          recent.has(task.id) ? h("span", { class: "badge badge--new" }, "New") : null),
        h("td", { role: "cell", "data-label": "Details" }, task.summary || ""),
        h("td", { role: "cell", "data-label": "Case" },
          h("a", { href: `#/case/${encodeURIComponent(task.referral_id)}` }, "Open case ",
            h("span", { class: "case-id" }, task.referral_id))))))));
    if (focusedId) {
      const row = Array.from(body.querySelectorAll("[data-task-id]")).find(r => r.dataset.taskId === focusedId);
      if (row) row.querySelector("a").focus();
    }
  };
  draw();
  const off = onQueueChange(draw);
  const tick = setInterval(draw, 60000);  // relative times and "due today" move on
  return () => { off(); clearInterval(tick); recent.clear(); };
}
