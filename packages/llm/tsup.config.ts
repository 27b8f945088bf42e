import { defineConfig } from "tsup";
import { browserBuild, packageBuild } from "../../tooling/tsup.preset";

export default defineConfig([
  packageBuild({ entry: { index: "src/index.ts", "testing/index": "src/testing/index.ts" } }),
  browserBuild(),
]);
