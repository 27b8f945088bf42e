/**
 * `lmcot bench report` and `lmcot view` on synthetic runs of 1k / 5k / 20k questions × 18 cells
 * (bench/synthetic-run.ts), before (another build of the CLI, e.g. main's) and after (this one),
 * interleaved round by round: the report command's peak RSS and wall time, the report page's first
 * paint and filter time in Chromium, the view server's start time and peak RSS, the viewer's first
 * paint, filter time and item-open time. Each number as min / median / max over the rounds; a side
 * that fails (out of memory, a timeout) is reported with its reason.
 *
 *   node --import tsx bench/pages-scale.ts [--sizes 1000,5000,20000] [--rounds 3]
 *     [--before /work/main/apps/cli/dist/cli.js] [--dir /tmp/pages-syn] [--out results.json] [--append]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { CHROMIUM_LAUNCH } from "../../../tooling/chromium";
import { writeSyntheticRun } from "./synthetic-run";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const SIZES = arg("sizes", "1000,5000,20000").split(",").map(Number);
const ROUNDS = Number(arg("rounds", "3"));
const DIR = arg("dir", join(tmpdir(), "pages-syn"));
const SIDES = {
  before: resolve(arg("before", "/work/main/apps/cli/dist/cli.js")),
  after: fileURLToPath(new URL("../../cli/dist/cli.js", import.meta.url)),
};
const OUT = arg("out", join(DIR, "pages-scale.json"));
const TIMEOUT_MS = Number(arg("timeout", "600000"));
type Side = keyof typeof SIDES;

/**
 * Preloaded into each measured process: its peak RSS (KB) and CPU time (µs, user + system) written
 * to $LMCOT_PEAK_FILE at exit. CPU time is the fairer clock on a machine shared with other work.
 */
const PEAK = join(tmpdir(), "lmcot-pages-peak.cjs");
writeFileSync(
  PEAK,
  `process.on("exit", () => { const u = process.resourceUsage(); require("node:fs").writeFileSync(process.env.LMCOT_PEAK_FILE, u.maxRSS + " " + (u.userCPUTime + u.systemCPUTime)); });\n`,
);

/** The high-water mark of a process's RSS (MB) from /proc, for one killed before it could say. */
const hwm = (pid: number | undefined) => {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
};

function start(cli: string, args: string[]): { child: ChildProcess; peakFile: string; seen: () => number } {
  const peakFile = join(tmpdir(), `lmcot-pages-peak-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const child = spawn(process.execPath, ["-r", PEAK, cli, ...args], {
    env: { ...process.env, LMCOT_PEAK_FILE: peakFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let peak = 0;
  const poll = setInterval(() => {
    peak = Math.max(peak, hwm(child.pid) ?? 0);
  }, 250);
  child.once("exit", () => clearInterval(poll));
  return { child, peakFile, seen: () => peak };
}

/** Peak RSS (MB) and CPU seconds of a measured process that has exited (undefined: it was killed). */
const usage = (file: string) => {
  if (!existsSync(file)) return {};
  const [kb, cpu] = readFileSync(file, "utf8").split(" ").map(Number);
  rmSync(file);
  return { rssMb: kb! / 1024, cpuS: cpu! / 1e6 };
};

/** Wall time, exit and peak RSS of a command run to its end; stderr's last line when it failed. */
async function command(cli: string, args: string[]) {
  const started = performance.now();
  const { child, peakFile, seen } = start(cli, args);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  child.stdout!.resume();
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  const [code, signal] = await new Promise<[number | null, string | null]>((ok) =>
    child.once("exit", (c, s) => ok([c, s])),
  );
  clearTimeout(timer);
  const ms = performance.now() - started;
  const { rssMb, cpuS } = usage(peakFile);
  const killed =
    signal === "SIGKILL" ? ` (timed out at ${TIMEOUT_MS / 1000} s, ${seen().toFixed(0)} MB RSS by then)` : "";
  const error =
    code === 0
      ? undefined
      : `exit ${code ?? signal}${killed}: ${stderr.trim().split("\n").slice(-3).join(" | ").slice(0, 300)}`;
  return { ms, cpuS, rssMb: rssMb ?? (seen() || undefined), error };
}

/** Times `input` events on the page's controls, synchronously (filtering is synchronous in both pages). */
async function filterMs(page: import("playwright-core").Page, steps: [string, string, string][]) {
  return page.evaluate((steps) => {
    const times: number[] = [];
    for (const [id, value, event] of steps) {
      const el = document.getElementById(id) as HTMLInputElement;
      if (el.type === "checkbox") el.checked = value === "1";
      else el.value = value;
      const t = performance.now();
      el.dispatchEvent(new Event(event));
      times.push(performance.now() - t);
    }
    return Math.max(...times);
  }, steps);
}

async function reportPage(browser: Browser, dir: string) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.goto(`file://${join(dir, "report.html")}`, { waitUntil: "commit", timeout: TIMEOUT_MS });
    const paint = await page.waitForFunction(
      () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime,
      undefined,
      { timeout: TIMEOUT_MS, polling: 50 },
    );
    const firstPaintMs = (await paint.jsonValue()) as number;
    await page.waitForSelector("#count", { timeout: TIMEOUT_MS });
    const filter = await filterMs(page, [
      ["filter", "number 7", "input"],
      ["filter", "", "input"],
      ["wrong", "1", "change"],
      ["wrong", "0", "change"],
    ]);
    return { firstPaintMs, filterMs: filter };
  } finally {
    await page.close().catch(() => undefined);
  }
}

