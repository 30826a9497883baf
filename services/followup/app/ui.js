// Small DOM helpers, words for the API's enum names, dates, and the form pattern every page uses:
// labelled fields, an error summary at the top of the form and each server refusal shown above the
// field it names (violation.field = the input's name = the proto field path).
"use strict";

import { ApiError } from "./api.js";

// h("p", {class: "x"}, "text", child, …): attributes as given; on* keys as listeners.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

let uid = 0;
export const nextId = prefix => `${prefix}-${++uid}`;

// Hash routes make "#id" links change the page: move focus instead.
export function focusLink(text, target) {
  return h("a", { href: "#" + target.id, onclick: e => { e.preventDefault(); target.focus(); } }, text);
}

const announcer = () => document.getElementById("announcer");
export function announce(text) {
  const box = announcer();
  if (!box) return;
  box.append(h("p", {}, text));
  while (box.childElementCount > 5) box.firstElementChild.remove();
}

// --- words --------------------------------------------------------------------------------------
const words = s => String(s || "").toLowerCase().replace(/_/g, " ");
const sentence = s => { const w = words(s); return w.charAt(0).toUpperCase() + w.slice(1); };
export const stateWords = s => sentence(String(s || "").replace(/^CASE_STATE_/, "")) || "Unknown";
export const needWords = s => sentence(String(s || "").replace(/^NEED_CATEGORY_/, "")) || "Need";
export const modeWords = s => sentence(String(s || "").replace(/^DELIVERY_MODE_/, "")) || "";
export const contactWords = s => ({
  CONTACT_RESULT_REACHED: "Reached", CONTACT_RESULT_NO_ANSWER: "No answer",
  CONTACT_RESULT_WRONG_NUMBER: "Wrong number", CONTACT_RESULT_LEFT_MESSAGE: "Left a message",
})[s] || sentence(s);
export const closureWords = s => ({
  CLOSURE_REASON_COMPLETED: "Completed", CLOSURE_REASON_DECLINED: "Person declined",
  CLOSURE_REASON_UNABLE_TO_CONTACT: "Unable to contact", CLOSURE_REASON_WITHDRAWN: "Withdrawn by the referrer",
  CLOSURE_REASON_EXPIRED: "Expired", CLOSURE_REASON_NO_SUITABLE_PROVISION: "No suitable provision",
})[s] || sentence(String(s || "").replace(/^CLOSURE_REASON_/, ""));
export const taskWords = s => ({
  TASK_KIND_FIRST_CONTACT: "First contact", TASK_KIND_FOLLOW_UP_CHECK_IN: "Follow-up check-in",
  TASK_KIND_SLA_AT_RISK: "First-contact deadline at risk", TASK_KIND_SLA_BREACHED: "First-contact deadline missed",
  TASK_KIND_REASSIGNED_CASE: "Case reassigned to you",
})[s] || sentence(String(s || "").replace(/^TASK_KIND_/, ""));
export const roleWords = r => ({ link_worker: "link worker", coordinator: "coordinator", development: "development, no sign-in" })[r] || words(r);
export const TERMINAL = new Set(["CASE_STATE_CLOSED", "CASE_STATE_DECLINED", "CASE_STATE_UNABLE_TO_CONTACT",
                                 "CASE_STATE_WITHDRAWN", "CASE_STATE_EXPIRED"]);

// --- dates --------------------------------------------------------------------------------------
const when = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const relative = new Intl.RelativeTimeFormat("en-GB", { numeric: "auto" });
export function dateText(ts) {
  const t = Date.parse(ts || "");
  return Number.isNaN(t) ? "" : when.format(t);
}
export function relativeText(ts, now = Date.now()) {
  const t = Date.parse(ts || "");
  if (Number.isNaN(t)) return "";
  const minutes = Math.round((t - now) / 60000);
  if (Math.abs(minutes) < 60) return relative.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 48) return relative.format(hours, "hour");
  return relative.format(Math.round(hours / 24), "day");
}
export function timeElement(ts) {
  if (!ts) return h("span", {}, "not set");
  return h("time", { datetime: ts }, dateText(ts), " ", h("span", { class: "muted" }, `(${relativeText(ts)})`));
}

// --- form fields --------------------------------------------------------------------------------
// Each field: a wrapper (.field) with its label, an optional hint, a hidden error line, the control.
function describe(control, ...ids) {
  const list = ids.filter(Boolean).join(" ");
  if (list) control.setAttribute("aria-describedby", list);
  else control.removeAttribute("aria-describedby");
}

export function textField({ name, label, hint, multiline, rows = 4, ...attrs }) {
  const id = nextId("f"), hintId = hint ? id + "-hint" : "", errorId = id + "-error";
  const control = multiline
    ? h("textarea", { id, name, rows, ...attrs })
    : h("input", { id, name, type: "text", ...attrs });
  describe(control, hintId);
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    hint && h("p", { class: "hint", id: hintId }, hint),
    h("p", { class: "field-error", id: errorId, hidden: true }),
    control);
}

// A radio group: [[value, label, hint?]…] in a fieldset whose legend asks the question.
export function radios({ name, legend, hint, options, required = true, inline = false }) {
  const id = nextId("r"), hintId = hint ? id + "-hint" : "", errorId = id + "-error";
  const set = h("fieldset", { class: "field", id },
    h("legend", {}, legend),
    hint && h("p", { class: "hint", id: hintId }, hint),
    h("p", { class: "field-error", id: errorId, hidden: true }));
  if (hintId) describe(set, hintId);
  const list = h("div", { class: inline ? "radios radios--inline" : "radios" });
  options.forEach(([value, text, optionHint], i) => {
    const rid = `${id}-${i}`;
    list.append(h("div", { class: "radio" },
      h("input", { type: "radio", id: rid, name, value, required: required && i === 0 }),
      h("label", { for: rid }, text, optionHint ? h("span", { class: "hint" }, " " + optionHint) : null)));
  });
  set.append(list);
  return set;
}

