import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { CHROMIUM_LAUNCH, chromiumAvailable } from "../../../tooling/chromium";
import { buildReport, buildReportData, renderHtml, runBench } from "../src/index";
import { offlineConfig, tempDir } from "./helpers";
import { watchPage } from "./page-watch";
import { writeGeneratedRun } from "./view-fixture";

const available = chromiumAvailable("report test");

const launch = () => chromium.launch(CHROMIUM_LAUNCH);

describe.skipIf(!available)("report.html in headless Chromium", () => {
  it("renders its charts and tables with no console errors, no CSP violation and no network", async () => {
    const out = tempDir("lmcot-bench-html-");
    await runBench(offlineConfig(out));
    const { files } = await buildReport(out);
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const { problems: errors, violations } = await watchPage(page);
      const requests: string[] = [];
      page.on("request", (r) => !r.url().startsWith("file://") && requests.push(r.url()));
      await page.goto(`file://${files[2]}`);
      expect(await page.locator("#results tbody tr").count()).toBe(6);
      expect(await page.locator("#chart-scores rect.bar.f1").count()).toBe(6);
      expect(await page.locator("#chart-cost circle").count()).toBe(6);
      // Every cell costs $0 offline: the labels still never overlap.
      const boxes = await page
        .locator("#chart-cost text")
        .evaluateAll((els) =>
          els.map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.top, r.right, r.bottom]),
        );
      const overlaps = boxes.flatMap((a, i) =>
        boxes.slice(i + 1).filter((b) => a[0]! < b[2]! && b[0]! < a[2]! && a[1]! < b[3]! && b[1]! < a[3]!),
      );
      expect(overlaps).toEqual([]);
      expect(await page.locator("#tokens tbody tr").count()).toBe(6);
      expect(await page.locator("#run-config").textContent()).toContain("@lmcot/core");
      expect(await page.locator("svg.hist").count()).toBeGreaterThan(0);
      expect(await page.locator("#claims tbody tr").count()).toBe(4);
      await expect.poll(() => page.locator("#offline-note").textContent()).toContain("offline stand-in");
      const width = await page
        .locator("#chart-scores rect.bar.f1")
        .first()
        .evaluate((el) => el.getBoundingClientRect().width);
      expect(width).toBeGreaterThan(0);
      // The example browser filters.
      const total = await page.locator("#examples tbody tr:not([hidden])").count();
      expect(total).toBe(42);
      await page.check("#wrong");
      const wrong = await page.locator("#examples tbody tr:not([hidden])").count();
      expect(wrong).toBeLessThan(total);
      await page.uncheck("#wrong");
      await page.fill("#filter", "Scott Derrickson");
      expect(await page.locator("#examples tbody tr:not([hidden])").count()).toBeLessThan(total);
      await page.fill("#filter", "");
      const shots = join(__dirname, "..", "test-output");
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, "report.png"), fullPage: true });
      expect(errors).toEqual([]);
      expect(await violations()).toEqual([]);
      expect(requests).toEqual([]);
      // The policy is in force: markup slipped into the page by any means cannot run a handler.
      await page.evaluate(() => {
        const div = document.createElement("div");
        div.innerHTML = '<img src="data:," onerror="window.__injected=1">';
        document.body.append(div);
      });
      await expect.poll(violations).toEqual(["script-src-attr"]);
      expect(await page.evaluate(() => (window as { __injected?: number }).__injected)).toBeUndefined();
    } finally {
      await browser.close();
    }
  });

  it("a run holding markup in its text fields shows it as text; nothing runs, the filters still work", async () => {
    const dir = tempDir("lmcot-bench-html-xss-");
    writeGeneratedRun(dir, 4);
    const xss = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const data = await buildReportData(dir);
    data.examples[0]!.question = xss;
    data.examples[0]!.em = xss as unknown as number;
    data.examples[1]!.answer = xss;
    data.cells[0]!.byType[xss] = data.cells[0]!.byType.bridge!;
    const file = join(dir, "report.html");
    writeFileSync(file, renderHtml(data));
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const { problems, violations } = await watchPage(page);
      await page.goto(`file://${file}`);
      expect(await page.locator("#examples img, #examples script, #by-type img").count()).toBe(0);
      expect(await page.locator("#examples tbody tr").first().locator("td").nth(1).textContent()).toBe(xss);
      expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
      await page.check("#wrong");
      expect(await page.locator("#examples tbody tr:not([hidden])").count()).toBeGreaterThan(0);
      expect(problems).toEqual([]);
      expect(await violations()).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
