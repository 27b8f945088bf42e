import type { Page } from "playwright-core";

/**
 * Watches a page before it loads: console errors and uncaught exceptions go to `problems`;
 * `violations()` lists the directives of every Content-Security-Policy violation so far.
 */
export async function watchPage(
  page: Page,
): Promise<{ problems: string[]; violations: () => Promise<string[]> }> {
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(e.message));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (e) => seen.push(e.effectiveDirective));
  });
  const violations = () =>
    page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
  return { problems, violations };
}
