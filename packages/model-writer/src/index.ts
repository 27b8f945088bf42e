export {
  readT5Checkpoint,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  type T5Checkpoint,
} from "./checkpoint-read";
export {
  DEFAULT_MAX_SHARD_SIZE,
  planShards,
  type WriteT5CheckpointOptions,
  writeT5Checkpoint,
} from "./checkpoint-write";
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
export {
  type Dim,
  EXTERNAL_DATA_CHUNK_BYTES,
  EXTERNAL_DATA_THRESHOLD,
  OnnxGraph,
  type TensorTypeName,
} from "./onnx-graph";
export { normalArray, seededRandom } from "./random";
export { relativeBiasTable, t5RelativePositionBucket } from "./relative-position";
export {
  decodeSafetensors,
  encodeSafetensors,
  floatToBfloat16,
  floatToHalf,
  readSafetensors,
  type SafetensorsDtype,
  writeSafetensors,
} from "./safetensors";
export {
  type GenerationDefaults,
  isGatedT5,
  jsonFile,
  parseT5Config,
  resolveT5Config,
  T5_ARCHITECTURES,
  T5_FEED_FORWARD,
  type T5Config,
  type T5ConfigInput,
  type T5FeedForward,
  t5ConfigJson,
  t5ConfigSchema,
  t5GenerationConfigJson,
  writeT5Config,
} from "./t5-config";
export {
  type ExportT5OnnxOptions,
  exportT5Onnx,
  type T5ExportResult,
  type T5ExportSource,
} from "./t5-export";
export {
  buildT5Decoder,
  buildT5Encoder,
  checkT5Weights,
  quantizeColumns,
  type T5OnnxFiles,
  type T5OnnxOptions,
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
export {
  checkTokenizerFits,
  copyTokenizerFiles,
  T5_TOKENIZER_FILES,
  tokenizerFilesIn,
  tokenizerIdCount,
} from "./tokenizer-files";