export function button(text, attrs = {}) {
  return h("button", { type: "submit", class: "button", ...attrs }, text);
}

// --- the form pattern ---------------------------------------------------------------------------
// form(title, children, submit, onSubmit): onSubmit(formData, form) returns a promise; refusals
// are shown by showErrors. The browser's own checks (required, min, max) are shown the same way.
export function actionForm({ title, intro, children, submitText, onSubmit, className = "" }) {
  const headingId = nextId("h");
  const summary = h("div", { class: "error-summary", tabindex: "-1", hidden: true });
  const submit = button(submitText);
  const form = h("form", { class: "action " + className, "aria-labelledby": headingId },
    h("h3", { id: headingId }, title),
    intro && h("p", { class: "hint" }, intro),
    summary, ...children, h("div", { class: "actions" }, submit));
  let invalid = [], pending = false;
  form.addEventListener("invalid", e => {
    e.preventDefault();  // our messages, not the browser's bubble
    if (!invalid.some(c => c.name === e.target.name)) invalid.push(e.target);
    if (!pending) {
      pending = true;
      setTimeout(() => {
        pending = false;
        showErrors(form, invalid.map(c => ({ field: c.name, description: c.validationMessage })));
        invalid = [];
      }, 0);
    }
  }, true);
  form.addEventListener("submit", async e => {
    e.preventDefault();
    if (submit.getAttribute("aria-disabled") === "true") return;
    clearErrors(form);
    submit.setAttribute("aria-disabled", "true");
    form.setAttribute("aria-busy", "true");
    try {
      await onSubmit(new FormData(form), form);
    } catch (err) {
      showErrors(form, err);
    } finally {
      submit.removeAttribute("aria-disabled");
      form.removeAttribute("aria-busy");
    }
  });
  return form;
}

// The control a violation names: the input, select or textarea with that name (a radio group: its
// fieldset), or an element marked data-field="<name>".
function fieldFor(form, name) {
  const marked = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
  const named = marked || form.elements.namedItem(name);
  if (!named) return null;
  const controls = named instanceof RadioNodeList ? Array.from(named)
    : named.tagName === "FIELDSET" ? Array.from(named.querySelectorAll("input")) : [named];
  if (!controls.length) return null;
  const first = controls[0];
  const wrapper = first.type === "radio" ? first.closest("fieldset") : first.closest(".field");
  if (!wrapper) return null;
  const label = first.type === "radio" ? wrapper.querySelector("legend") : wrapper.querySelector("label");
  return { controls, wrapper, label: label ? label.textContent : name, error: wrapper.querySelector(".field-error") };
}

export function clearErrors(form) {
  const summary = form.querySelector(".error-summary");
  if (summary) { summary.hidden = true; summary.replaceChildren(); summary.removeAttribute("role"); }
  for (const e of form.querySelectorAll(".field-error")) { e.hidden = true; e.textContent = ""; }
  for (const w of form.querySelectorAll(".field--error")) w.classList.remove("field--error");
  for (const c of form.querySelectorAll("[aria-invalid]")) {
    c.removeAttribute("aria-invalid");
    describe(c, ...(c.getAttribute("aria-describedby") || "").split(" ").filter(id => !id.endsWith("-error")));
  }
}

export function messageOf(err) {
  if (!(err instanceof ApiError)) {
    return "Signpost could not be reached. Check the connection and try again: nothing was lost.";
  }
  switch (err.code || err.status) {
    case "FAILED_PRECONDITION": case 422: return `Not possible now: ${err.message}`;
    case "PERMISSION_DENIED": case 403: return `Not allowed: ${err.message}`;
    case "UNAUTHENTICATED": case 401: return "Your sign-in has ended. Open the app again from a new sign-in link.";
    case "UNAVAILABLE": case 503: return `Signpost is busy or unavailable; try again shortly. (${err.message})`;
    default: return err.message;
  }
}

// err: an ApiError / network error, or a list of {field, description} from the browser's checks.
export function showErrors(form, err) {
  clearErrors(form);
  const violations = Array.isArray(err) ? err : (err instanceof ApiError ? err.violations : []);
  const items = [];
  if (!Array.isArray(err) && (!violations.length || !(err instanceof ApiError) || err.status !== 400)) {
    items.push(h("li", {}, messageOf(err)));
  }
  for (const v of violations) {
    const f = fieldFor(form, v.field);
    if (!f) { items.push(h("li", {}, `${v.field ? v.field + ": " : ""}${v.description}`)); continue; }
    f.wrapper.classList.add("field--error");
    f.error.hidden = false;
    f.error.replaceChildren(h("span", { class: "visually-hidden" }, "Error: "), v.description);
    for (const c of f.controls) {
      c.setAttribute("aria-invalid", "true");
      const ids = (c.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      describe(c, f.error.id, ...ids);
    }
    const target = f.controls.find(c => c.checked) || f.controls[0];
    if (!target.id) target.id = nextId("c");
    items.push(h("li", {}, focusLink(`${f.label.trim()}: ${v.description}`, target)));
  }
  const summary = form.querySelector(".error-summary");
  summary.replaceChildren(h("h4", {}, "There is a problem"), h("ul", {}, items));
  summary.hidden = false;
  summary.setAttribute("role", "alert");
  summary.focus();
}
