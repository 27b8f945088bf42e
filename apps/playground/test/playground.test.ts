import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { faultServer } from "@lmcot/llm/testing";
import { writeFixtureT5 } from "@lmcot/model-writer";
import { chromium } from "playwright-core";
import { build } from "vite";
import { describe, expect, it } from "vitest";
import { CHROMIUM_LAUNCH, chromiumAvailable } from "../../../tooling/chromium";
import { staticServer } from "./static-server";

const available = chromiumAvailable("playground test");

const app = join(__dirname, "..");
const KEY = "sk-playground-0123456789";

/** The built page (turbo builds it before the tests; built here when run alone). */
async function builtPage(): Promise<string> {
  const dist = join(app, "dist");
  if (!existsSync(join(dist, "index.html"))) await build({ root: app, logLevel: "error" });
  return dist;
}

describe.skipIf(!available)("the playground in headless Chromium, offline", () => {
  it("loads a tiny T5 our writer made, runs the three methods against a loopback server, shows the answers", async () => {
    const dist = await builtPage();
    const models = mkdtempSync(join(tmpdir(), "lmcot-playground-"));
    await writeFixtureT5(join(models, "tiny-t5"), { seed: 0 });
    const site = await staticServer({ "/models/": models, "/": dist });
    const large = await faultServer({ cors: true, reply: "So the answer is: yes" });
    const browser = await chromium.launch(CHROMIUM_LAUNCH);
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
      const offLoopback: string[] = [];
      await context.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "127.0.0.1") return route.continue();
        offLoopback.push(url.href);
        return route.abort();
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${site.url}/index.html`);
      await page.waitForSelector("body[data-ready=true]");
      expect(await page.locator("#example option").count()).toBe(58);
      expect(await page.locator("#device").textContent()).toContain("wasm");

      await page.selectOption("#example", "0");
      expect(await page.inputValue("#question")).toBe(
        "Were Scott Derrickson and Ed Wood of the same nationality?",
      );
      await page.fill("#small-model", "./models/tiny-t5");
      await page.selectOption("#provider", "openai-compatible");
      await page.fill("#base-url", `${large.url}/v1`);
      await page.fill("#large-model", "tiny-large");
      await page.fill("#api-key", KEY);
      await page.click("#load");
      await expect
        .poll(() => page.locator("#load-status").textContent(), { timeout: 60_000 })
        .toMatch(/ready on wasm/);
      expect(await page.locator("#load-progress").evaluate((p: HTMLProgressElement) => p.value)).toBe(1);

      await page.click("#run");
      await page.waitForSelector("body[data-run=done]", { timeout: 60_000 });
      const guided = page.locator('article[data-method="lm-guided"]');
      expect(await guided.locator(".answer").textContent()).toBe("yes");
      expect(await guided.locator("dd.em1").textContent()).toBe("1");
      const rationale = (await guided.locator(".rationale").textContent()) ?? "";
      expect(rationale.length).toBeGreaterThan(0);
      for (const method of ["standard", "cot"])
        expect(await page.locator(`article[data-method="${method}"] .answer`).textContent()).toBe("yes");
      expect(await guided.locator("dl").textContent()).toMatch(/small LM tokens\d+ in \/ \d+ out/);

      // The large LM got the small LM's rationale, and the key went to it and nowhere else.
      const calls = large.seen.filter((r) => r.method === "POST");
      expect(calls).toHaveLength(3);
      expect(calls.some((c) => JSON.stringify(c.body).includes(rationale.slice(0, 40)))).toBe(true);
      expect(calls.every((c) => c.headers.authorization === `Bearer ${KEY}`)).toBe(true);
      expect(JSON.stringify(site.seen)).not.toContain(KEY);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      const shots = join(app, "test-output");
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, "playground.png"), fullPage: true });

      // Run again: the large LM's three answers come from IndexedDB, and nothing is sent.
      await page.click("#run");
      await page.waitForSelector("body[data-run=done]", { timeout: 60_000 });
      expect(await page.locator("article.card", { hasText: "from this browser's cache" }).count()).toBe(3);
      expect(large.seen.filter((r) => r.method === "POST")).toHaveLength(3);
      // The weights are in Cache Storage.
      expect(await page.evaluate(() => caches.keys())).toContain("transformers-cache");

      await page.screenshot({ path: join(shots, "playground-cached.png"), fullPage: true });
      expect(errors).toEqual([]);
      expect(offLoopback).toEqual([]);
    } finally {
      await browser.close();
      await large.close();
      await site.close();
    }
  }, 180_000);
});
