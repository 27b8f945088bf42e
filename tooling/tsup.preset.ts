import { existsSync } from "node:fs";
import type { Plugin } from "esbuild";
import type { Options } from "tsup";

/**
 * The build every package shares: ESM + CJS + .d.ts, Node 20, dependencies left external. No source
 * maps: the output is readable unminified ESM/CJS, and maps (with the sources inside) were over half
 * of what a package published, against the install budgets the pack smoke test checks.
 */
export function packageBuild(overrides: Options = {}): Options {
  return {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    target: "node20",
    platform: "node",
    sourcemap: false,
    clean: true,
    splitting: false,
    treeshake: true,
    ...overrides,
  };
}

/**
 * A module `x.ts` with a sibling `x.browser.ts` is replaced by that sibling in the browser build
 * (what package.json's `browser` field does for files): the Node-only piece (a file read, a path) is
 * swapped, and every module importing it is shared as is.
 */
const browserSiblings: Plugin = {
  name: "lmcot-browser-siblings",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, ({ path, resolveDir }) => {
      const sibling = `${resolveDir}/${path.replace(/\.(ts|js)$/, "")}.browser.ts`;
      return existsSync(sibling) ? { path: sibling } : undefined;
    });
  },
};

/**
 * The browser (and worker) entry: ESM + .d.ts for browsers, into `dist-browser/` (its own folder, so
 * the Node build's clean never races it). Package exports point `browser`, `worker` and `default`
 * here; `bash .ci/run` bundles it with esbuild for the browser and fails on any Node built-in.
 */
export function browserBuild(entry: Options["entry"] = { index: "src/browser.ts" }): Options {
  return {
    entry,
    outDir: "dist-browser",
    format: ["esm"],
    dts: true,
    target: "es2022",
    platform: "browser",
    sourcemap: false,
    clean: true,
    splitting: false,
    treeshake: true,
    esbuildPlugins: [browserSiblings],
  };
}
