import { defineConfig } from "tsup";
import { browserBuild, packageBuild } from "../../tooling/tsup.preset";

// shims: `import.meta.url` in the CJS build, so the bundled samples resolve in both formats.
export default defineConfig([
  packageBuild({ entry: ["src/index.ts", "src/files.ts"], shims: true }),
  browserBuild(),
]);
