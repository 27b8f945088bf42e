import { defineConfig } from "tsup";
import { packageBuild } from "../../tooling/tsup.preset";

export default defineConfig([
  packageBuild(),
  // Split so each command's module (and the packages it imports) loads only when that command runs.
  packageBuild({ entry: ["src/cli.ts"], format: ["esm"], dts: false, clean: false, splitting: true }),
]);
