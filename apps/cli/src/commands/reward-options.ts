import { type RewardPresetName, rewardPresets } from "@lmcot/rewards";
import { z } from "zod";
import { callKeys, text } from "../options";

/** `aspects`: the flag's text (`factuality,relevance=2`), a list of aspects, or a map of weights. */
const aspects = z.union([text, z.array(z.string()), z.record(z.string(), z.number())]).transform((v) =>
  typeof v === "string"
    ? v
    : Array.isArray(v)
      ? v.join(",")
      : Object.entries(v)
          .map(([name, weight]) => `${name}=${weight}`)
          .join(","),
);

/** The reward keys (`--judge` ↔ `judge`, …), read by `configFromFlags` and `scorerFrom` as the flags are. */
export const rewardKeys = {
  ...callKeys,
  judge: z.string().min(3).optional(),
  large: z.string().min(3).optional(),
  preset: z.enum(Object.keys(rewardPresets) as [RewardPresetName, ...RewardPresetName[]]),
  aspects: aspects.optional(),
  aspectWeight: text.optional(),
  taskWeight: text.optional(),
  metric: text.optional(),
  judgeMode: z.enum(["per-aspect", "one-call"]).optional(),
  onJudgeFailure: text.optional(),
  onCallFailure: text.optional(),
  normalize: z.enum(["none", "running", "batch-minmax"]).optional(),
  concurrency: text,
  cacheDir: z.string().min(1),
  cache: z.boolean(),
};

/** `lmcot rewards serve`: its flags and `--config` keys. */
export const serveOptionsSchema = z.object({
  ...rewardKeys,
  port: z.number().int().min(0).max(65_535),
  host: z.string().min(1),
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"),
  maxBodyMb: z.number().positive(),
  maxItems: z.number().int().min(1),
});
