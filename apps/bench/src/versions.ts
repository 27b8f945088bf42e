import { createRequire } from "node:module";
import { type MethodName, methodPromptVersion, methods } from "@lmcot/core";

const PACKAGES = [
  "@lmcot/bench",
  "@lmcot/core",
  "@lmcot/datasets",
  "@lmcot/metrics",
  "@lmcot/llm",
  "@lmcot/small-lm",
] as const;

const here = typeof __filename === "string" ? __filename : import.meta.url;

/** The installed version of each package a bench run depends on ("unknown" when it cannot be read). */
export function packageVersions(): Record<string, string> {
  const require = createRequire(here);
  const out: Record<string, string> = {};
  for (const name of PACKAGES) {
    try {
      out[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      out[name] = "unknown";
    }
  }
  out.node = process.versions.node;
  return out;
}

/** The prompt version of each method, as written into every run key. */
export function promptVersions(): Record<MethodName, string> {
  return Object.fromEntries(
    Object.keys(methods).map((m) => [m, methodPromptVersion(m as MethodName)]),
  ) as Record<MethodName, string>;
}
