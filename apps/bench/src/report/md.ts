/**
 * A value as Markdown text that stays inside its table cell or line, whatever its type: `|` and `\`
 * escaped, markup as entities, line breaks as spaces.
 */
export const md = (value: unknown): string =>
  String(value ?? "")
    .replace(/[\\|`]/g, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/\r\n|[\r\n\u2028\u2029]/g, " ");
