// A case: its state and deadlines, the matched options with their reasons, the person's details
// (only after a stated purpose: the server audits that), its history, and the forms that work it.
"use strict";

import { api, ApiError } from "./api.js";
import {
  h, nextId, announce, actionForm, textField, radios, messageOf, timeElement, dateText,
  stateWords, needWords, modeWords, contactWords, closureWords, taskWords, TERMINAL,
} from "./ui.js";
import { tasksOf, onQueueChange, forgetTask, slaBadge, queueReady } from "./queue.js";

// The person's details, per case, in this tab's memory only: fetched once (each fetch is an audit
// record), never stored, dropped when the case page is left.
let details = null;  // {referralId, kase}
const fullOptions = new Map();  // resource_id -> message, from "no places left" answers

const PURPOSES = [
  ["First contact call", "First contact call"],
  ["Arranging support", "Arranging support"],
  ["Follow-up check-in", "Follow-up check-in"],
  ["other", "Other (say what)"],
];

const ONS4 = [
  ["life_satisfaction", "Overall, how satisfied are you with your life nowadays?"],
  ["worthwhile", "Overall, to what extent do you feel that the things you do in your life are worthwhile?"],
  ["happiness", "Overall, how happy did you feel yesterday?"],
  ["anxiety", "On a scale where 0 is \u201cnot at all anxious\u201d and 10 is \u201ccompletely anxious\u201d, overall, how anxious did you feel yesterday?"],
];
// SWEMWBS statements are licensed (Warwick Medical School): the form numbers them; the worker
// reads them from the licensed sheet.
const SWEMWBS_SCALE = [["1", "1 None of the time"], ["2", "2 Rarely"], ["3", "3 Some of the time"],
                       ["4", "4 Often"], ["5", "5 All of the time"]];

export function renderCase(main, me, referralId) {
  if (!details || details.referralId !== referralId) details = null;
  let kase = null, flash = null;
  const heading = h("h1", { tabindex: "-1" }, "Case ", h("span", { class: "case-id" }, referralId));
  const body = h("div", {}, h("p", {}, "Loading the case…"));
  main.replaceChildren(
    h("p", { class: "back" }, h("a", { href: "#/" }, "\u2190 Back to the queue")),
    heading, body);

  const draw = (focusFlash = false) => {
    if (!kase || !document.body.contains(body)) return;
    const open = !TERMINAL.has(kase.state);
    const flashBox = flash ? h("div", { class: "notice notice--success", role: "status", tabindex: "-1" }, flash) : null;
    body.replaceChildren(
      flashBox || "",
      summary(kase),
      detailsSection(kase, () => { flash = null; draw(); }),
      tasksSection(kase),
      optionsSection(kase, me, (updated, message) => { kase = updated; flash = message; draw(true); }),
      kase.plan ? h("section", { "aria-labelledby": "plan-h" }, h("h2", { id: "plan-h" }, "Agreed plan"),
        h("p", { class: "plan" }, kase.plan)) : "",
      scoresSection(kase),
      historySection(kase),
      open ? workSection(kase, me, (updated, message) => { kase = updated; flash = message; draw(true); })
           : h("section", { "aria-labelledby": "work-h" }, h("h2", { id: "work-h" }, "Work on this case"),
               h("p", {}, `This case is ${stateWords(kase.state).toLowerCase()}: nothing more can be recorded on it.`)));
    if (focusFlash && flashBox) flashBox.focus();
  };

  api.viewCase(referralId).then(answer => {
    if (!document.body.contains(body)) return;  // the worker has moved on
    kase = answer;
    document.title = `Case ${referralId} — Signpost`;
    draw();
    document.body.dataset.caseReady = "true";
  }, err => {
    if (!document.body.contains(body)) return;
    const text = err instanceof ApiError && err.status === 403
      ? "This case is not in your queue, so it cannot be opened here."
      : err instanceof ApiError && err.status === 404 ? "There is no case with this reference." : messageOf(err);
    body.replaceChildren(h("div", { class: "notice notice--error", role: "alert" }, text),
      h("p", {}, h("a", { href: "#/" }, "Go to your queue")));
  });

  const off = onQueueChange(() => {  // the case's open tasks come and go live
    const box = body.querySelector("#case-tasks");
    if (box && kase) box.replaceWith(tasksSection(kase));
  });
  return () => { off(); delete document.body.dataset.caseReady; if (details && details.referralId !== referralId) details = null; };
}

