import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { buildReport, runBench } from "../src/index";
import { offlineConfig, tempDir } from "./helpers";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available && process.env.CI)
  throw new Error(`CI needs Chromium at ${CHROMIUM} for the report test (apt-get install chromium)`);

describe.skipIf(!available)("report.html in headless Chromium", () => {
  it("renders its charts and tables with no console errors and no network", async () => {
    const out = tempDir("lmcot-bench-html-");
    await runBench(offlineConfig(out));
    const { files } = await buildReport(out);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      // playwright starts Chromium with a fresh, empty profile of its own.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(e.message));
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
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
