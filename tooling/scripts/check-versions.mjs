#!/usr/bin/env node
// One version range per dependency across the workspace: every package.json's dependencies,
// devDependencies, optionalDependencies and peerDependencies must agree on each name's range
// (workspace: links excepted). Prints the disagreements and exits 1 if there are any.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const manifests = [
  join(root, "package.json"),
  join(root, "tooling", "package.json"),
  ...["packages", "apps"].flatMap((group) =>
    readdirSync(join(root, group)).map((dir) => join(root, group, dir, "package.json")),
  ),
].filter((file) => existsSync(file));

const FIELDS = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"];
const ranges = new Map(); // name → Map(range → [where])
for (const file of manifests) {
  const pkg = JSON.parse(readFileSync(file, "utf8"));
  for (const field of FIELDS) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (range.startsWith("workspace:")) continue;
      const seen = ranges.get(name) ?? new Map();
      seen.set(range, [...(seen.get(range) ?? []), `${relative(root, file)} ${field}`]);
      ranges.set(name, seen);
    }
  }
}

const drift = [...ranges].filter(([, seen]) => seen.size > 1);
for (const [name, seen] of drift) {
  console.error(`${name}:`);
  for (const [range, where] of seen) console.error(`  ${range.padEnd(12)} ${where.join(", ")}`);
}
console.log(
  drift.length === 0
    ? `versions: ${ranges.size} dependencies, one range each`
    : `versions: ${drift.length} of ${ranges.size} dependencies have more than one range`,
);
process.exit(drift.length === 0 ? 0 : 1);
