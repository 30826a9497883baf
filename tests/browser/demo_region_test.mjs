// The dashboard of `tools/run --demo` in Debian's headless Chromium (demo_region_test.sh): the
// equity table shows every IMD quintile, the Core20 line names the region's share and the
// provision-against-need chart and table show every quintile. Leaves a screenshot of the page.
// usage: node demo_region_test.mjs DASHBOARD_URL SCREENSHOT_PATH REGION_CORE20_SHARE
import { launchChromium } from "./launch_chromium.mjs";

const [url, screenshot, regionShare] = process.argv.slice(2);
const fail = (message) => { console.error("FAIL: " + message); process.exit(1); };

const browser = await launchChromium(["--ignore-certificate-errors"]);
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  const rows = await page.locator("#equity tbody tr").allTextContents();
  if (rows.length === 0) fail("the equity table is empty");
  // The five quintiles, not "unknown" (referrals on their way to matching, which gives the decile).
  const quintiles = rows.filter((r) => /quintile/i.test(r) && !/unknown/.test(r));
  if (quintiles.length !== 5) fail(`${quintiles.length} IMD quintile rows: ${quintiles.join(" | ")}`);
  const withheld = quintiles.filter((r) => /withheld/.test(r));
  if (withheld.length) fail("IMD quintiles withheld: " + withheld.join(" | "));
  const core20 = await page.locator("#core20").textContent();
  const population = `${(100 * Number(regionShare)).toFixed(0)}% of the population served`;
  if (!core20.includes(population)) fail(`the Core20 line "${core20}" does not say "${population}"`);
  console.log(`${rows.length} rows in the equity table, every quintile shown; ${core20}`);
  // The funnel over time: this week's referrals on the chart and in its table.
  const weeks = await page.locator("#weeks g[data-week]").count();
  if (weeks < 1) fail("the week-by-week chart shows no week");
  const latest = await page.locator("#weekly tbody tr").first().locator("td").allTextContents();
  if (!(Number(latest[1]) > 0)) fail(`the latest week shows no referrals: ${latest.join(" | ")}`);
  console.log(`week by week: ${weeks} week(s); latest ${latest.join(" | ")}`);
  // Provision against need: a bar pair and a table row for each quintile, none withheld.
  const bars = await page.locator("#provision g[data-quintile]").count();
  const provision = await page.locator("#provision-quintiles tbody tr").allTextContents();
  const named = provision.filter((r) => !/^unknown/.test(r));
  if (bars < 5 || named.length !== 5) fail(`provision: ${bars} bar groups, rows ${named.join(" | ")}`);
  const empty = named.filter((r) => /withheld|no referrals/.test(r));
  if (empty.length) fail("provision rows without referrals: " + empty.join(" | "));
  console.log(`provision against need: ${named.join(" | ")}`);
  await page.screenshot({ path: screenshot, fullPage: true });
  if (errors.length) fail("errors in the page: " + errors.join("; "));
} finally {
  await browser.close();
}
