// The official scripts are Python; these helpers reproduce Python's string semantics where they differ
// from JavaScript's (see the package README).

/** Python's `str.split()` whitespace (`str.isspace`), which is not JavaScript's `\s`. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: \x1c-\x1f are whitespace to Python, as the official scripts split.
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** `string.punctuation`: ASCII punctuation only. */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/**
 * `re.sub(r'\b(a|an|the)\b', ' ', text)` with Python 3's Unicode-aware `\b`: a word character is a
 * letter, a number or `_` in any script (JavaScript's `\b` knows only ASCII).
 */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** Text of printable ASCII characters only, space the one whitespace among them. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** `' '.join(text.split())` with Python's whitespace set. */
export function pythonSplit(text: string): string[] {
  return text.split(PY_SPACE).filter((t) => t !== "");
}

export function removePunctuation(text: string): string {
  return text.replace(ASCII_PUNCTUATION, "");
}

/**
 * The official answer normalisation (HotpotQA and 2WikiMultiHopQA alike): lower-case, delete ASCII
 * punctuation, replace the words a / an / the with a space, collapse whitespace.
 */
export function normalizeAnswer(text: string): string {
  if (!PRINTABLE_ASCII.test(text))
    return pythonSplit(removePunctuation(text.toLowerCase()).replace(ARTICLES, " ")).join(" ");
  // Printable ASCII (most answers): once punctuation is gone only letters, digits and spaces are left,
  // so the words are the space-separated runs and an article is a run that is one.
  const words = removePunctuation(text.toLowerCase()).split(" ");
  let out = "";
  for (const w of words) {
    if (w === "" || w === "a" || w === "an" || w === "the") continue;
    out = out === "" ? w : `${out} ${w}`;
  }
  return out;
}

/** 2WikiMultiHopQA's evidence normalisation: like answers, but articles are kept. */
export function normalizeEvidenceText(text: string): string {
  return pythonSplit(removePunctuation(text.toLowerCase())).join(" ");
}
