import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer as HfTokenizerJs } from "@huggingface/tokenizers";
import { BadRequestError } from "@lmcot/core";
import {
  buildWordLevelVocab,
  copyTokenizerFiles,
  T5_SPECIAL_TOKENS,
  wordLevelPieces,
  writeWordLevelTokenizer,
} from "@lmcot/model-writer";

export const PAD_ID = 0;
export const EOS_ID = 1;
export const UNK_ID = 2;

/** What the trainers need from a tokenizer: ids with `</s>` appended, text back, and the files. */
export interface Tokenizer {
  /** Number of ids the tokenizer can produce (at most the model's `vocab_size`). */
  readonly size: number;
  /** Ids of `text` followed by `</s>`, at most `maxTokens` in all (truncated on the right). */
  encode(text: string, maxTokens?: number): number[];
  /** Text of ids up to the first `</s>`, special tokens and padding skipped. */
  decode(ids: readonly number[]): string;
  /** Writes the tokenizer files into `folder`. */
  save(folder: string): Promise<void>;
}

const keepWithEos = (ids: number[], maxTokens: number, eos: number) => [
  ...ids.slice(0, Math.max(0, maxTokens - 1)),
  eos,
];

/**
 * The word-level T5 tokenizer that `@lmcot/model-writer` saves as tokenizer.json: lower-cased
 * `Whitespace` pieces (word runs or punctuation runs), `<pad>`=0, `</s>`=1 appended, `<unk>`=2.
 * Used for models trained from scratch (the presets); pretrained checkpoints bring their own.
 */
export class WordTokenizer implements Tokenizer {
  private readonly index: Map<string, number>;

  constructor(readonly vocab: readonly string[]) {
    T5_SPECIAL_TOKENS.forEach((token, id) => {
      if (vocab[id] !== token) throw new Error(`tokenizer: token ${id} must be ${token}, got ${vocab[id]}`);
    });
    this.index = new Map(vocab.map((w, i) => [w, i]));
  }

  /** A vocabulary of the most frequent pieces in `texts`. */
  static fromTexts(texts: Iterable<string>, maxVocab = 8000, minCount = 1): WordTokenizer {
    return new WordTokenizer(buildWordLevelVocab(texts, { maxVocab, minCount }));
  }

  /** The vocabulary of a WordLevel tokenizer.json. */
  static fromJson(json: TokenizerJson, file: string): WordTokenizer {
    if (json.model?.type !== "WordLevel" || json.model.vocab === undefined)
      throw new BadRequestError(`${file}: model.type must be WordLevel with a vocab`);
    const vocab: string[] = [];
    for (const [word, id] of Object.entries(json.model.vocab)) vocab[id] = word;
    return new WordTokenizer(vocab);
  }

  async save(folder: string): Promise<void> {
    await writeWordLevelTokenizer(folder, this.vocab);
  }

  get size(): number {
    return this.vocab.length;
  }

  encode(text: string, maxTokens = Number.POSITIVE_INFINITY): number[] {
    return keepWithEos(
      wordLevelPieces(text).map((p) => this.index.get(p) ?? UNK_ID),
      maxTokens,
      EOS_ID,
    );
  }

  /** Pieces joined by single spaces. */
  decode(ids: readonly number[]): string {
    const words: string[] = [];
    for (const id of ids) {
      if (id === EOS_ID) break;
      if (id === PAD_ID) continue;
      words.push(this.vocab[id] ?? "<unk>");
    }
    return words.join(" ");
  }
}

/**
 * A checkpoint's own `tokenizer.json` (SentencePiece Unigram as in FLAN-T5, BPE, WordPiece…) read
 * by `@huggingface/tokenizers`, the library transformers.js uses: the ids are Hugging Face's,
 * special tokens and `<extra_id_N>` included. `save` copies the source files byte for byte.
 */
export class PretrainedTokenizer implements Tokenizer {
  readonly size: number;
  private readonly eos: number;

  private constructor(
    private readonly tokenizer: HfTokenizerJs,
    private readonly folder: string,
  ) {
    this.size = tokenizer.get_vocab(true).size;
    const eos = tokenizer.token_to_id("</s>");
    if (eos === undefined) throw new BadRequestError(`${join(folder, "tokenizer.json")}: has no </s> token`);
    this.eos = eos;
  }

  static async fromJson(folder: string, json: TokenizerJson): Promise<PretrainedTokenizer> {
    const configFile = join(folder, "tokenizer_config.json");
    const config = await readJson(configFile).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return {};
      throw error;
    });
    let tokenizer: HfTokenizerJs;
    try {
      tokenizer = new HfTokenizerJs(json, config);
    } catch (cause) {
      throw new BadRequestError(`${join(folder, "tokenizer.json")}: ${(cause as Error).message}`);
    }
    return new PretrainedTokenizer(tokenizer, folder);
  }

  encode(text: string, maxTokens = Number.POSITIVE_INFINITY): number[] {
    // HF truncates the text's ids, then its post-processor appends `</s>`: the same ids for T5.
    return keepWithEos(this.tokenizer.encode(text, { add_special_tokens: false }).ids, maxTokens, this.eos);
  }

  /** Ids past the tokenizer's vocabulary (a config `vocab_size` may be larger) decode to nothing. */
  decode(ids: readonly number[]): string {
    const end = ids.indexOf(this.eos);
    const kept = (end < 0 ? ids : ids.slice(0, end)).filter((id) => id >= 0 && id < this.size);
    return this.tokenizer.decode(kept, { skip_special_tokens: true });
  }

  async save(folder: string): Promise<void> {
    await copyTokenizerFiles(this.folder, folder);
  }
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> };
}

async function readJson(file: string): Promise<TokenizerJson> {
  const text = await readFile(file, "utf8");
  try {
    return JSON.parse(text) as TokenizerJson;
  } catch (cause) {
    throw new BadRequestError(`${file}: is not valid JSON (${(cause as Error).message})`);
  }
}

/**
 * The tokenizer of a model folder: our word-level one for `WordLevel` files (models trained from
 * scratch), `@huggingface/tokenizers` for every other `tokenizer.json`.
 */
export async function loadTokenizer(folder: string): Promise<Tokenizer> {
  const file = join(folder, "tokenizer.json");
  const json = await readJson(file).catch((error: NodeJS.ErrnoException) => {
    throw error.code === "ENOENT"
      ? new BadRequestError(`${file}: not found (a T5 folder needs the tokenizer.json it was trained with)`)
      : error;
  });
  return json.model?.type === "WordLevel"
    ? WordTokenizer.fromJson(json, file)
    : PretrainedTokenizer.fromJson(folder, json);
}