async function viewer(browser: Browser, cli: string, dir: string) {
  const started = performance.now();
  const { child, peakFile, seen } = start(cli, ["view", dir]);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((ok) => child.once("exit", (c) => ok(c)));
  const url = await Promise.race([
    new Promise<string>((ok) => child.stdout!.once("data", (d: Buffer) => ok(d.toString().trim()))),
    exited.then(() => undefined),
    new Promise<undefined>((ok) => setTimeout(() => ok(undefined), TIMEOUT_MS).unref()),
  ]);
  const startMs = performance.now() - started;
  const out: Record<string, number | string | undefined> = { startMs };
  try {
    if (!url) throw new Error(`no URL: ${stderr.trim().split("\n").slice(-2).join(" | ").slice(0, 300)}`);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(url, { waitUntil: "commit", timeout: TIMEOUT_MS });
      const paint = await page.waitForFunction(
        () => (window as unknown as { LMCOT_FIRST_PAINT_MS?: number }).LMCOT_FIRST_PAINT_MS,
        undefined,
        { timeout: TIMEOUT_MS, polling: 50 },
      );
      out.firstPaintMs = (await paint.jsonValue()) as number;
      out.filterMs = await filterMs(page, [
        ["search", "number 7", "input"],
        ["search", "", "input"],
        ["flag", "fixedStandard", "input"],
        ["flag", "", "input"],
      ]);
      const t = performance.now();
      await page.locator("#rows .row").first().click();
      await page.waitForSelector("#item .method details.call", { timeout: TIMEOUT_MS });
      out.openItemMs = performance.now() - t;
    } finally {
      await page.close().catch(() => undefined);
    }
  } catch (error) {
    out.error = (error as Error).message.split("\n")[0]!.slice(0, 300);
  }
  child.kill("SIGINT");
  await Promise.race([exited, new Promise((ok) => setTimeout(ok, 30_000).unref())]);
  child.kill("SIGKILL");
  const used = usage(peakFile);
  Object.assign(out, used, used.rssMb === undefined ? { rssMb: seen() || undefined } : {});
  return out;
}

type Row = Record<string, number | string | undefined>;
const results: { size: number; side: Side; round: number; report: Row; reportPage: Row; view: Row }[] =
  // --append: add rounds to those of an earlier invocation with the same --out (and print them all).
  process.argv.includes("--append") && existsSync(OUT) ? JSON.parse(readFileSync(OUT, "utf8")) : [];

const browser = await chromium.launch(CHROMIUM_LAUNCH);
try {
  for (const size of SIZES) {
    const dir = join(DIR, `q${size}`);
    if (!existsSync(join(dir, "plan.json"))) {
      process.stderr.write(`writing ${dir}\n`);
      writeSyntheticRun(dir, size);
    }
    const done = results.filter((r) => r.size === size).length / 2;
    for (let round = done; round < done + ROUNDS; round++) {
      const order: Side[] = round % 2 ? ["after", "before"] : ["before", "after"];
      for (const side of order) {
        const report: Row = await command(SIDES[side], ["bench", "report", dir]);
        let page: Row = { error: "not measured: the report command failed" };
        if (!report.error)
          page = await reportPage(browser, dir).catch((e: Error) => ({ error: e.message.split("\n")[0] }));
        const view = await viewer(browser, SIDES[side], dir);
        results.push({ size, side, round, report, reportPage: page, view });
        process.stderr.write(`${JSON.stringify(results.at(-1))}\n`);
        writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
      }
    }
  }
} finally {
  await browser.close();
}

const spread = (xs: number[]) => {
  if (!xs.length) return "–";
  const s = [...xs].sort((a, b) => a - b);
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  return `${f(s[Math.floor(s.length / 2)]!)} (${f(s[0]!)}–${f(s.at(-1)!)})`;
};
const METRICS: [string, (r: (typeof results)[number]) => Row, string][] = [
  ["report: peak RSS (MB)", (r) => r.report, "rssMb"],
  ["report: wall (ms)", (r) => r.report, "ms"],
  ["report: CPU (s)", (r) => r.report, "cpuS"],
  ["report.html: first paint (ms)", (r) => r.reportPage, "firstPaintMs"],
  ["report.html: filter (ms)", (r) => r.reportPage, "filterMs"],
  ["view server: start (ms)", (r) => r.view, "startMs"],
  ["view server: peak RSS (MB)", (r) => r.view, "rssMb"],
  ["view server: CPU (s)", (r) => r.view, "cpuS"],
  ["viewer: first paint (ms)", (r) => r.view, "firstPaintMs"],
  ["viewer: filter (ms)", (r) => r.view, "filterMs"],
  ["viewer: open an item (ms)", (r) => r.view, "openItemMs"],
];
const lines = [
  "| questions × 18 cells | measure | before: median (min–max) | after: median (min–max) |",
  "| ---: | --- | ---: | ---: |",
];
for (const size of SIZES)
  for (const [name, part, field] of METRICS) {
    const cell = (side: Side) => {
      const rows = results.filter((r) => r.size === size && r.side === side).map(part);
      const values = rows.map((r) => r[field]).filter((v): v is number => typeof v === "number");
      const errors = [...new Set(rows.map((r) => r.error).filter(Boolean))];
      return values.length === rows.length
        ? spread(values)
        : `${spread(values)}; failed: ${errors.join("; ")}`;
    };
    lines.push(`| ${size.toLocaleString("en-US")} | ${name} | ${cell("before")} | ${cell("after")} |`);
  }
process.stdout.write(`${lines.join("\n")}\n`);
