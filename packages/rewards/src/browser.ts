// The browser and worker entry: every reward and the scorer; the HTTP server is Node's (index.ts).

export { Limiter } from "@lmcot/core";
export {
  type AspectRewardOptions,
  type AspectRewardResult,
  aspectRewards,
  type CallFailure,
  type JudgeFailure,
  type JudgeFailurePolicy,
} from "./aspect-reward";
export { ASPECT_DEFINITIONS, ASPECTS, type AspectName, isAspect } from "./aspects";
export {
  chosenAspects,
  combineRewards,
  minMaxNormalize,
  type Normalization,
  type RewardConfig,
  type RewardPresetName,
  RunningNormalizer,
  rewardConfig,
  rewardPresets,
  sumAspects,
} from "./combine";
export {
  allAspectsPrompt,
  aspectPrompt,
  aspectPromptVersion,
  JUDGE_SCALE,
  type JudgeInput,
  type JudgePrompt,
  type JudgePromptOptions,
} from "./judge-prompts";
export { type ParsedScore, parseAllAspects, parseAspectScore } from "./parse";
export {
  DEFAULT_SPECIAL_TOKENS,
  describeIssues,
  exampleFromPrompt,
  issuePath,
  parseRewardRequest,
  RequestItemError,
  type RewardRequest,
  requestItem,
  responseOf,
  rewardRequestSchema,
} from "./protocol";
export {
  type ItemReward,
  type RewardItem,
  RewardScorer,
  type RewardScorerOptions,
  type ScoreOutcome,
  type ScorerTotals,
} from "./scorer";
export {
  goldAnswers,
  scoreTask,
  type TaskMetric,
  type TaskRewardOptions,
  type TaskRewardResult,
  taskReward,
} from "./task-reward";
export { type CallRole, emptyRewardUsage, mergeUsage, type RewardUsage, recordCall } from "./usage";
