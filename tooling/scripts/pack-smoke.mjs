#!/usr/bin/env node
// Packs every publishable package and installs each tarball (with the @lmcot tarballs it needs) into a
// fresh npm project outside the workspace, with a plain `npm install` (no .npmrc, no skip flags). Then:
// imports every export from ESM and CJS, type-checks a consumer .mts and .cts (strict, nodenext,
// skipLibCheck false), measures node_modules against the install budgets, runs `lmcot --version`, and
// for small-lm checks the missing-transformers.js error, the README example's types and, after the
// README's one-line install of transformers.js, the example itself. publint runs on each package.
// Each package's browser entry is bundled from the installed tarball (browser-bundles.mjs).
// Prints a size table; exits non-zero on any failure or budget overrun.
//   node tooling/scripts/pack-smoke.mjs [--only name,name]   (KEEP_PACK_SMOKE=1 keeps the folders)
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bundleBrowserEntry, kilobytes, NODE_ONLY } from "./browser-bundles.mjs";

const { values } = parseArgs({ options: { only: { type: "string" } } });
const root = new URL("../..", import.meta.url).pathname;
const packageManager = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager;
const tsc = join(root, "node_modules", ".bin", "tsc");
const work = mkdtempSync(join(tmpdir(), "lmcot-pack-"));
const tarballs = join(work, "tarballs");
mkdirSync(tarballs);

/** node_modules budgets in MB (issue #20); packages without one are measured, not judged. */
const BUDGET_MB = {
  "@lmcot/core": 1,
  "@lmcot/metrics": 1,
  "@lmcot/model-writer": 10,
  "@lmcot/datasets": 10,
  "@lmcot/llm": 70,
  "@lmcot/rewards": 70,
  "@lmcot/small-lm": 70,
  "@lmcot/train": 80,
};
/** Packages whose README's first ```ts block is type-checked (and run, for small-lm). */
const README_EXAMPLES = ["@lmcot/model-writer", "@lmcot/small-lm"];
const TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: "nodenext",
    moduleResolution: "nodenext",
    target: "es2022",
    skipLibCheck: false,
    noEmit: true,
  },
};

const run = (cmd, args, cwd, env = process.env) =>
  execFileSync(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
const seconds = (since) => (Date.now() - since) / 1000;
const npmInstall = (project, specs, extra = []) =>
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...extra, ...specs], project);
const megabytes = (dir) => Number(run("du", ["-sk", dir], dir).split("\t")[0]) / 1024;

const packages = ["packages", "apps"]
  .flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(root, dir, name)))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ pkg }) => !pkg.private);

const tarballOf = new Map();
for (const { dir, pkg } of packages) {
  run(join(root, "node_modules", ".bin", "publint"), ["--strict", "--pack", "npm"], dir);
  const out = run("npx", ["-y", packageManager, "pack", "--pack-destination", tarballs], dir)
    .trim()
    .split("\n")
    .pop();
  tarballOf.set(pkg.name, out);
}
console.log(`packed ${tarballOf.size} packages, publint clean`);

const deps = new Map(packages.map(({ pkg }) => [pkg.name, Object.keys(pkg.dependencies ?? {})]));
function closure(name, seen = new Set()) {
  if (seen.has(name) || !tarballOf.has(name)) return seen;
  seen.add(name);
  for (const d of deps.get(name) ?? []) closure(d, seen);
  return seen;
}
const tarballsFor = (names) =>
  [...new Set(names.flatMap((n) => [...closure(n)]))].map((n) => tarballOf.get(n));

function specifiersOf(pkg) {
  return Object.keys(pkg.exports ?? { ".": null })
    .filter((k) => k !== "./package.json")
    .map((k) => (k === "." ? pkg.name : `${pkg.name}/${k.slice(2)}`));
}

/** Every export imported from ESM and required from CJS: the same names both ways. */
function checkExports(project, specs) {
  return specs.map((spec) => {
    const count = (args) => run("node", [...args], project).trim();
    const esm = count([
      "--input-type=module",
      "-e",
      `console.log(Object.keys(await import(${JSON.stringify(spec)})).length)`,
    ]);
    const cjs = count(["-e", `console.log(Object.keys(require(${JSON.stringify(spec)})).length)`]);
    if (esm !== cjs) throw new Error(`${spec}: ESM exports ${esm} names, CJS ${cjs}`);
    return esm;
  });
}

function importMs(project, spec) {
  const script = `const t = performance.now(); await import(${JSON.stringify(spec)}); console.log(performance.now() - t)`;
  return Number(run("node", ["--input-type=module", "-e", script], project));
}

/** A consumer .mts and .cts that import every export (and the README example), type-checked. */
function typecheck(project, specs, example) {
  const files = ["consumer.mts", "consumer.cts"];
  const body = specs.map(
    (s, i) =>
      `import * as m${i} from ${JSON.stringify(s)};\nexport const n${i} = Object.keys(m${i}).length;\n`,
  );
  for (const f of files) writeFileSync(join(project, f), body.join(""));
  if (example !== undefined) {
    writeFileSync(join(project, "readme-example.mts"), `${example}\nexport {};\n`);
    files.push("readme-example.mts");
  }
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ ...TSCONFIG, files }));
  try {
    run(tsc, ["-p", "tsconfig.json"], project);
  } catch (error) {
    throw new Error(`types: ${error.stdout || error.message}`);
  }
  return files.length === 3 ? "mts, cts, README" : "mts, cts";
}

