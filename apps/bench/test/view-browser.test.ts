import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_LAUNCH, chromiumAvailable } from "../../../tooling/chromium";
import type { BenchRecord } from "../src/grid";
import { buildView, buildViewData, exportView, FLAGS, runBench, serveView, viewFiles } from "../src/index";
import { offlineConfig, tempDir } from "./helpers";
import { watchPage } from "./page-watch";
import { writeGeneratedRun } from "./view-fixture";

const available = chromiumAvailable("viewer test");
const shots = join(__dirname, "..", "test-output");

/** Run B: run A with every third LM-guided answer made wrong, a reward file and a failure. */
function makeRunB(a: string): string {
  const b = tempDir("lmcot-view-b-");
  cpSync(a, b, { recursive: true });
  const records = readFileSync(join(a, "run.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as BenchRecord);
  const changed = records.map((r, i) =>
    r.cell.method === "lm-guided" && i % 3 === 0 ? { ...r, answer: "nobody", em: 0, f1: 0 } : r,
  );
  writeFileSync(join(b, "run.jsonl"), `${changed.map((r) => JSON.stringify(r)).join("\n")}\n`);
  const guided = records.find((r) => r.cell.method === "lm-guided")!;
  writeFileSync(
    join(a, "rewards.jsonl"),
    `${JSON.stringify({ key: guided.key, reward: 0.75, taskReward: 1, aspectReward: 0.5, aspects: { factuality: 0.6 } })}\n`,
  );
  appendFileSync(
    join(b, "errors.jsonl"),
    `${JSON.stringify({ key: "missing-item", cell: guided.cell.id, errorClass: "rate_limit", status: 429, message: "slow down", at: new Date().toISOString() })}\n`,
  );
  return b;
}

/** Opens the viewer; `all()`: its console errors, uncaught exceptions, CSP violations and network use so far. */
async function open(browser: Browser, url: string) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const watched = await watchPage(page);
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith("file://") && !u.startsWith("http://127.0.0.1:"))
      watched.problems.push(`network: ${u}`);
  });
  await page.goto(url);
  await page.waitForSelector("#rows .row");
  const all = async () => [
    ...watched.problems,
    ...(await watched.violations()).map((d) => `CSP violation: ${d}`),
  ];
  return { page, all };
}

const count = async (page: Page) => Number((await page.locator("#count").textContent())!.split(" ")[0]);

