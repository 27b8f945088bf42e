#!/usr/bin/env node
// Bundles every package's browser entry (its `browser` export condition, else its import entry) with
// esbuild for the browser, dependencies included (optional peers left out), and fails on anything that
// needs Node: an import of a Node built-in, or a module that cannot be resolved for the browser.
// Prints each bundle's size (minified, and gzipped). Packages that are Node-only by design are listed
// with the reason, not bundled.
//   node tooling/scripts/browser-bundles.mjs [--only name,name]
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Packages with no browser entry, and why. */
export const NODE_ONLY = {
  "@lmcot/model-writer": "writes model folders to disk",
  "@lmcot/train": "reads and writes datasets, checkpoints and run directories on disk",
};

/** The file a browser bundler picks for `pkg`'s main export. */
function browserEntry(pkg) {
  const dot = pkg.exports?.["."];
  const target = dot?.browser ?? dot?.import;
  const file = typeof target === "string" ? target : target?.default;
  if (!file) throw new Error(`${pkg.name}: no browser or import entry in exports["."]`);
  return file;
}

/** Bundles one package's browser entry; returns its sizes, or the Node built-ins and failures in the way. */
export async function bundleBrowserEntry(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const entry = join(dir, browserEntry(pkg));
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: "browser",
      format: "esm",
      target: "es2022",
      minify: true,
      write: false,
      logLevel: "silent",
      external: Object.keys(pkg.peerDependencies ?? {}),
    });
    const bytes = result.outputFiles[0].contents;
    return { name: pkg.name, entry: browserEntry(pkg), bytes: bytes.length, gzip: gzipSync(bytes).length };
  } catch (error) {
    const problems = (error.errors ?? [{ text: error.message }]).map(
      (e) => `${e.text}${e.location ? ` (imported by ${e.location.file}:${e.location.line})` : ""}`,
    );
    return { name: pkg.name, entry: browserEntry(pkg), problems };
  }
}

export function publishedPackages() {
  return readdirSync(join(root, "packages"))
    .map((name) => join(root, "packages", name))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
    .filter(({ pkg }) => !pkg.private);
}

export const kilobytes = (n) => `${(n / 1024).toFixed(0)} KB`;

async function main() {
  const { values } = parseArgs({ options: { only: { type: "string" } } });
  const only = values.only?.split(",").map((n) => (n.startsWith("@") ? n : `@lmcot/${n}`));
  let failures = 0;
  const rows = [];
  for (const { dir, pkg } of publishedPackages()) {
    if (only && !only.includes(pkg.name)) continue;
    if (NODE_ONLY[pkg.name]) {
      rows.push(`| ${pkg.name} | Node only: ${NODE_ONLY[pkg.name]} | | |`);
      continue;
    }
    const r = await bundleBrowserEntry(dir);
    if (r.problems) {
      failures++;
      console.error(`FAIL ${r.name} (${r.entry}):\n  ${r.problems.join("\n  ")}`);
      rows.push(`| ${r.name} (FAILED) | ${r.entry} | | |`);
    } else {
      console.log(`ok   ${r.name}: ${r.entry} bundles for the browser`);
      rows.push(`| ${r.name} | ${r.entry} | ${kilobytes(r.bytes)} | ${kilobytes(r.gzip)} |`);
    }
  }
  console.log("\n| package | browser entry | minified | gzipped |\n|---|---|---:|---:|");
  for (const row of rows) console.log(row);
  console.log(`browser bundles: ${rows.length - failures} ok, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