// Leaving for another case or the queue drops the details.
export function forgetDetails() { details = null; }

function row(term, ...value) {
  return [h("dt", {}, term), h("dd", {}, ...value)];
}

function summary(kase) {
  const connected = kase.connected_resource_ids || [];
  const attempts = Number(kase.contact_attempts || 0);
  return h("section", { "aria-labelledby": "summary-h" },
    h("h2", { id: "summary-h", class: "visually-hidden" }, "Summary"),
    h("dl", { class: "summary" },
      row("State", h("strong", {}, stateWords(kase.state))),
      row("Priority", kase.priority === "URGENCY_PRIORITY" ? "Priority" : "Routine"),
      row("First contact due", timeElement(kase.first_contact_due)),
      row("Contact attempts", `${attempts}${kase.reached ? " (reached)" : attempts ? " (not reached yet)" : ""}`),
      row("Queue", kase.link_worker_id || `team:${kase.network_id || "unrouted"}`),
      row("Referred by practice", kase.referrer_ods_code || "not given"),
      connected.length ? row("Connected to", optionNames(kase, connected).join(", ")) : [],
      kase.closure_reason && kase.closure_reason !== "CLOSURE_REASON_UNSPECIFIED"
        ? row("Closed because", closureWords(kase.closure_reason)) : []));
}

function optionNames(kase, ids) {
  const names = new Map();
  for (const need of kase.needs || []) for (const o of need.options || []) names.set(o.resource_id, o.resource_name);
  return ids.map(id => names.get(id) || id);
}

// --- the person's details -------------------------------------------------------------------
function detailsSection(kase, redraw) {
  const section = h("section", { "aria-labelledby": "details-h", id: "details" },
    h("h2", { id: "details-h" }, "Contact details"));
  if (kase.personal_data_purged) {
    section.append(h("p", {}, "The person's details have been removed from Signpost (the referral was withdrawn or the case is old)."));
    return section;
  }
  if (details && details.referralId === kase.referral_id) {
    section.append(identityList(details.kase));
    return section;
  }
  const other = textField({ name: "purpose_other", label: "What the details are for", hint: "A short label, at most 100 characters; no personal details.", maxlength: 100 });
  other.hidden = true;
  const choice = radios({ name: "purpose_choice", legend: "Why do you need the person's details?",
    hint: "Every opening of the details is recorded with this purpose.", options: PURPOSES });
  choice.addEventListener("change", () => {
    const isOther = choice.querySelector("input:checked")?.value === "other";
    other.hidden = !isOther;
    const input = other.querySelector("input");
    input.required = isOther;
    // A refusal naming "purpose" belongs next to whichever control said it.
    if (isOther) { input.dataset.field = "purpose"; delete choice.dataset.field; }
    else { delete input.dataset.field; choice.dataset.field = "purpose"; }
  });
  choice.dataset.field = "purpose";
  section.append(h("p", {}, "Name, phone, address and the referrer's notes are shown only after you say why you need them."),
    actionForm({
      title: "Show contact details", children: [choice, other], submitText: "Show contact details",
      onSubmit: async data => {
        const picked = data.get("purpose_choice");
        const purpose = picked === "other" ? String(data.get("purpose_other") || "").trim() : picked;
        const answer = await api.caseDetails(kase.referral_id, purpose);
        details = { referralId: kase.referral_id, kase: answer };
        redraw();
        const h2 = document.getElementById("details-h");
        if (h2) { h2.setAttribute("tabindex", "-1"); h2.focus(); }
      },
    }));
  return section;
}

