import { z } from "zod";
import { optimizerConfigSchema } from "../optim";

export const ppoConfigSchema = z.object({
  seed: z.number().int().default(0),
  /** PPO steps; each samples `batchSize` rollouts, then optimises on them. */
  steps: z.number().int().positive().default(100),
  batchSize: z.number().int().positive().default(8),
  miniBatchSize: z.number().int().positive().default(4),
  /** Each mini-batch's gradient is accumulated over this many slices of it (same update, less memory). */
  gradAccum: z.number().int().positive().default(1),
  /** Recompute each block's activations in the backward pass instead of keeping them (tfjs engine). */
  gradientCheckpointing: z.boolean().default(true),
  /** Where scoring and updates run (rollouts sample with tfjs's KV-cached decoder): see `KdConfig.engine`. */
  engine: z.enum(["auto", "onnxruntime", "tfjs"]).default("auto"),
  /** Optimisation epochs over each batch of rollouts. */
  ppoEpochs: z.number().int().positive().default(4),
  maxInputTokens: z.number().int().min(2).default(256),
  maxNewTokens: z.number().int().positive().default(48),
  /** Sampling for rollouts; log-probs are taken under the same temperature. */
  temperature: z.number().positive().default(1),
  topK: z.number().int().min(0).default(0),
  topP: z.number().gt(0).max(1).default(1),
  gamma: z.number().min(0).max(1).default(1),
  lam: z.number().min(0).max(1).default(0.95),
  clipRange: z.number().positive().default(0.2),
  clipRangeValue: z.number().positive().default(0.2),
  vfCoef: z.number().min(0).default(0.1),
  entropyCoef: z.number().min(0).default(0),
  kl: z
    .object({
      /** Initial β of the per-token penalty −β·(log π − log π_ref). */
      coef: z.number().min(0).default(0.2),
      /** Adapt β towards `target` nats per sequence (Ziegler et al.); false keeps it fixed. */
      adaptive: z.boolean().default(true),
      target: z.number().positive().default(6),
      horizon: z.number().positive().default(10_000),
    })
    .prefault({}),
  /** Scale per-token rewards to unit variance over each batch (TRL `whiten_rewards`). */
  whitenRewards: z.boolean().default(false),
  optimizer: optimizerConfigSchema.prefault({ learningRate: 1e-4, schedule: "constant", weightDecay: 0 }),
  saveEvery: z.number().int().positive().default(10),
});

export type PpoConfig = z.output<typeof ppoConfigSchema>;
export type PpoConfigInput = z.input<typeof ppoConfigSchema>;
