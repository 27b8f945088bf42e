import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lmcot } from "./run-cli";

const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");

describe("README", () => {
  it("has a section for every command lmcot --help lists, and its exit codes", async () => {
    const help = (await lmcot("--help")).stdout;
    const commands = [
      ...help
        .split("Commands:")[1]!
        .split("\n\n")[0]!
        .matchAll(/^ {2}(\w[\w-]*)/gm),
    ]
      .map((m) => m[1]!)
      .filter((name) => name !== "help");
    expect(commands.length).toBeGreaterThan(5);
    const headings = [...readme.matchAll(/^### (\w[\w-]*)/gm)].map((m) => m[1]);
    expect(commands.filter((name) => !headings.includes(name))).toEqual([]);
    for (const code of [0, 1, 2, 130]) expect(readme).toMatch(new RegExp(`^\\| ${code} \\|`, "m"));
  });
});
