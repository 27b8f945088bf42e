export { ExtractiveSelector, selectRationale } from "./extractive";
export { type OpenAICompatibleOptions, OpenAICompatibleRationaleModel } from "./openai-compatible";
export {
  getRationaleModel,
  type RationaleBackendFactory,
  type RationaleBackendOptions,
  rationaleBackends,
  registerRationaleBackend,
} from "./registry";
export * from "./transformers/index";
