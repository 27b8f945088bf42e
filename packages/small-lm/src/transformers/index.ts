export { isLocalSpec, type LoadedModel, loadModel, loadTransformers, type ModelKind } from "./load";
export { type TransformersModelOptions, TransformersRationaleModel } from "./model";
export { chooseToken, logSoftmax, type SamplingSettings } from "./sampling";
export { smallLmEnv, type TransformersDtype, type TransformersSettings } from "./settings";
