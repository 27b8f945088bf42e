import { defineConfig } from "tsup";
import { packageBuild } from "../../tooling/tsup.preset";

export default defineConfig(
  packageBuild({ noExternal: ["@tensorflow/tfjs-core/dist/register_all_gradients"] }),
);