function identityList(full) {
  const p = full.identity || {};
  const name = [p.given_name, p.family_name].filter(Boolean).join(" ");
  const dob = p.date_of_birth && p.date_of_birth.year
    ? `${p.date_of_birth.day}/${p.date_of_birth.month}/${p.date_of_birth.year}` : "";
  const items = [
    ["Name", name + (p.preferred_name ? ` (prefers ${p.preferred_name})` : "")],
    ["Phone", p.phone ? h("a", { href: `tel:${p.phone.replace(/\s/g, "")}` }, p.phone) : ""],
    ["Email", p.email ? h("a", { href: `mailto:${p.email}` }, p.email) : ""],
    ["Address", [...(p.address_lines || []), p.postcode].filter(Boolean).join(", ")],
    ["Date of birth", dob],
    ["NHS number", p.nhs_number || ""],
    ["Preferred language", (full.profile || {}).preferred_language || ""],
    ["Referrer's notes", full.referral_notes || ""],
  ].filter(([, v]) => v);
  return h("dl", { class: "summary identity" }, items.map(([t, v]) => row(t, v)).flat());
}

// --- tasks ----------------------------------------------------------------------------------
function tasksSection(kase) {
  const list = tasksOf(kase.referral_id);
  const section = h("section", { "aria-labelledby": "tasks-h", id: "case-tasks" },
    h("h2", { id: "tasks-h" }, "Open tasks for this case"));
  if (!queueReady()) { section.append(h("p", {}, "Loading…")); return section; }
  if (!list.length) { section.append(h("p", {}, "None.")); return section; }
  section.append(h("ul", { class: "plain" }, list.map(task => {
    const status = h("p", { class: "inline-status", role: "status" });
    return h("li", { class: "task", "data-task-id": task.id },
      h("p", {}, h("strong", {}, taskWords(task.kind)), " ", slaBadge(task), " due ", timeElement(task.due_at)),
      task.summary ? h("p", { class: "hint" }, task.summary) : "",
      h("button", { type: "button", class: "button button--secondary", onclick: async e => {
        const b = e.currentTarget;
        if (b.getAttribute("aria-disabled") === "true") return;
        b.setAttribute("aria-disabled", "true");
        try {
          await api.completeTask(task.id, "");
          forgetTask(task.id);
          announce(`Task done: ${taskWords(task.kind)}.`);
        } catch (err) {
          status.textContent = messageOf(err);
          b.removeAttribute("aria-disabled");
        }
      } }, "Mark done", h("span", { class: "visually-hidden" }, `: ${taskWords(task.kind)}`)),
      status);
  })));
  return section;
}

// --- matched options ------------------------------------------------------------------------
const CAN_CONNECT = new Set(["CASE_STATE_ENGAGED", "CASE_STATE_CONNECTED", "CASE_STATE_FOLLOW_UP"]);

function optionsSection(kase, me, onCase) {
  const connected = new Set(kase.connected_resource_ids || []);
  const section = h("section", { "aria-labelledby": "options-h" }, h("h2", { id: "options-h" }, "Matched options"));
  if (!CAN_CONNECT.has(kase.state) && !TERMINAL.has(kase.state)) {
    section.append(h("p", { class: "hint" }, "You can connect the person to an option once a plan is agreed."));
  }
  const needs = kase.needs || [];
  if (!needs.length) section.append(h("p", {}, "No needs were matched."));
  for (const need of needs) {
    const category = needWords((need.need || {}).category);
    const headingId = nextId("need");
    const options = need.options || [];
    section.append(h("h3", { id: headingId }, category),
      (need.need || {}).description ? h("p", { class: "hint" }, `Referrer: ${need.need.description}`) : "",
      options.length ? h("ol", { class: "options", "aria-labelledby": headingId },
        options.map(o => optionItem(kase, o, options, connected, onCase)))
        : h("p", {}, "No option in the directory meets this need (reported as a gap in provision)."));
  }
  return section;
}

