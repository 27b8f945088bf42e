import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * `@lmcot/x` → `packages/x/src/index.ts` (and each subpath export likewise, `dist/a/index.js` →
 * `src/a/index.ts`), so tests run against sources, not another package's dist.
 */
function workspaceSources() {
  return ["packages", "apps"].flatMap((group) =>
    readdirSync(join(root, group))
      .map((dir) => join(root, group, dir))
      .filter((dir) => existsSync(join(dir, "package.json")))
      .flatMap((dir) => {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
          name: string;
          exports?: Record<string, { import?: { default?: string } } | string>;
        };
        return Object.entries(pkg.exports ?? {}).flatMap(([subpath, target]) => {
          const built = typeof target === "string" ? undefined : target.import?.default;
          if (!built?.startsWith("./dist/")) return [];
          const source = join(dir, built.replace("./dist/", "src/").replace(/\.js$/, ".ts"));
          if (!existsSync(source)) return [];
          const specifier = subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
          return [{ find: new RegExp(`^${specifier.replace(/[/.]/g, "\\$&")}$`), replacement: source }];
        });
      }),
  );
}

/** The test setup every package shares. Tests never touch the network: servers bind 127.0.0.1. */
export function packageTests(
  overrides: {
    testTimeout?: number;
    include?: string[];
    /** Dependencies vitest must transform rather than hand to Node (ESM files Node cannot load). */
    inline?: (string | RegExp)[];
  } = {},
) {
  return defineConfig({
    resolve: { alias: workspaceSources() },
    test: {
      include: overrides.include ?? ["test/**/*.test.ts"],
      environment: "node",
      testTimeout: overrides.testTimeout ?? 30_000,
      hookTimeout: Math.max(60_000, overrides.testTimeout ?? 0),
      pool: "forks",
      server: { deps: { inline: overrides.inline ?? [] } },
    },
  });
}
