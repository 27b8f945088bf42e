import { kdConfigSchema, ppoConfigSchema } from "@lmcot/train";
import { z } from "zod";
import { rewardKeys } from "./reward-options";

/** The keys `train kd` and `train rl` share besides their trainer's config. */
const outputKeys = {
  out: z.string().min(1),
  restart: z.boolean().default(false),
  onnx: z.boolean().default(true),
  /** Shorthand for `optimizer.learningRate` (`--lr`). */
  lr: z.number().positive().optional(),
};

/** `lmcot train kd`: the KD trainer's config plus the command's flags, one key per flag. */
export const kdOptionsSchema = kdConfigSchema.extend({ ...outputKeys, data: z.string().min(1) });

/** `lmcot train rl`: the PPO trainer's config plus the command's and the reward flags. */
export const rlOptionsSchema = ppoConfigSchema.extend({
  ...rewardKeys,
  ...outputKeys,
  policy: z.string().min(1),
  data: z.string().min(1),
  download: z.boolean().optional(),
  dataset: z.enum(["hotpotqa", "2wikimultihopqa"]),
  evalSize: z.number().int().positive(),
  /** Shorthand for `kl.coef` (`--kl-coef`). */
  klCoef: z.number().min(0).optional(),
});
