import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const T5_SPECIAL_TOKENS = ["<pad>", "</s>", "<unk>"] as const;

export interface WordLevelTokenizerOptions {
  /** Lower-case text before splitting (default true). */
  lowercase?: boolean;
  /** When building from texts: keep at most this many words, most frequent first (default 8000). */
  maxVocab?: number;
  /** When building from texts: drop words seen fewer times (default 1). */
  minCount?: number;
  /** `model_max_length` in tokenizer_config.json (default 512). */
  modelMaxLength?: number;
  /** Append `</s>` to every sequence, as T5 does (default true; false for decoder-only models). */
  appendEos?: boolean;
  /** `tokenizer_class` in tokenizer_config.json (default `T5Tokenizer`). */
  tokenizerClass?: string;
}

/** Splits like the `Whitespace` pre-tokenizer: runs of word characters, or runs of other non-space characters. */
export function wordLevelPieces(text: string, lowercase = true): string[] {
  const t = lowercase ? text.toLowerCase() : text;
  return t.match(/\w+|[^\w\s]+/gu) ?? [];
}

/** Builds a vocabulary (specials first, then words by frequency, ties alphabetical) from texts. */
export function buildWordLevelVocab(
  texts: Iterable<string>,
  options: WordLevelTokenizerOptions = {},
): string[] {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of wordLevelPieces(text, options.lowercase ?? true))
      counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  const minCount = options.minCount ?? 1;
  const words = [...counts.entries()]
    .filter(([w, n]) => n >= minCount && !(T5_SPECIAL_TOKENS as readonly string[]).includes(w))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, Math.max(0, (options.maxVocab ?? 8000) - T5_SPECIAL_TOKENS.length))
    .map(([w]) => w);
  return [...T5_SPECIAL_TOKENS, ...words];
}

/**
 * Writes `tokenizer.json` + `tokenizer_config.json` for a word-level T5 tokenizer that transformers.js's
 * `AutoTokenizer` (and HF `tokenizers`) load: `<pad>`=0, `</s>`=1, `<unk>`=2, `</s>` appended to every
 * sequence. Pass a vocabulary (token list, specials first or absent) or `{ texts }` to build one.
 * Returns the vocabulary written.
 */
export async function writeWordLevelTokenizer(
  folder: string,
  vocabOrTexts: readonly string[] | { texts: Iterable<string> },
  options: WordLevelTokenizerOptions = {},
): Promise<string[]> {
  const lowercase = options.lowercase ?? true;
  let vocab: string[];
  if (Array.isArray(vocabOrTexts)) {
    const words = (vocabOrTexts as readonly string[]).filter(
      (w) => !(T5_SPECIAL_TOKENS as readonly string[]).includes(w),
    );
    vocab = [...T5_SPECIAL_TOKENS, ...new Set(words)];
  } else {
    vocab = buildWordLevelVocab((vocabOrTexts as { texts: Iterable<string> }).texts, options);
  }
  const added = T5_SPECIAL_TOKENS.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: lowercase ? { type: "Lowercase" } : null,
    pre_tokenizer: { type: "Whitespace" },
    post_processor: !(options.appendEos ?? true)
      ? null
      : {
          type: "TemplateProcessing",
          single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
          pair: [
            { Sequence: { id: "A", type_id: 0 } },
            { SpecialToken: { id: "</s>", type_id: 0 } },
            { Sequence: { id: "B", type_id: 0 } },
            { SpecialToken: { id: "</s>", type_id: 0 } },
          ],
          special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } },
        },
    decoder: null,
    model: { type: "WordLevel", vocab: Object.fromEntries(vocab.map((w, i) => [w, i])), unk_token: "<unk>" },
  };
  const config = {
    tokenizer_class: options.tokenizerClass ?? "T5Tokenizer",
    model_max_length: options.modelMaxLength ?? 512,
    pad_token: "<pad>",
    eos_token: "</s>",
    unk_token: "<unk>",
    clean_up_tokenization_spaces: true,
    extra_ids: 0,
    additional_special_tokens: [],
  };
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, "tokenizer.json"), `${JSON.stringify(tokenizer)}\n`);
  await writeFile(join(folder, "tokenizer_config.json"), `${JSON.stringify(config, null, 2)}\n`);
  return vocab;
}
