import { defineConfig } from "tsup";
import { packageBuild } from "../../tooling/tsup.preset";

export default defineConfig([
  packageBuild(),
  packageBuild({ entry: ["src/cli.ts"], format: ["esm"], dts: false, clean: false }),
]);