function readmeExample(dir) {
  const match = /```ts\n([\s\S]*?)```/.exec(readFileSync(join(dir, "README.md"), "utf8"));
  if (!match) throw new Error("README has no ```ts example");
  return match[1];
}

/** small-lm without transformers.js: a `transformers:` model fails with the install line. */
function checkMissingTransformers(project) {
  const script = `
import { writeFixtureT5 } from "@lmcot/model-writer";
import { getRationaleModel } from "@lmcot/small-lm";
await writeFixtureT5("./models/tiny-t5", { seed: 0 });
const small = await getRationaleModel("transformers:./models/tiny-t5");
const error = await small.generate(["hi"]).then(() => undefined, (e) => e);
if (!/npm install @huggingface\\/transformers/.test(String(error?.message))) throw new Error("no install line: " + error);
console.log(error.message);`;
  writeFileSync(join(project, "missing.mjs"), script);
  return run("node", ["missing.mjs"], project).trim();
}

const rows = [];
let failures = 0;
const only = values.only?.split(",").map((n) => (n.startsWith("@") ? n : `@lmcot/${n}`));
for (const { dir, pkg } of packages.filter(({ pkg }) => !only || only.includes(pkg.name))) {
  const project = join(work, `alone-${pkg.name.replace("@lmcot/", "")}`);
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "smoke", private: true, version: "0.0.0" }),
  );
  const row = { name: pkg.name, budget: BUDGET_MB[pkg.name] };
  rows.push(row);
  try {
    const started = Date.now();
    npmInstall(project, tarballsFor([pkg.name]));
    row.seconds = seconds(started);
    row.mb = megabytes(join(project, "node_modules"));
    const specs = specifiersOf(pkg);
    const counts = checkExports(project, specs);
    row.importMs = importMs(project, pkg.name);
    let example;
    if (README_EXAMPLES.includes(pkg.name)) {
      example = readmeExample(dir);
      const needs = [...example.matchAll(/from "(@lmcot\/[a-z-]+)/g)].map((m) => m[1]);
      npmInstall(project, tarballsFor(needs));
    }
    row.types = typecheck(project, specs, example);
    const notes = [
      `exports ${specs.map((s, i) => `${s.slice(pkg.name.length) || "."} ${counts[i]}`).join(", ")}`,
    ];
    if (pkg.bin?.lmcot) {
      const version = run(join(project, "node_modules", ".bin", "lmcot"), ["--version"], project).trim();
      if (version !== pkg.version)
        throw new Error(`lmcot --version printed ${version}, expected ${pkg.version}`);
      notes.push(`lmcot --version = ${version}`);
    }
    if (pkg.name === "@lmcot/small-lm") {
      notes.push(`without transformers.js: "${checkMissingTransformers(project)}"`);
      // the README's install line, then the README example for real
      const install = /^npm install .*@huggingface\/transformers.*$/m.exec(
        readFileSync(join(dir, "README.md"), "utf8"),
      );
      if (!install) throw new Error("README has no npm install line with @huggingface/transformers");
      const args = install[0]
        .split(/\s+/)
        .slice(2)
        .filter((a) => !a.startsWith("@lmcot/"));
      const t = Date.now();
      npmInstall(project, args);
      const withTransformers = {
        name: "@lmcot/small-lm + transformers.js",
        seconds: seconds(t) + row.seconds,
        mb: megabytes(join(project, "node_modules")),
        types: "",
      };
      rows.push(withTransformers);
      writeFileSync(join(project, "readme-example.mjs"), example);
      run("node", ["readme-example.mjs"], project);
      notes.push(`README example ran after \`${install[0]}\``);
    }
    if (dir.includes("/packages/") && !NODE_ONLY[pkg.name]) {
      const bundle = await bundleBrowserEntry(join(project, "node_modules", pkg.name));
      if (bundle.problems) throw new Error(`browser entry: ${bundle.problems.join("; ")}`);
      row.browser = `${kilobytes(bundle.bytes)} (${kilobytes(bundle.gzip)} gz)`;
    }
    if (row.budget !== undefined && row.mb > row.budget)
      throw new Error(`node_modules is ${row.mb.toFixed(1)} MB, over the ${row.budget} MB budget`);
    console.log(`ok   ${pkg.name}: ${notes.join("; ")}`);
  } catch (error) {
    failures++;
    row.failed = true;
    console.error(`FAIL ${pkg.name}: ${error.stderr || error.message}`);
  }
}

console.log("\n| package | npm install | node_modules | budget | import | types checked | browser bundle |");
console.log("|---|---:|---:|---:|---:|---|---:|");
for (const r of rows) {
  const cell = (v, f) => (v === undefined ? "" : f(v));
  console.log(
    `| ${r.name}${r.failed ? " (FAILED)" : ""} | ${cell(r.seconds, (s) => `${s.toFixed(1)} s`)} | ${cell(r.mb, (m) => `${m.toFixed(1)} MB`)} | ${cell(r.budget, (b) => `< ${b} MB`)} | ${cell(r.importMs, (ms) => `${ms.toFixed(0)} ms`)} | ${r.types ?? ""} | ${r.browser ?? ""} |`,
  );
}
if (!process.env.KEEP_PACK_SMOKE) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
console.log(
  `pack smoke: ${rows.filter((r) => !r.failed && !r.name.includes("+")).length} passed, ${failures} failed`,
);
process.exit(failures ? 1 : 0);
