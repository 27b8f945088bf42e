export { exportT5OnnxFrom, readT5CheckpointFrom, resolveCheckpoint } from "./checkpoint";
export {
  isLocalSpec,
  type LoadedModel,
  loadModel,
  type ModelKind,
  type ModelTokenizer,
  type SessionModel,
  TRANSFORMERS_INSTALL,
} from "./load";
export { type TransformersModelOptions, TransformersRationaleModel } from "./model";
export { chooseToken, logSoftmax, type SamplingSettings } from "./sampling";
export type { InferenceSession, OrtTensor } from "./session";
export {
  type LoadProgress,
  smallLmEnv,
  type TransformersDtype,
  type TransformersSettings,
} from "./settings";
