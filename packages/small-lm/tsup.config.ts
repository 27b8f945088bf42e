import { defineConfig } from "tsup";
import { browserBuild, packageBuild } from "../../tooling/tsup.preset";

export default defineConfig([packageBuild(), browserBuild()]);