function optionItem(kase, option, siblings, connected, onCase) {
  const facts = [
    option.distance_m ? `${(Number(option.distance_m) / 1000).toFixed(1)} km away` : "",
    modeWords(option.delivery_mode),
  ].filter(Boolean).join(" · ");
  const message = h("div", { class: "option-message", tabindex: "-1", hidden: true });
  const item = h("li", { class: "option", "data-resource-id": option.resource_id },
    h("h4", {}, option.resource_name || option.resource_id),
    facts ? h("p", { class: "hint" }, facts) : "",
    (option.reasons || []).length
      ? [h("p", { class: "reasons-label" }, "Why it was matched:"), h("ul", { class: "reasons" }, option.reasons.map(r => h("li", {}, r)))]
      : "",
    message);
  if (connected.has(option.resource_id)) {
    item.append(h("p", { class: "badge badge--done" }, "\u2713 Connected"));
    return item;
  }
  if (fullOptions.has(option.resource_id)) {
    item.append(h("p", { class: "badge badge--full" }, "No places left"));
  }
  if (!CAN_CONNECT.has(kase.state)) return item;
  const connect = async (resource, button, where) => {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    where.hidden = true;
    try {
      const updated = await api.recordConnection(kase.referral_id, resource.resource_id);
      onCase(updated, `Connected to ${resource.resource_name}. A place was reserved.`);
    } catch (err) {
      button.removeAttribute("aria-disabled");
      where.hidden = false;
      if (err instanceof ApiError && err.code === "RESOURCE_EXHAUSTED") {
        fullOptions.set(resource.resource_id, err.message);
        const next = siblings.find(o => o.resource_id !== resource.resource_id &&
          !connected.has(o.resource_id) && !fullOptions.has(o.resource_id));
        where.replaceChildren(
          h("p", { class: "error-text" }, h("strong", {}, `No places left at ${resource.resource_name}.`), " ", err.message),
          next ? h("button", { type: "button", class: "button", "data-next-option": next.resource_id, onclick: e => {
            connect(next, e.currentTarget, where);
          } }, `Connect to ${next.resource_name} instead`)
               : h("p", {}, "No other option for this need has a place: record the gap and close with \u201cno suitable provision\u201d, or try again later."));
      } else {
        const v = err instanceof ApiError ? err.violations.find(x => x.field === "resource_id") : null;
        where.replaceChildren(h("p", { class: "error-text" }, v ? v.description : messageOf(err)));
      }
      where.focus();
    }
  };
  const button = h("button", { type: "button", class: "button", onclick: e => connect(option, e.currentTarget, message) },
    "Connect", h("span", { class: "visually-hidden" }, ` to ${option.resource_name}`));
  item.append(button);
  return item;
}

// --- scores and history ---------------------------------------------------------------------
function measureText(m) {
  if (!m) return "";
  if (m.ons4) {
    const o = m.ons4;
    return `ONS4: life satisfaction ${o.life_satisfaction ?? 0}, worthwhile ${o.worthwhile ?? 0}, happiness ${o.happiness ?? 0}, anxiety ${o.anxiety ?? 0}`;
  }
  if (m.swemwbs) {
    const a = m.swemwbs.answers || [];
    return `SWEMWBS: ${a.join(", ")} (raw total ${a.reduce((s, x) => s + Number(x), 0)})`;
  }
  return "";
}

function scoresSection(kase) {
  if (!kase.baseline && !kase.latest) return "";
  return h("section", { "aria-labelledby": "scores-h" }, h("h2", { id: "scores-h" }, "Wellbeing scores"),
    h("dl", { class: "summary" },
      kase.baseline ? row("Baseline", measureText(kase.baseline), " ", h("span", { class: "muted" }, dateText(kase.baseline.recorded_at))) : [],
      kase.latest ? row("Latest", measureText(kase.latest), " ", h("span", { class: "muted" }, dateText(kase.latest.recorded_at))) : []),
    kase.sharing_consent ? h("p", { class: "hint" }, "The person agreed to share scores with their GP.")
      : h("p", { class: "hint" }, "The person did not agree to share scores with their GP: they stay here."));
}

