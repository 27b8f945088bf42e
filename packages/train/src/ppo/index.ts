export { explainedVariance, gae, KlController, whiten } from "./advantages";
export { type PpoConfig, type PpoConfigInput, ppoConfigSchema } from "./config";
export { readRlPrompts, rlQueries } from "./data";
export { type RewardFunction, type RewardResult, type Rollout, scorerReward } from "./rewards";
export {
  type PpoQuery,
  type PpoResult,
  type PpoRunOptions,
  type PpoStepMetrics,
  PpoTrainer,
} from "./trainer";
export { ValueHead } from "./value-head";
