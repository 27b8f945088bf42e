#!/usr/bin/env node
// Packs every publishable package, installs each tarball (with the @lmcot tarballs it needs) into a
// fresh npm project outside the workspace, then imports it from ESM and requires it from CJS, and runs
// the installed `lmcot --version`. Also runs publint on each package. Exits non-zero on any failure.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const packageManager = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager;
const work = mkdtempSync(join(tmpdir(), "lmcot-pack-"));
const tarballs = join(work, "tarballs");
mkdirSync(tarballs);

const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });

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

let failures = 0;
for (const { pkg } of packages) {
  const project = join(work, `alone-${pkg.name.replace("@lmcot/", "")}`);
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "smoke", private: true, version: "0.0.0" }),
  );
  writeFileSync(join(project, ".npmrc"), "onnxruntime-node-install-cuda=skip\n");
  const started = Date.now();
  try {
    run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        ...[...closure(pkg.name)].map((n) => tarballOf.get(n)),
      ],
      project,
    );
    // Every entry of the exports map (the root and subpaths like "@lmcot/core/testing"), both ways.
    const specifiers = Object.keys(pkg.exports ?? { ".": null })
      .filter((k) => k !== "./package.json")
      .map((k) => (k === "." ? pkg.name : `${pkg.name}/${k.slice(2)}`));
    const counts = specifiers.map((spec) => {
      const esm = run(
        "node",
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(spec)}); console.log(Object.keys(m).length);`,
        ],
        project,
      ).trim();
      const cjs = run(
        "node",
        ["-e", `const m = require(${JSON.stringify(spec)}); console.log(Object.keys(m).length);`],
        project,
      ).trim();
      if (esm !== cjs) throw new Error(`${spec}: ESM exports ${esm} names, CJS ${cjs}`);
      return `${spec.slice(pkg.name.length) || "."} ${esm}`;
    });
    let extra = "";
    if (pkg.bin?.lmcot) {
      const version = run(join(project, "node_modules", ".bin", "lmcot"), ["--version"], project).trim();
      if (version !== pkg.version)
        throw new Error(`lmcot --version printed ${version}, expected ${pkg.version}`);
      extra = `, lmcot --version = ${version}`;
    }
    console.log(
      `ok   ${pkg.name}: installed alone in ${((Date.now() - started) / 1000).toFixed(1)}s, exports (ESM = CJS): ${counts.join(", ")}${extra}`,
    );
  } catch (error) {
    failures++;
    console.error(`FAIL ${pkg.name}: ${error.stderr || error.message}`);
  }
}
if (!process.env.KEEP_PACK_SMOKE) rmSync(work, { recursive: true, force: true });
console.log(`pack smoke: ${packages.length - failures} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