function eventText(e) {
  const parts = [];
  // The event that opens a case comes from no state (CASE_STATE_UNSPECIFIED in the JSON).
  const opened = !e.from_state || /_UNSPECIFIED$/.test(e.from_state);
  if (opened && e.to_state) parts.push(`case opened: ${stateWords(e.to_state).toLowerCase()}`);
  else if (e.from_state !== e.to_state && e.to_state) parts.push(`${stateWords(e.from_state)} \u2192 ${stateWords(e.to_state)}`);
  if (e.contact_result) parts.push(`contact: ${contactWords(e.contact_result).toLowerCase()}`);
  if (e.connected_resource_id) parts.push(`connected to ${e.connected_resource_id}`);
  if (typeof e.attended === "boolean") parts.push(e.attended ? "attended" : "did not attend");
  if (e.outcome) parts.push(measureText(e.outcome));
  if (e.closure_reason) parts.push(`closed: ${closureWords(e.closure_reason).toLowerCase()}`);
  if (e.reassigned_to) parts.push(`reassigned to ${e.reassigned_to}`);
  if (e.reason && !parts.length) parts.push(e.reason);
  return parts.join("; ") + (e.actor ? ` (by ${e.actor})` : "");
}

function historySection(kase) {
  const section = h("section", { "aria-labelledby": "history-h" }, h("h2", { id: "history-h" }, "History"));
  const history = kase.history;
  if (!Array.isArray(history)) {  // a server without the case history: what the case itself says
    section.append(h("p", {}, `${Number(kase.contact_attempts || 0)} contact attempt(s); ${kase.reached ? "the person has been reached" : "the person has not been reached yet"}. Last change ${dateText(kase.updated_at)}.`));
    return section;
  }
  if (!history.length) { section.append(h("p", {}, "Nothing recorded yet.")); return section; }
  section.append(h("ol", { class: "history", reversed: true }, history.slice().reverse().map(entry =>
    h("li", {}, h("time", { datetime: entry.at || "" }, dateText(entry.at)), " ", eventText(entry.event || {})))));
  return section;
}

// --- the work -------------------------------------------------------------------------------
const note = (label = "Note (optional)") => textField({ name: "note", label, multiline: true, rows: 3, maxlength: 2000,
  hint: "At most 2,000 characters. Write only what the work needs." });