describe.skipIf(!available)("lmcot view in headless Chromium", () => {
  let browser: Browser;
  let a: string;
  let b: string;
  beforeAll(async () => {
    a = tempDir("lmcot-view-a-");
    await runBench(offlineConfig(a));
    b = makeRunB(a);
    mkdirSync(shots, { recursive: true });
    browser = await chromium.launch(CHROMIUM_LAUNCH);
  }, 120_000);
  afterAll(async () => browser?.close());

  it("filters, sorts, opens an item, follows permalinks and keys, compares two runs", async () => {
    const { data } = await buildViewData([a, b]);
    const expected = (flag: number) => data.items.filter((x) => x.flags & flag).length;
    const served = await serveView(await buildView([a, b]));
    try {
      const { page, all } = await open(browser, served.url);
      expect(await count(page)).toBe(data.items.length);
      expect(await page.locator("#head .h").allTextContents()).toContain("A · lm-guided · selector");
      await page.screenshot({ path: join(shots, "view-matrix.png") });
      // Fixed / broke and the comparison of A and B.
      for (const flag of ["fixedStandard", "brokeStandard", "wrongEverywhere", "worseInB"] as const) {
        await page.selectOption("#flag", flag);
        expect(await count(page), flag).toBe(expected(FLAGS[flag]));
      }
      expect(expected(FLAGS.worseInB)).toBeGreaterThan(0);
      expect(expected(FLAGS.betterInB)).toBe(0);
      await page.screenshot({ path: join(shots, "view-compare.png") });
      await page.selectOption("#flag", "");
      // Type, context length and text search.
      await page.selectOption("#type", "comparison");
      expect(await count(page)).toBe(data.items.filter((x) => x.type === "comparison").length);
      await page.selectOption("#type", "");
      await page.fill("#ctxmin", "3000");
      expect(await count(page)).toBe(data.items.filter((x) => x.contextChars >= 3000).length);
      await page.fill("#ctxmin", "");
      await page.fill("#search", "scott derrickson");
      expect(await count(page)).toBe(1);
      await page.fill("#search", "");
      // Sort by context length, longest first.
      await page.click('#head [data-sort="ctx"]');
      const longest = Math.max(...data.items.map((x) => x.contextChars));
      expect(await page.locator("#rows .row").first().locator(".n").textContent()).toBe(String(longest));
      // Keyboard: down twice, Enter opens the third row; Escape closes.
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("Enter");
      await expect.poll(() => page.locator("#item").isVisible()).toBe(true);
      expect(await page.locator(".row.sel").getAttribute("data-k")).toBe("2");
      await page.keyboard.press("Escape");
      expect(await page.locator("#item").isVisible()).toBe(false);
      // The item page: context with supporting facts, each method's rationale, raw output, answer, reward.
      await page.click('#head [data-sort="question"]');
      const guided = data.items.findIndex((x) => x.answer[2] !== null);
      const item = data.items[guided]!;
      await page.fill("#search", item.id);
      await page.locator("#rows .row").first().click();
      await page.waitForSelector("#context mark.fact");
      expect(page.url()).toContain(`#item=${item.dataset}/${item.id}`);
      expect(await page.locator("#item .method").count()).toBe(item.answer.filter((x) => x !== null).length);
      expect(await page.locator("#item .rationale").count()).toBeGreaterThan(0);
      await page.locator("#item details.call").first().click();
      expect(await page.locator("#item pre.raw").first().textContent()).not.toBe("");
      await page.screenshot({ path: join(shots, "view-item.png") });
      // The permalink opens the same item in a fresh page.
      const again = await open(browser, page.url());
      await again.page.waitForSelector("#context mark.fact");
      expect(await again.page.locator("#item h2").textContent()).toBe(item.question);
      // Failures and the run configuration.
      await page.keyboard.press("Escape");
      expect(await page.locator("#show-failures").textContent()).toBe("failures (1)");
      await page.click("#show-failures");
      expect(await page.locator("#failures tbody tr").count()).toBe(1);
      expect(await page.locator("#failures pre").first().textContent()).toContain('"@lmcot/core"');
      expect([...(await all()), ...(await again.all())]).toEqual([]);
      await again.page.close();
    } finally {
      await served.close();
    }
  }, 120_000);

  it("shows the rewards of a rationale when rewards.jsonl is beside the run", async () => {
    const guided = readFileSync(join(a, "rewards.jsonl"), "utf8");
    const key = (JSON.parse(guided) as { key: string }).key;
    const record = readFileSync(join(a, "run.jsonl"), "utf8")
      .split("\n")
      .map((l) => (l ? (JSON.parse(l) as BenchRecord) : undefined))
      .find((r) => r?.key === key)!;
    const index = exportView(await buildView([a]), tempDir("lmcot-view-export-"));
    const { page, all } = await open(
      browser,
      `file://${index}#item=${record.cell.dataset}/${record.exampleId}`,
    );
    await page.waitForSelector("#item .reward");
    expect(await page.locator("#item .reward").textContent()).toContain("reward 0.750");
    expect(await all()).toEqual([]);
  }, 30_000);

  it("shows a call's reasoning text and reasoning tokens on the item page; calls without stay as they were", async () => {
    const dir = tempDir("lmcot-view-reasoning-");
    cpSync(a, dir, { recursive: true });
    const records = readFileSync(join(a, "run.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as BenchRecord);
    const target = records.find((r) => r.cell.method === "standard" && r.prompts?.length)!;
    const thought = "First the bridge entity, then <its> birth year.";
    const changed = records.map((r) =>
      r !== target
        ? r
        : {
            ...r,
            usage: { ...r.usage, reasoningTokens: 9 },
            prompts: r.prompts!.map((p, i) =>
              i === 0
                ? {
                    ...p,
                    reasoning: thought,
                    usage: { inputTokens: 5, outputTokens: 12, reasoningTokens: 9 },
                  }
                : p,
            ),
          },
    );
    writeFileSync(join(dir, "run.jsonl"), `${changed.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const index = exportView(await buildView([dir]), tempDir("lmcot-view-reasoning-out-"));
    const { page, all } = await open(
      browser,
      `file://${index}#item=${target.cell.dataset}/${target.exampleId}`,
    );
    await page.waitForSelector("#item details.call");
    const standard = page.locator("#item .method").first();
    expect(await standard.locator(".meta").first().textContent()).toContain("(9 reasoning)");
    expect(await standard.locator("details.call summary").first().textContent()).toContain(
      "12 out tokens (9 reasoning)",
    );
    await standard.locator("details.call").first().click();
    expect(await standard.locator("pre.reasoning").textContent()).toBe(thought);
    // The other cells' calls carry no reasoning and show none.
    expect(await page.locator("#item pre.reasoning").count()).toBe(1);
    expect(await all()).toEqual([]);
  }, 30_000);

  it("sends a Content-Security-Policy; markup in any field shows as text and nothing runs, served or exported", async () => {
    const dir = tempDir("lmcot-view-xss-");
    writeGeneratedRun(dir, 4);
    const xss = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const records = readFileSync(join(dir, "run.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as BenchRecord);
    const marked = records.map((r) =>
      r.exampleId !== "gen-0"
        ? r
        : {
            ...r,
            question: xss,
            type: xss,
            answer: xss,
            rationale: xss,
            gold: [xss],
            prompts: r.prompts!.map((p) => ({ ...p, output: xss, model: xss })),
          },
    );
    writeFileSync(join(dir, "run.jsonl"), `${marked.map((r) => JSON.stringify(r)).join("\n")}\n`);
    appendFileSync(
      join(dir, "errors.jsonl"),
      `${JSON.stringify({ key: "k", cell: xss, errorClass: xss, message: xss, at: xss })}\n`,
    );
    const index = await buildViewData([dir]);
    // Values of the wrong type (validation bypassed) are escaped as well.
    const wrongTypes = {
      ...index.data,
      items: index.data.items.map((x, i) => (i === 1 ? { ...x, contextChars: xss as unknown as number } : x)),
    };
    const files = viewFiles({ ...index, data: wrongTypes });
    const served = await serveView(files);
    try {
      const res = await fetch(served.url);
      const policy = res.headers.get("content-security-policy") ?? "";
      expect(policy).toMatch(
        /default-src 'none'; script-src 'self' 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/,
      );
      expect(policy).toContain("frame-ancestors 'none'");
      for (const url of [served.url, `file://${exportView(files, tempDir("lmcot-view-xss-out-"))}`]) {
        const { page, all } = await open(browser, url);
        await page.fill("#search", "gen-0");
        await page.locator("#rows .row").first().click();
        await page.waitForSelector("#item details.call");
        await page.locator("#item details.call").first().click();
        await page.keyboard.press("Escape");
        await page.fill("#search", "");
        await page.click("#show-failures");
        expect(await page.locator("#item h2").textContent()).toBe(xss);
        expect(await page.locator("#item pre.raw").first().textContent()).toBe(xss);
        expect(await page.locator("#rows .n").nth(1).textContent()).toBe(xss);
        expect(await page.locator("body img, #rows script, #item script, #failures script").count()).toBe(0);
        expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
        expect(await all(), url).toEqual([]);
        await page.close();
      }
    } finally {
      await served.close();
    }
  }, 60_000);

  it("10,000 questions × 6 cells: first paint < 2 s, a filter < 200 ms", async () => {
    const dir = tempDir("lmcot-view-10k-");
    writeGeneratedRun(dir, 10_000);
    const index = exportView(await buildView([dir]), tempDir("lmcot-view-10k-out-"));
    const { page, all } = await open(browser, `file://${index}`);
    const firstPaint = await page.evaluate(
      () => (window as unknown as { LMCOT_FIRST_PAINT_MS: number }).LMCOT_FIRST_PAINT_MS,
    );
    expect(await count(page)).toBe(10_000);
    // Item details are not on the page: each item's come from items/<i>.js when it is opened.
    const filterMs = await page.evaluate(() => {
      const times: number[] = [];
      const run = (id: string, value: string) => {
        const el = document.getElementById(id) as HTMLInputElement;
        el.value = value;
        const t = performance.now();
        el.dispatchEvent(new Event("input"));
        times.push(performance.now() - t);
      };
      run("search", "number 99");
      run("search", "");
      run("flag", "fixedStandard");
      run("flag", "");
      return times;
    });
    const sortMs = await page.evaluate(() => {
      const t = performance.now();
      (document.querySelector('#head [data-sort="3"]') as HTMLElement).click();
      return performance.now() - t;
    });
    console.log(
      `viewer at 10,000 × 6: first paint ${firstPaint.toFixed(0)} ms, filters ${filterMs.map((t) => t.toFixed(1)).join(" / ")} ms, sort ${sortMs.toFixed(1)} ms`,
    );
    expect(firstPaint).toBeLessThan(2000);
    expect(Math.max(...filterMs)).toBeLessThan(200);
    expect(sortMs).toBeLessThan(200);
    await page.screenshot({ path: join(shots, "view-10k.png") });
    // The item page at this scale, with self-consistency samples.
    await page.evaluate(() => {
      location.hash = "#item=hotpotqa/gen-0";
    });
    await page.waitForSelector("#item .samples li");
    expect(await page.locator("#item .method").first().locator(".samples li").count()).toBe(0);
    expect(await page.locator("#item .samples").count()).toBe(4);
    expect(await all()).toEqual([]);
  }, 120_000);
});
