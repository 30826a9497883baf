// The link-worker app in Debian's headless Chromium, driven by playwright-core, as a link worker
// uses it (caseload_test.sh starts the services; caseload_fixture.py plays everyone else):
//  1. lw-a signs in from a link with #token=, which leaves the address bar; the queue loads.
//  2. A referral submitted over gRPC appears in the queue without a reload. The task stream is
//     cut (the server ends it after 5 s; the test refuses the reconnections) while a second
//     referral arrives; let through again, the page resumes with Last-Event-ID and shows that
//     task once.
//  3. The case: matched options with their reasons; the person's details only after a purpose.
//  4. The work, each step through the forms: a contact (by keyboard alone), a plan, ONS4 with an
//     anxiety score of 11 (blocked by the form, then refused by the server next to
//     measure.ons4.anxiety), a connection to an option whose last place another worker has just
//     taken ("no places left", the next option offered), attendance, ONS4 again, closure.
//  5. The GP's feedback: ACCEPTED … CLOSED with the scores; exactly one audited delivery.
//  6. lw-b's case cannot be reached from lw-a's app, in the page or the API; nothing audited.
//  7. A coordinator's team queue and the reassign form.
//  8. axe-core on sign-in, queue, case and case-with-errors at 1280 px and 390x844: no serious
//     or critical violation, no sideways scrolling.
//  9. The person declines on the second case: its task leaves the queue as the stream says so.
// Screenshots and caseload-axe.json in the artifacts folder.
// usage: node caseload_test.mjs CONFIG_JSON (written by caseload_test.sh)
import { launchChromium } from "./launch_chromium.mjs";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { axeCheck, problemsOf } from "./axe_check.mjs";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
// A failed check ends the test with its message and a screenshot of the page as it was.
const fail = (message) => { throw new Error(message); };
let watched = null;  // the link worker's page, for that screenshot
const step = (message) => console.log("caseload: " + message);
const fixture = (...args) => execFileSync(config.fixture[0], [...config.fixture.slice(1), ...args],
  { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
const shot = (name) => `${config.artifacts}/caseload-${name}.png`;
const WIDE = { width: 1280, height: 1000 };
const PHONE = { width: 390, height: 844 };
const WAIT = { timeout: 60000 };  // generous: a wait ends as soon as the page gets there
const ONS4 = ["life_satisfaction", "worthwhile", "happiness", "anxiety"];
const isStream = (url) => new URL(url).pathname.endsWith("/app/api/tasks/stream");

async function waitUntil(what, condition, ms = 60000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) fail(`not within ${ms / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const browser = await launchChromium();

// A page of the app in a context of its own (its own sessionStorage, so its own sign-in). The
// test's certificate is accepted here; curl checked the TLS itself with it.
async function openApp(token, options = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: WIDE, ...options });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => {
    // A script or style the Content-Security-Policy refused: the pages must need none.
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) page.errors.push(m.text());
  });
  await page.goto(config.app + (token ? "#token=" + token : ""));
  if (token) {
    await page.waitForSelector('body[data-ready="true"]', WAIT);
    await page.waitForSelector('body[data-queue-ready="true"]', WAIT);
  }
  return { context, page };
}

const formTitled = (page, title) => page.locator("form.action").filter({
  has: page.locator("h3").getByText(title, { exact: true }) });
const flash = (page, text) =>
  page.locator(".notice--success").filter({ hasText: text }).first().waitFor(WAIT);
const rowsOf = (page, rid) => page.locator(`tr[data-referral-id="${rid}"]`);

async function openCase(page, rid) {
  await page.evaluate((id) => { location.hash = "#/case/" + encodeURIComponent(id); }, rid);
  await page.locator("h1 .case-id").getByText(rid, { exact: true }).waitFor(WAIT);
}

async function phoneShot(page, name) {
  await page.setViewportSize(PHONE);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  if (wide) fail(`the ${name} page scrolls sideways at 390 px`);
  await page.screenshot({ path: shot(`${name}-phone`), fullPage: true });
  await page.setViewportSize(WIDE);
}

try {
  // --- 1. Sign in from the link ------------------------------------------------------------
  const { context, page } = await openApp(config.tokens.lwA);
  watched = page;
  if (page.url().includes("token=")) fail("the token stayed in the address bar");
  const heading = await page.locator("h1").textContent();
  if (heading !== "My queue") fail(`the queue's heading is "${heading}"`);
  if (!(await page.locator("#who").textContent()).includes("lw-a")) fail("the header does not say who is signed in");
  // A reload would drop this: its survival says everything below happened in one page load.
  await page.evaluate(() => { window.caseloadTestNoReload = true; });
  const noReload = async (when) => {
    if (!(await page.evaluate(() => window.caseloadTestNoReload === true))) fail(`the page reloaded ${when}`);
  };
  const streamRequests = [];
  page.on("request", (r) => { if (isStream(r.url())) streamRequests.push(r.headers()); });
  step("signed in as lw-a; the token left the address bar");

  // --- 2. Live queue, and a gap in the stream ---------------------------------------------------
  const rid1 = fixture("submit", "a");
  await rowsOf(page, rid1).first().waitFor(WAIT);
  await noReload("while the referral arrived");
  const task1 = await rowsOf(page, rid1).first().getAttribute("data-task-id");
  if (!(await page.locator("#announcer").textContent()).includes("New task")) fail("the new task was not announced");
  step(`${rid1} appeared in the queue without a reload (task ${task1})`);

  let refused = 0;
  const refuse = (url) => isStream(url.href);
  await page.route(refuse, (route) => { refused++; return route.abort(); });
  // The server ends the stream within 5 s; the page's next attempts are refused.
  await waitUntil("the page's reconnection attempts after the stream ended", () => refused >= 1, 60000);
  await page.locator('#live[data-state="reconnecting"]').waitFor(WAIT);
  const rid2 = fixture("submit", "a");
  const task2 = fixture("wait-task", rid2);  // on follow-up now, while the page cannot hear of it
  if (await rowsOf(page, rid2).count()) fail("a task arrived while the stream was refused");
  const resumedFrom = streamRequests.length;
  await page.unroute(refuse);
  await page.locator(`tr[data-task-id="${task2}"]`).waitFor({ timeout: 120000 });
  const resumed = streamRequests.slice(resumedFrom);
  if (!resumed.length || !resumed[0]["last-event-id"]) {
    fail(`the reconnection did not resume: Last-Event-ID ${JSON.stringify(resumed[0] && resumed[0]["last-event-id"])}`);
  }
  if ((await page.locator(`tr[data-task-id="${task2}"]`).count()) !== 1) fail(`${task2} is not shown exactly once`);
  if ((await rowsOf(page, rid1).count()) !== 1) fail(`${rid1}'s task is not shown exactly once after the gap`);
  await noReload("across the stream's gap");
  step(`stream cut ${refused} time(s); resumed with Last-Event-ID ${resumed[0]["last-event-id"]}; ${rid2} shown once`);
  await page.screenshot({ path: shot("queue"), fullPage: true });
  await phoneShot(page, "queue");

  // --- 3. The case, options and details ----------------------------------------------------
  const detailsCalls = [];
  page.on("request", (r) => { if (r.url().endsWith("/details")) detailsCalls.push(r.url()); });
  await rowsOf(page, rid1).first().locator("a").click();
  await page.waitForSelector('body[data-case-ready="true"]', WAIT);
  const options = page.locator("li[data-resource-id]");
  if ((await options.count()) !== 2) fail(`the case shows ${await options.count()} options, expected 2`);
  const [o1, o2] = [await options.nth(0).getAttribute("data-resource-id"),
                    await options.nth(1).getAttribute("data-resource-id")];
  for (const o of [o1, o2]) {
    const reasons = await page.locator(`li[data-resource-id="${o}"] ul.reasons li`).allTextContents();
    if (!reasons.length) fail(`option ${o} shows no reasons`);
  }
  if (await page.getByText("Nora Batty").count()) fail("the person's name is shown before a purpose is given");
  const show = formTitled(page, "Show contact details");
  await show.getByLabel("First contact call").check();
  await show.getByRole("button", { name: "Show contact details" }).click();
  await page.locator("dl.identity").getByText("Nora Batty").waitFor(WAIT);
  if (detailsCalls.length !== 1) fail(`the details were asked for ${detailsCalls.length} times`);
  await page.screenshot({ path: shot("case"), fullPage: true });
  await phoneShot(page, "case");
  step(`case ${rid1}: options ${o1}, ${o2} with reasons; details after the purpose`);

  // --- 4. The work -------------------------------------------------------------------------
  // A contact attempt by keyboard alone: Tab from the top of the page to the question, Space to
  // choose, type the note, Enter on the button.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press("Tab");
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return { name: e && e.name, value: e && e.value, tag: e && e.tagName, text: e && e.textContent.trim() };
  });
  for (let i = 0; i < 300 && (await focused()).name !== "result"; i++) await page.keyboard.press("Tab");
  if ((await focused()).value !== "CONTACT_RESULT_REACHED") fail(`Tab reached ${JSON.stringify(await focused())}, not the contact question`);
  await page.keyboard.press("Space");
  await page.keyboard.press("Tab");
  if ((await focused()).name !== "note") fail(`after the question Tab went to ${JSON.stringify(await focused())}`);
  await page.keyboard.type("Spoke to her on the phone; she would like company at lunch.");
  await page.keyboard.press("Tab");
  if ((await focused()).text !== "Record contact attempt") fail(`Tab went to ${JSON.stringify(await focused())}, not the button`);
  await page.keyboard.press("Enter");
  await flash(page, "Contact attempt recorded: reached.");
  // Reached: the first-contact task is done, and leaves the case's open tasks as the stream says.
  await page.locator(`#case-tasks [data-task-id="${task1}"]`).waitFor({ state: "detached", ...WAIT });
  step("contact recorded by keyboard; the first-contact task left live");

  const plan = formTitled(page, "Agree a plan");
  await plan.locator('textarea[name="plan"]').fill("Lunch club on Thursdays; call after the first visit.");
  await plan.getByRole("button", { name: "Save the plan" }).click();
  await flash(page, "Plan saved.");

  const outcomeCalls = [];
  page.on("request", (r) => { if (r.url().endsWith("/outcome")) outcomeCalls.push(r.url()); });
  const ons4 = formTitled(page, "Record ONS4 wellbeing scores");
  const fillOns4 = async (values) => {
    for (const [i, key] of ONS4.entries()) await ons4.locator(`input[name="measure.ons4.${key}"]`).fill(String(values[i]));
  };
  const anxiety = ons4.locator('input[name="measure.ons4.anxiety"]');
  const anxietyError = ons4.locator(".field", { has: page.locator('input[name="measure.ons4.anxiety"]') })
    .locator(".field-error");
  await fillOns4([4, 5, 3, 11]);
  await ons4.getByRole("button", { name: "Save ONS4 scores" }).click();
  await ons4.locator('input[name="measure.ons4.anxiety"][aria-invalid="true"]').waitFor(WAIT);
  if (!(await anxiety.evaluate((e) => e.validity.rangeOverflow))) fail("the form does not see 11 as out of range");
  if (outcomeCalls.length) fail("the form sent an anxiety score of 11");
  if (!(await anxietyError.isVisible())) fail("no message next to the anxiety score the form blocked");
  // As a browser that let it through would: the server refuses it, naming the field.
  await ons4.evaluate((f) => { f.noValidate = true; });
  const refusal = page.waitForResponse((r) => r.url().endsWith("/outcome") && r.request().method() === "POST", WAIT);
  await ons4.getByRole("button", { name: "Save ONS4 scores" }).click();
  const refusedAnswer = await refusal;
  const body = await refusedAnswer.json();
  const named = (body.violations || []).map((v) => v.field);
  if (refusedAnswer.status() !== 400 || body.code !== "INVALID_ARGUMENT" || named.join() !== "measure.ons4.anxiety") {
    fail(`the server answered ${refusedAnswer.status()} ${JSON.stringify(body)} to an anxiety score of 11`);
  }
  await ons4.locator('input[name="measure.ons4.anxiety"][aria-invalid="true"]').waitFor(WAIT);
  const shown = await anxietyError.textContent();
  if (!shown.includes(body.violations[0].description)) fail(`next to the anxiety score: "${shown}", the server said "${body.violations[0].description}"`);
  if (await ons4.locator('[aria-invalid="true"]:not([name="measure.ons4.anxiety"])').count()) fail("other ONS4 fields were marked invalid");
  if (!(await ons4.locator(".error-summary").isVisible())) fail("no error summary above the refused form");
  await ons4.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot("case-errors"), fullPage: true });
  await ons4.evaluate((f) => { f.noValidate = false; });
  await fillOns4([4, 5, 3, 6]);
  await ons4.getByRole("button", { name: "Save ONS4 scores" }).click();
  await flash(page, "ONS4 scores saved.");
  step(`anxiety 11 blocked by the form, refused by the server at measure.ons4.anxiety: "${body.violations[0].description}"`);

  // Another link worker takes the last place at the first option just before lw-a connects.
  fixture("take-place", o1, config.otherWorkersReferral);
  const first = page.locator(`li[data-resource-id="${o1}"]`);
  await first.getByRole("button", { name: /^Connect/ }).click();
  const full = first.locator(".option-message").filter({ hasText: "No places left at" });
  await full.waitFor(WAIT);
  if (!(await full.textContent()).includes("no place left at")) fail(`the refusal is not said plainly: "${await full.textContent()}"`);
  if (!(await full.evaluate((e) => e === document.activeElement))) fail("the no-places message does not have the focus");
  const instead = first.locator(`[data-next-option="${o2}"]`);
  await instead.waitFor(WAIT);
  await instead.click();
  await flash(page, "Connected to");
  await page.locator(`li[data-resource-id="${o2}"]`).getByText("Connected").waitFor(WAIT);
  step(`${o1} full: said plainly, ${o2} offered and connected`);

  const attendance = formTitled(page, "Record attendance");
  await attendance.getByLabel("Yes, attended").check();
  await attendance.getByRole("button", { name: "Record attendance" }).click();
  await flash(page, "Attendance recorded.");
  await fillOns4([7, 8, 7, 2]);
  await ons4.getByRole("button", { name: "Save ONS4 scores" }).click();
  await flash(page, "ONS4 scores saved.");
  const close = formTitled(page, "Close the case");
  await close.getByLabel("Completed: support in place").check();
  await close.getByRole("button", { name: "Close the case" }).click();
  await flash(page, "Case closed: completed.");
  await page.getByText("nothing more can be recorded on it").waitFor(WAIT);
  if (!(await page.locator("dl.identity").getByText("Nora Batty").count())) fail("the details went after an action");
  // The history (shown newest first): how the case was opened, then each step the worker recorded.
  const history = (await page.locator('section[aria-labelledby="history-h"] li').allInnerTexts()).reverse();
  const expected = [/case opened: assigned/, /contact: reached/, /connected to/, /attended/, /closed: completed/];
  let at = 0;
  for (const line of history) if (at < expected.length && expected[at].test(line)) at++;
  if (at < expected.length || history.some((line) => /unspecified/i.test(line))) {
    fail(`the case's history does not tell its steps in order: ${JSON.stringify(history)}`);
  }
  await page.getByRole("link", { name: "Back to the queue" }).click();
  await page.locator('body[data-queue-ready="true"]').waitFor(WAIT);
  await waitUntil(`${rid1}'s tasks to leave the queue`, async () => (await rowsOf(page, rid1).count()) === 0);
  await noReload("while the case was worked");
  step(`case ${rid1} worked to closure through the forms`);

  // --- 5. What the GP and the audit trail saw ---------------------------------------------
  step(fixture("check", rid1, "4,5,3,6", "7,8,7,2"));

  // --- 6. Another worker's case -----------------------------------------------------------
  const other = config.otherWorkersReferral;
  if (await rowsOf(page, other).count()) fail(`lw-b's ${other} is in lw-a's queue`);
  await page.evaluate((id) => { location.hash = "#/case/" + encodeURIComponent(id); }, other);
  await page.getByText("This case is not in your queue").waitFor(WAIT);
  const asLwA = { Authorization: "Bearer " + config.tokens.lwA, Accept: "application/json" };
  const caseUrl = `${config.app}api/cases/${encodeURIComponent(other)}`;
  for (const [method, url, data] of [
    ["GET", caseUrl], ["POST", `${caseUrl}/details`, { purpose: "First contact call" }],
    ["POST", `${caseUrl}/contact`, { result: "CONTACT_RESULT_REACHED", note: "", request_id: "caseload-test-0000000000000001" }],
    ["GET", `${config.app}api/tasks?queue=lw-b`], ["GET", `${config.app}api/tasks/stream?queue=lw-b`]]) {
    const answer = await context.request.fetch(url, { method, headers: asLwA, data, timeout: 30000 });
    const code = await answer.json().then((b) => b.code, () => "");
    if (answer.status() !== 403 || code !== "PERMISSION_DENIED") fail(`lw-a's ${method} ${url}: ${answer.status()} ${code}`);
  }
  const own = await context.request.get(`${config.app}api/tasks`, { headers: asLwA, timeout: 30000 });
  const ownTasks = (await own.json()).tasks || [];
  if (own.status() !== 200 || ownTasks.some((t) => t.referral_id === other)) fail(`lw-a's own tasks: ${own.status()}`);
  const audits = fixture("audits", other);
  if (audits !== "0") fail(`${audits} deliveries of ${other}'s details audited after lw-a's refused calls`);
  step(`lw-b's ${other}: not in the queue, "not in your queue" in the page, 403 from the API, nothing audited`);

  // --- 7. A coordinator's team queue ---------------------------------------------------------
  {
    const coordinator = await openApp(config.tokens.coordinatorC);
    const p = coordinator.page;
    const title = await p.locator("h1").textContent();
    if (title !== "Team queue (team:pcn-c)") fail(`the coordinator's heading is "${title}"`);
    await rowsOf(p, config.teamReferral).first().waitFor(WAIT);
    await openCase(p, config.teamReferral);
    await p.waitForSelector('body[data-case-ready="true"]', WAIT);
    const reassign = formTitled(p, "Reassign to a link worker");
    await reassign.getByRole("button", { name: "Reassign" }).click();
    await reassign.locator('input[name="to_link_worker_id"][aria-invalid="true"]').waitFor(WAIT);
    if (p.errors.length) fail("errors in the coordinator's page: " + p.errors.join("; "));
    await coordinator.context.close();
    step(`coordinator of pcn-c: team queue with ${config.teamReferral}, reassign form asks for a worker`);
  }

  // --- 8. Accessibility ----------------------------------------------------------------------
  const reports = [];
  for (const viewport of [WIDE, PHONE]) {
    // axe is injected, which the pages' Content-Security-Policy rightly refuses: this context
    // bypasses it (the pages above ran under it).
    const signIn = await openApp("", { bypassCSP: true, viewport });
    await formTitled(signIn.page, "Paste your sign-in token").waitFor(WAIT);
    reports.push(await axeCheck(signIn.page, config.axe, "sign-in"));
    await signIn.context.close();
    const { context: c, page: p } = await openApp(config.tokens.lwA, { bypassCSP: true, viewport });
    await p.locator(`tr[data-referral-id="${rid2}"]`).first().waitFor(WAIT);
    reports.push(await axeCheck(p, config.axe, "queue"));
    await openCase(p, rid2);
    await p.waitForSelector('body[data-case-ready="true"]', WAIT);
    reports.push(await axeCheck(p, config.axe, "case"));
    // The form refusing an out-of-range score (nothing is sent): the page with its errors.
    const form = formTitled(p, "Record ONS4 wellbeing scores");
    for (const [i, key] of ONS4.entries()) await form.locator(`input[name="measure.ons4.${key}"]`).fill(String([4, 5, 3, 11][i]));
    await form.getByRole("button", { name: "Save ONS4 scores" }).click();
    await form.locator('input[name="measure.ons4.anxiety"][aria-invalid="true"]').waitFor(WAIT);
    reports.push(await axeCheck(p, config.axe, "case-with-errors"));
    if (p.errors.length) fail("errors in the page: " + p.errors.join("; "));
    await c.close();
  }
  writeFileSync(`${config.artifacts}/caseload-axe.json`, JSON.stringify(reports, null, 2));
  const problems = problemsOf(reports);
  if (problems.length) fail("accessibility:\n  " + problems.join("\n  "));
  const minor = reports.reduce((n, r) => n + r.violations.length, 0);
  step(`axe-core: no serious or critical violation on ${reports.length} page views (${minor} minor); no sideways scrolling`);

  // --- 9. The person declines: the case's task leaves the queue live --------------------------
  await openCase(page, rid2);
  await page.waitForSelector('body[data-case-ready="true"]', WAIT);
  await page.locator(`#case-tasks [data-task-id="${task2}"]`).waitFor(WAIT);
  const decline = formTitled(page, "The person declines");
  await decline.getByRole("button", { name: "Close as declined" }).click();
  await flash(page, "Case closed: the person declined.");
  await page.locator(`#case-tasks [data-task-id="${task2}"]`).waitFor({ state: "detached", ...WAIT });
  await page.getByRole("link", { name: "Back to the queue" }).click();
  await waitUntil(`${rid2}'s task to leave the queue`, async () => (await rowsOf(page, rid2).count()) === 0);
  await noReload("in the whole session");
  if (page.errors.length) fail("errors in the page: " + page.errors.join("; "));
  step(`${rid2} declined: its task left the queue live. Artifacts in ${config.artifacts}`);
} catch (e) {
  console.error("FAIL: " + (e && e.message ? e.message : e));
  if (watched) await watched.screenshot({ path: shot("failure"), fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