function workSection(kase, me, onCase) {
  const id = kase.referral_id;
  const saved = (message, form) => async answerPromise => {
    const updated = await answerPromise;
    form && form.reset();
    onCase(updated, message);  // the message is shown in a status box and focused
  };
  const forms = [];

  forms.push(actionForm({
    title: "Record a contact attempt", children: [
      radios({ name: "result", legend: "What happened?", options: [
        ["CONTACT_RESULT_REACHED", "Reached the person"], ["CONTACT_RESULT_NO_ANSWER", "No answer"],
        ["CONTACT_RESULT_LEFT_MESSAGE", "Left a message"], ["CONTACT_RESULT_WRONG_NUMBER", "Wrong number"]] }),
      note()],
    submitText: "Record contact attempt",
    onSubmit: (d, f) => saved(`Contact attempt recorded: ${contactWords(d.get("result")).toLowerCase()}.`, f)(
      api.recordContact(id, d.get("result"), d.get("note") || "")),
  }));

  if (kase.reached && (kase.state === "CASE_STATE_CONTACTING" || kase.state === "CASE_STATE_ENGAGED")) {
    forms.push(actionForm({
      title: kase.plan ? "Change the plan" : "Agree a plan", children: [
        textField({ name: "plan", label: "What matters to the person, and the steps agreed", multiline: true, rows: 6,
          required: true, maxlength: 8000, hint: "At most 8,000 characters." })],
      submitText: "Save the plan",
      onSubmit: (d, f) => saved("Plan saved.", f)(api.agreePlan(id, d.get("plan"))),
    }));
  }

  if (kase.state === "CASE_STATE_CONNECTED" || kase.state === "CASE_STATE_FOLLOW_UP") {
    forms.push(actionForm({
      title: "Record attendance", children: [
        radios({ name: "attended", legend: "Did the person attend?", inline: true,
          options: [["true", "Yes, attended"], ["false", "No, did not attend"]] }),
        note()],
      submitText: "Record attendance",
      onSubmit: (d, f) => saved(d.get("attended") === "true" ? "Attendance recorded." : "Non-attendance recorded.", f)(
        api.recordAttendance(id, d.get("attended") === "true", d.get("note") || "")),
    }));
  }

  forms.push(ons4Form(id, saved), swemwbsForm(id, saved));

  forms.push(actionForm({
    title: "Close the case", children: [
      radios({ name: "reason", legend: "Why does the case close?", options: [
        ["CLOSURE_REASON_COMPLETED", "Completed: support in place"],
        ["CLOSURE_REASON_NO_SUITABLE_PROVISION", "No suitable provision"],
        ["CLOSURE_REASON_UNABLE_TO_CONTACT", "Unable to contact the person"]] }),
      note("Closing note (optional)")],
    submitText: "Close the case", className: "action--end",
    onSubmit: (d, f) => saved(`Case closed: ${closureWords(d.get("reason")).toLowerCase()}.`, f)(
      api.closeCase(id, d.get("reason"), d.get("note") || "")),
  }));

  const decline = actionForm({
    title: "The person declines", intro: "Closes the case as declined: the referrer is told.",
    children: [note("What the person said (optional)")],
    submitText: "Close as declined", className: "action--end",
    onSubmit: (d, f) => saved("Case closed: the person declined.", f)(
      api.closeCase(id, "CLOSURE_REASON_DECLINED", d.get("note") || "")),
  });
  forms.push(decline);

  if (me.role === "coordinator" || me.role === "development") {
    forms.push(actionForm({
      title: "Reassign to a link worker", children: [
        textField({ name: "to_link_worker_id", label: "Link worker's id", required: true, maxlength: 128,
          autocomplete: "off", spellcheck: "false", hint: "As on the network's list, e.g. pcn-leeds-1-lw2." }),
        textField({ name: "reason", label: "Reason (optional)", maxlength: 500, hint: "At most 500 characters." })],
      submitText: "Reassign",
      onSubmit: async d => {
        const to = String(d.get("to_link_worker_id")).trim();
        await api.reassignCase(id, to, d.get("reason") || "");
        announce(`Case ${id} reassigned to ${to}: it has left this queue.`);
        location.hash = "#/";
      },
    }));
  }

  return h("section", { "aria-labelledby": "work-h" }, h("h2", { id: "work-h" }, "Work on this case"), ...forms);
}

function ons4Form(id, saved) {
  const fields = ONS4.map(([key, question]) => textField({
    name: `measure.ons4.${key}`, label: question, hint: "A whole number from 0 (not at all) to 10 (completely).",
    type: "number", inputmode: "numeric", min: 0, max: 10, step: 1, required: true, class: "input--short" }));
  return actionForm({
    title: "Record ONS4 wellbeing scores", intro: "ONS personal wellbeing questions, answered 0 to 10.",
    children: fields, submitText: "Save ONS4 scores",
    onSubmit: (d, f) => {
      const ons4 = {};
      for (const [key] of ONS4) {
        const v = String(d.get(`measure.ons4.${key}`) ?? "").trim();
        if (v !== "") ons4[key] = Number(v);  // sent as typed: the server checks the range too
      }
      return saved("ONS4 scores saved.", f)(api.recordOutcome(id, { ons4 }));
    },
  });
}

function swemwbsForm(id, saved) {
  const groups = Array.from({ length: 7 }, (_, i) => radios({
    name: `measure.swemwbs.answers[${i}]`, legend: `Statement ${i + 1}`, options: SWEMWBS_SCALE, inline: true }));
  return actionForm({
    title: "Record SWEMWBS scores",
    intro: "Short Warwick-Edinburgh Mental Wellbeing Scale: read each statement from the licensed form and record the answer, 1 to 5.",
    children: groups, submitText: "Save SWEMWBS scores",
    onSubmit: (d, f) => {
      const answers = Array.from({ length: 7 }, (_, i) => Number(d.get(`measure.swemwbs.answers[${i}]`) || 0));
      return saved("SWEMWBS scores saved.", f)(api.recordOutcome(id, { swemwbs: { answers } }));
    },
  });
}
