const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

/**
 * Offset of the first character at which `text` stops being JSON (`text.length` when it ends too
 * soon), or -1 when it is JSON. For error messages where `JSON.parse` names no position.
 */
export function jsonSyntaxErrorAt(text: string): number {
  let i = 0;
  const sticky = (pattern: RegExp) => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) return false;
    i = pattern.lastIndex;
    return true;
  };
  const string = () => {
    if (text[i] !== '"') return false;
    for (i++; i < text.length; i++) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return true;
      }
      if (c < " ") return false;
      if (c !== "\\") continue;
      i++;
      if (text[i] === "u") {
        i++;
        if (!sticky(HEX4)) return false;
        i--;
      } else if (!ESCAPES.has(text[i]!)) return false;
    }
    return false;
  };
  const closers: string[] = [];
  let expect: "value" | "key" | "next" = "value";
  for (;;) {
    while (isSpace(text[i])) i++;
    const c = text[i];
    if (expect === "key") {
      if (!string()) return i;
      while (isSpace(text[i])) i++;
      if (text[i] !== ":") return i;
      i++;
      expect = "value";
    } else if (expect === "value") {
      if (c === "{" || c === "[") {
        closers.push(c === "{" ? "}" : "]");
        i++;
        while (isSpace(text[i])) i++;
        if (text[i] === closers.at(-1)) {
          closers.pop();
          i++;
          expect = "next";
        } else expect = c === "{" ? "key" : "value";
      } else if (string() || sticky(NUMBER) || sticky(LITERAL)) expect = "next";
      else return i;
    } else if (closers.length === 0) return i < text.length ? i : -1;
    else if (c === ",") {
      i++;
      expect = closers.at(-1) === "}" ? "key" : "value";
    } else if (c === closers.at(-1)) {
      closers.pop();
      i++;
    } else return i;
  }
}
