export { useWasmBackend } from "./backend";
export { latestCheckpoint } from "./checkpoint";
export * from "./distill/index";
export { exportModel } from "./export";
export { type DistillationPair, readDistillation } from "./kd/data";
export { createKdEngine, type Engine, type KdEngine, resolveEngine } from "./kd/engines";
export {
  type KdConfig,
  type KdConfigInput,
  type KdResult,
  type KdRunOptions,
  type KdStepMetrics,
  KdTrainer,
  kdConfigSchema,
} from "./kd/trainer";
export {
  AdamW,
  accumulatedValueAndGrads,
  decays,
  lrFactor,
  type OptimizerConfig,
  type OptimizerState,
  optimizerConfigSchema,
  valueAndGrads,
} from "./optim";
export * from "./ppo/index";
export { type TrainedModelLimits, TrainedRationaleModel } from "./rationale-model";
export {
  MODEL_PRESETS,
  type ModelPreset,
  type ModelSize,
  modelSizeSchema,
  parameterCount,
  t5ConfigFor,
} from "./t5/config";
export { loadT5, readT5Folder, saveT5, type T5Folder } from "./t5/folder";
export { crossEntropy, type TeacherForced, teacherForced } from "./t5/forward";
export { type Decoded, type DecodeOptions, decode } from "./t5/generate";
export { T5Model, type TokenBatch } from "./t5/model";
export {
  EOS_ID,
  loadTokenizer,
  PAD_ID,
  PretrainedTokenizer,
  type Tokenizer,
  UNK_ID,
  WordTokenizer,
} from "./tokenizer";
