import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  buildWordLevelVocab,
  T5_SPECIAL_TOKENS,
  wordLevelPieces,
  writeWordLevelTokenizer,
} from "@lmcot/model-writer";

export const PAD_ID = 0;
export const EOS_ID = 1;
export const UNK_ID = 2;

/**
 * The word-level T5 tokenizer that `@lmcot/model-writer` saves as tokenizer.json: lower-cased
 * `Whitespace` pieces (word runs or punctuation runs), `<pad>`=0, `</s>`=1 appended, `<unk>`=2.
 */
export class WordTokenizer {
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

  /** Reads the vocabulary back from a folder's tokenizer.json. */
  static async load(folder: string): Promise<WordTokenizer> {
    const json = JSON.parse(await readFile(join(folder, "tokenizer.json"), "utf8")) as {
      model?: { type?: string; vocab?: Record<string, number> };
    };
    if (json.model?.type !== "WordLevel" || json.model.vocab === undefined)
      throw new Error(`${join(folder, "tokenizer.json")}: model.type must be WordLevel with a vocab`);
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

  /** Ids of `text` followed by `</s>`, at most `maxTokens` in all (truncated on the right). */
  encode(text: string, maxTokens = Number.POSITIVE_INFINITY): number[] {
    const ids = wordLevelPieces(text).map((p) => this.index.get(p) ?? UNK_ID);
    return [...ids.slice(0, Math.max(0, maxTokens - 1)), EOS_ID];
  }

  /** Text of ids up to the first `</s>`, pieces joined by single spaces, padding skipped. */
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
