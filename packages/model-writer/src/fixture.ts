import { randomGpt2Weights, writeGpt2ModelFolder } from "./gpt2-onnx";
import { randomT5Weights, writeT5ModelFolder } from "./model-folder";
import type { T5ConfigInput } from "./t5-config";
import { buildWordLevelVocab } from "./tokenizer";

/** Text the fixture vocabulary is built from: enough everyday and multi-hop QA words to tokenize prompts. */
const FIXTURE_TEXT = `
question context rationale answer the a an of in on at to from by with for and or but not is was are were
be been has have had do does did which who whom whose what when where why how many much first second
born died director film album song band singer actor actress author novel book city country river state
capital university team player club year years old older younger same both either neither than more less
nationality american british french german english united states kingdom paris london new york
he she it they his her its their this that these those there here one two three four five six seven
eight nine ten 1 2 3 4 5 6 7 8 9 0 . , ; : ? ! ' " ( ) - step by think let us so therefore because
also known as called named directed written produced released founded located part member award won
`;

export interface FixtureT5Options {
  seed?: number;
  d_model?: number;
  d_kv?: number;
  d_ff?: number;
  num_heads?: number;
  num_layers?: number;
  num_decoder_layers?: number;
  /** Default false: a separate lm_head keeps greedy output of a random model from echoing its input. */
  tie_word_embeddings?: boolean;
  /** Extra vocabulary words. */
  words?: string[];
  /** Also write the q8 (`*_quantized.onnx`) files. */
  quantized?: boolean;
}

/** The config `writeFixtureT5` uses for these options (vocab_size is the fixture vocabulary's size). */
export function fixtureT5Config(options: FixtureT5Options = {}): T5ConfigInput & { vocab_size: number } {
  const vocab = fixtureVocab(options.words);
  return {
    vocab_size: vocab.length,
    d_model: options.d_model ?? 32,
    d_kv: options.d_kv ?? 8,
    d_ff: options.d_ff ?? 64,
    num_heads: options.num_heads ?? 4,
    num_layers: options.num_layers ?? 2,
    num_decoder_layers: options.num_decoder_layers ?? options.num_layers ?? 2,
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
    tie_word_embeddings: options.tie_word_embeddings ?? false,
  };
}

export function fixtureVocab(words: string[] = []): string[] {
  return buildWordLevelVocab([FIXTURE_TEXT, ...words], { maxVocab: 100_000 });
}

/**
 * Writes a tiny random T5 model folder (deterministic for a seed: same bytes every time) that
 * transformers.js loads like a real FLAN-T5 export. No Python, no download.
 */
export async function writeFixtureT5(folder: string, options: FixtureT5Options = {}): Promise<void> {
  const config = fixtureT5Config(options);
  await writeT5ModelFolder(folder, {
    config,
    weights: randomT5Weights(config, options.seed ?? 0),
    vocab: fixtureVocab(options.words),
    maxNewTokens: 32,
    onnxVariants: options.quantized ? ["fp32", "q8"] : ["fp32"],
  });
}

export interface FixtureCausalOptions {
  seed?: number;
  d_model?: number;
  num_heads?: number;
  num_layers?: number;
  words?: string[];
}

/** Writes a tiny random decoder-only (GPT-2 layout) model folder, deterministic for a seed. */
export async function writeFixtureCausal(folder: string, options: FixtureCausalOptions = {}): Promise<void> {
  const vocab = fixtureVocab(options.words);
  const config = {
    vocab_size: vocab.length,
    n_embd: options.d_model ?? 32,
    n_head: options.num_heads ?? 4,
    n_layer: options.num_layers ?? 2,
    n_positions: 1024,
  };
  await writeGpt2ModelFolder(folder, {
    config,
    weights: randomGpt2Weights(config, options.seed ?? 0),
    vocab,
  });
}
