export {
  type FixtureCausalOptions,
  type FixtureT5Options,
  fixtureT5Config,
  fixtureVocab,
  writeFixtureCausal,
  writeFixtureT5,
} from "./fixture";
export {
  buildGpt2,
  type Gpt2Config,
  gpt2ParameterShapes,
  randomGpt2Weights,
  writeGpt2ModelFolder,
} from "./gpt2-onnx";
export { randomT5Weights, type T5ModelFolderOptions, writeT5ModelFolder } from "./model-folder";
export { type Dim, OnnxGraph, type TensorTypeName } from "./onnx-graph";
export { normalArray, seededRandom } from "./random";
export { relativeBiasTable, t5RelativePositionBucket } from "./relative-position";
export { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from "./safetensors";
export {
  type GenerationDefaults,
  isGatedT5,
  resolveT5Config,
  T5_FEED_FORWARD,
  type T5FeedForward,
  type T5Config,
  type T5ConfigInput,
  t5ConfigSchema,
  writeT5Config,
} from "./t5-config";
export {
  buildT5Decoder,
  buildT5Encoder,
  checkT5Weights,
  quantizeColumns,
  type T5OnnxVariant,
  type T5Weights,
  t5ParameterShapes,
  type WeightTensor,
  writeT5Onnx,
} from "./t5-onnx";
export {
  buildWordLevelVocab,
  T5_SPECIAL_TOKENS,
  type WordLevelTokenizerOptions,
  wordLevelPieces,
  writeWordLevelTokenizer,
} from "./tokenizer";
