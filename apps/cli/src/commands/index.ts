import type { Command } from "commander";
import { registerAsk } from "./ask";
import { registerBench } from "./bench";
import { registerDistill } from "./distill";
import { registerEval } from "./eval";
import { registerModels } from "./models";
import { registerRewards } from "./rewards";
import { registerTrain } from "./train";

/** Each sub-command registers itself on the program; one file per command in this folder. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerAsk,
  registerEval,
  registerModels,
  registerBench,
  registerDistill,
  registerRewards,
  registerTrain,
];
