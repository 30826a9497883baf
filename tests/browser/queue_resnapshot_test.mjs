// The app's queue (services/followup/app/queue.js) when a stream breaks in the middle of a
// snapshot: the pages from the source tree and every API answer played by this test (Playwright's
// route interception; no server), in Debian's Chromium. The first stream sends one snapshot row
// (a task done since) and ends before snapshot_end; the next sends the queue's one open task and
// snapshot_end. The list shown is that one task: rows of an unfinished snapshot are not carried
// into the next. The task's summary, markup from the server, shows as text.
// usage: node queue_resnapshot_test.mjs   (from tests/browser, after tools/install-deps)
import { launchChromium } from "./launch_chromium.mjs";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "../../services/followup/app");
const ORIGIN = "https://app.test";
const fail = (why) => { console.error(`FAIL: ${why}`); process.exit(1); };
const types = { html: "text/html", js: "text/javascript", css: "text/css" };

const task = (id, summary) => ({
  id, referral_id: `ref-${id}`, kind: "TASK_KIND_FIRST_CONTACT", status: "TASK_STATUS_OPEN",
  summary, due_at: "2026-12-08T09:00:00Z",
});
const event = (update, id) =>
  `event: task\n${id ? `id: ${id}\n` : ""}data: ${JSON.stringify(update)}\n\n`;
const MARKUP = `<img src=x onerror="window.__injected=1">Walk`;
const streams = [
  // Broken off after one row of a snapshot: that task is done before the next snapshot.
  event({ task: task("ghost", "Done since"), snapshot: true }),
  event({ task: task("open", MARKUP), snapshot: true }) + event({ snapshot_end: true }, "c1"),
];

const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  let opened = 0;
  await page.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/app/api/me") {
      return route.fulfill({ contentType: "application/json", body: JSON.stringify(
        { subject: "lw-a", role: "link_worker", network: "pcn-a", queue: "lw-a", accepted_until: "" }) });
    }
    if (path === "/app/api/tasks/stream") {
      const body = streams[opened++];
      if (body === undefined) return;  // later reconnections wait: the list stays as it is
      return route.fulfill({ contentType: "text/event-stream", body });
    }
    const file = path === "/app/" ? "index.html" : path.replace(/^\/app\//, "");
    try {
      return route.fulfill({ contentType: types[file.split(".").pop()] || "text/plain",
                             body: readFileSync(join(appDir, file)) });
    } catch {
      return route.fulfill({ status: 404, body: "" });
    }
  });
  await page.goto(`${ORIGIN}/app/#token=test-token`);
  await page.waitForSelector("body[data-queue-ready=true] [data-task-id]", { timeout: 60000 });
  const shown = await page.$$eval("[data-task-id]", (rows) => rows.map((r) => r.dataset.taskId));
  if (JSON.stringify(shown) !== JSON.stringify(["open"])) {
    fail(`the queue shows ${JSON.stringify(shown)} after a snapshot broken off and one complete, not ["open"]`);
  }
  const details = await page.$eval("[data-task-id=open] [data-label=Details]", (td) =>
    ({ text: td.textContent, images: td.querySelectorAll("img").length }));
  if (details.text !== MARKUP || details.images !== 0) {
    fail(`the summary was not shown as text: ${JSON.stringify(details)}`);
  }
  if (await page.evaluate(() => window.__injected)) fail("the summary's markup ran");
  if (errors.length) fail(`errors on the page: ${errors.join("; ")}`);
  console.log("PASS");
} finally {
  await browser.close();
}
