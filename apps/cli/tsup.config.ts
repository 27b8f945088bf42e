import { defineConfig } from "tsup";
import { packageBuild } from "../../tooling/tsup.preset";

export default defineConfig([
  packageBuild(),
  // Split so each command's module (and the packages it imports) loads only when that command runs.
  // commander and the stateless packages `lmcot eval` reads with are bundled in: a module resolved
  // and loaded on its own costs start-up time (commander alone is seven CommonJS files).
  packageBuild({
    entry: ["src/cli.ts"],
    format: ["esm"],
    dts: false,
    clean: false,
    splitting: true,
    noExternal: ["commander", "@lmcot/metrics", "@lmcot/datasets/files"],
    // commander is CommonJS: its require() of Node built-ins needs a require in the ESM chunks.
    banner: {
      js: 'import { createRequire as __cjsRequire } from "node:module";\nconst require = __cjsRequire(import.meta.url);',
    },
  }),
]);
