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
