import { resolve } from "node:path";

/** Node: hub-id models sit under `$LMCOT_MODELS_DIR` or `./models`, from the working directory. */
export const defaultModelsDir = (dir: string | undefined): string => resolve(dir ?? "models");
