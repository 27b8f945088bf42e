import { createHash } from "node:crypto";

/** Markup made by `html`: the one kind of value a template takes as is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Escapes text for an HTML text node or a quoted attribute, whatever the value's type. */
export const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);

function piece(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join("");
  if (value === undefined || value === null || value === false) return "";
  return escapeHtml(value);
}

/**
 * The one way pages are built: every interpolated value is escaped (text and quoted attributes alike)
 * unless it is itself `html` markup; arrays are joined; `undefined`, `null` and `false` render nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += piece(v) + strings[i + 1]!;
  });
  return new Html(out);
}

/** A CSP source for an inline `<script>` or `<style>` element's exact text. */
export const cspHash = (text: string) =>
  `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * A Content-Security-Policy that allows nothing but the given script and style sources: no other
 * inline script, no network, no plugins, no forms, no `<base>`.
 */
export function contentSecurityPolicy(sources: { script: string[]; style: string[] }): string {
  return [
    "default-src 'none'",
    `script-src ${sources.script.join(" ")}`,
    `style-src ${sources.style.join(" ")}`,
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}
