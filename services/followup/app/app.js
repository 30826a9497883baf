// Signpost's link-worker app: sign-in from the link's #token=, then hash routes
// "#/" (the queue) and "#/case/<referral id>". Plain JavaScript, no library, nothing fetched but
// follow-up's own /app/api.
"use strict";

import { api, session, ApiError } from "./api.js";
import { h, actionForm, textField, roleWords, messageOf, dateText } from "./ui.js";
import { renderQueue, startQueue, stopQueue } from "./queue.js";
import { renderCase, forgetDetails } from "./case.js";

const main = document.getElementById("main");
let me = null;
let leave = () => {};

function focusHeading() {
  const h1 = main.querySelector("h1");
  if (h1) h1.focus();
}

function route(moveFocus) {
  leave();
  leave = () => {};
  if (!me) return;
  const hash = location.hash.replace(/^#/, "");
  const m = hash.match(/^\/case\/(.+)$/);
  if (m) {
    leave = renderCase(main, me, decodeURIComponent(m[1]));
  } else {
    forgetDetails();
    document.title = "My queue — Signpost";
    leave = renderQueue(main, me);
  }
  if (moveFocus) focusHeading();
}


function drawHeader() {
  const who = document.getElementById("who");
  const out = document.getElementById("sign-out");
  if (!me) { who.replaceChildren(); out.hidden = true; return; }
  who.replaceChildren(
    h("span", { class: "visually-hidden" }, "Signed in as "), me.subject || me.queue,
    h("span", { class: "muted" }, ` (${roleWords(me.role)}${me.accepted_until ? `, until ${dateText(me.accepted_until)}` : ""})`));
  out.hidden = false;
}

function signedOut(reason) {
  stopQueue();
  leave();
  leave = () => {};
  me = null;
  forgetDetails();
  session.signOut();
  drawHeader();
  showSignIn(reason);
}

// No sign-in link used, signed out, or the sign-in has ended: a token pasted by hand.
function showSignIn(reason) {
  document.title = "Sign in — Signpost";
  const heading = reason === "ended" ? "Your sign-in has ended"
    : reason === "signed-out" ? "You have signed out" : "Sign in";
  main.replaceChildren(
    h("h1", { tabindex: "-1" }, heading),
    reason === "ended" ? h("div", { class: "notice notice--error", role: "alert" },
      "A sign-in lasts a working day at most. Open the app again from a new sign-in link, or paste a new token below.") : "",
    reason === "signed-out" ? h("p", {}, "This tab no longer holds your sign-in.") : "",
    h("p", {}, "Open Signpost from the sign-in link your organisation gives you. On a development system ",
      h("code", {}, "tools/run"), " prints one for a link worker of the region, and ",
      h("code", {}, "signpostctl token --role link_worker"), " makes a token."),
    actionForm({
      title: "Paste your sign-in token",
      children: [textField({ name: "token", label: "Sign-in token", type: "password", required: true,
        autocomplete: "off", spellcheck: "false", hint: "The long text after #token= in your sign-in link." })],
      submitText: "Sign in",
      onSubmit: async data => {
        session.signIn(String(data.get("token") || ""));
        try {
          await start(true);
        } catch (err) {
          if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
            throw new ApiError(400, { code: "INVALID_ARGUMENT", message: err.message,
              violations: [{ field: "token", description: `This token was not accepted: ${err.message}` }] });
          }
          throw err;
        }
      },
    }));
  focusHeading();
}

async function start(fromForm = false) {
  try {
    me = await api.me();
  } catch (err) {
    me = null;
    if (fromForm) { session.signOut(); throw err; }  // shown on the form
    if (err instanceof ApiError && err.status === 401) { signedOut("ended"); return; }
    main.replaceChildren(h("h1", { tabindex: "-1" }, "Signpost cannot be reached"),
      h("div", { class: "notice notice--error", role: "alert" }, messageOf(err)),
      h("p", {}, h("button", { type: "button", class: "button", onclick: () => location.reload() }, "Try again")));
    return;
  }
  drawHeader();
  startQueue(() => signedOut("ended"));
  if (!location.hash.startsWith("#/")) history.replaceState(null, "", location.pathname + location.search + "#/");
  route(fromForm);
  document.body.dataset.ready = "true";
}

document.querySelector(".skip-link").addEventListener("click", e => {
  e.preventDefault();  // "#main" would be taken for a route
  main.focus();
});
document.getElementById("sign-out").addEventListener("click", () => signedOut("signed-out"));
window.addEventListener("hashchange", () => {
  if (location.hash.replace(/^#/, "").startsWith("/")) { route(true); return; }
  // A sign-in link opened in this tab again.
  session.takeFromFragment();
  if (session.hasSignIn()) { stopQueue(); me = null; start(); }
});

session.takeFromFragment();
if (session.hasSignIn()) start(); else showSignIn();
