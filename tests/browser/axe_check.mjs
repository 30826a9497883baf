// axe-core (pinned in package.json) run in the page as it stands, against WCAG 2.0, 2.1 and 2.2
// A and AA: what the NHS service manual asks of a service. The pages' Content-Security-Policy
// refuses injected scripts, so the page must come from a context made with bypassCSP: true.
// The test fails on serious or critical violations; every violation goes in the report.

export const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
const BLOCKING = new Set(["serious", "critical"]);

// One page as the person sees it now: {name, url, viewport, violations: [{id, impact, help,
// targets}], blocking: [ids], horizontalScroll}. horizontalScroll: the page is wider than the
// window (a phone user would have to scroll sideways).
export async function axeCheck(page, axePath, name) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) {
    await page.addScriptTag({ path: axePath });
  }
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
    WCAG_TAGS);
  const violations = result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.slice(0, 10).map((n) => n.target.join(" ")),
  }));
  const horizontalScroll = await page.evaluate(
    () => document.documentElement.scrollWidth > window.innerWidth);
  return {
    name, url: page.url().replace(/#token=[^&]*/, "#token=…"), viewport: page.viewportSize(),
    violations, blocking: violations.filter((v) => BLOCKING.has(v.impact)).map((v) => v.id),
    horizontalScroll,
  };
}

// What a report says is wrong, one line each; none: an empty list.
export function problemsOf(reports) {
  const problems = [];
  for (const r of reports) {
    const size = `${r.viewport.width}x${r.viewport.height}`;
    for (const v of r.violations.filter((x) => r.blocking.includes(x.id))) {
      problems.push(`${r.name} at ${size}: ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(", ")}`);
    }
    if (r.horizontalScroll) problems.push(`${r.name} at ${size}: scrolls sideways`);
  }
  return problems;
}
