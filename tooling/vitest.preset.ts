import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

/** `@lmcot/x` → `packages/x/src/index.ts`, so tests run against sources, not another package's dist. */
function workspaceSources() {
  return ["packages", "apps"].flatMap((group) =>
    readdirSync(join(root, group))
      .map((dir) => join(root, group, dir))
      .filter((dir) => existsSync(join(dir, "package.json")) && existsSync(join(dir, "src", "index.ts")))
      .map((dir) => {
        const { name } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string };
        return {
          find: new RegExp(`^${name.replace("/", "\\/")}$`),
          replacement: join(dir, "src", "index.ts"),
        };
      }),
  );
}

/** The test setup every package shares. Tests never touch the network: servers bind 127.0.0.1. */
export function packageTests(overrides: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    resolve: { alias: workspaceSources() },
    test: {
      include: overrides.include ?? ["test/**/*.test.ts"],
      environment: "node",
      testTimeout: overrides.testTimeout ?? 30_000,
      hookTimeout: 60_000,
      pool: "forks",
    },
  });
}
