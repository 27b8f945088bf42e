import type { AspectName } from "./aspects";
import { JUDGE_SCALE } from "./judge-prompts";

/** A judge reply read as a score in [0, 1], or why it could not be read. Never thrown. */
export type ParsedScore = { score: number; raw: number } | { error: string };

const NUMBER = String.raw`(-?\d+(?:\.\d+)?)`;

function clean(reply: string): string {
  return reply.replace(/[*_`]/g, "").replace(/\r/g, "");
}

/** Maps a raw rating on the judge scale onto [0, 1], or explains why it is out of range. */
function toUnit(raw: number, outOf: number | undefined): ParsedScore {
  const { min, max } = JUDGE_SCALE;
  if (outOf !== undefined && outOf !== max)
    return { error: `score given out of ${outOf}, expected out of ${max}` };
  if (!Number.isFinite(raw) || raw < min || raw > max)
    return { error: `score ${raw} is outside ${min}–${max}` };
  return { score: (raw - min) / (max - min), raw };
}

function fromJson(text: string, key: string): number | undefined {
  const match = /\{[\s\S]*\}/.exec(text);
  if (!match) return undefined;
  try {
    const value = (JSON.parse(match[0]) as Record<string, unknown>)[key];
    return typeof value === "number"
      ? value
      : typeof value === "string" && value.trim() !== ""
        ? Number(value)
        : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a one-aspect judge reply (`Score: 4`, `**Score:** 4/5`, `{"score": 4}` or a bare `4`).
 * Anything else — no score, two different scores, out of range — is an error value, not a throw.
 */
export function parseAspectScore(reply: string): ParsedScore {
  const text = clean(reply).trim();
  if (text === "") return { error: "empty reply" };
  const marked = [
    ...text.matchAll(new RegExp(String.raw`\bscore\s*(?:is\s*)?[:=]?\s*${NUMBER}(?:\s*\/\s*(\d+))?`, "gi")),
  ];
  if (marked.length > 0) {
    const values = new Set(marked.map((m) => m[1]));
    if (values.size > 1)
      return { error: `several different scores in the reply (${[...values].join(", ")})` };
    const m = marked[0]!;
    return toUnit(Number(m[1]), m[2] === undefined ? undefined : Number(m[2]));
  }
  const json = fromJson(text, "score");
  if (json !== undefined) return toUnit(json, undefined);
  const bare = new RegExp(String.raw`^${NUMBER}(?:\s*\/\s*(\d+))?\.?$`).exec(text);
  if (bare) return toUnit(Number(bare[1]), bare[2] === undefined ? undefined : Number(bare[2]));
  return { error: "no `Score: <n>` in the reply" };
}

/** Reads an all-aspects reply (`factuality: 4` lines, or a JSON object); each aspect on its own. */
export function parseAllAspects(
  reply: string,
  aspects: readonly AspectName[],
): Record<AspectName, ParsedScore> {
  const text = clean(reply);
  const out = {} as Record<AspectName, ParsedScore>;
  for (const aspect of aspects) {
    if (text.trim() === "") {
      out[aspect] = { error: "empty reply" };
      continue;
    }
    const lines = [
      ...text.matchAll(
        new RegExp(String.raw`^[\s\-•\d.)]*${aspect}\s*[:=\-–]\s*${NUMBER}(?:\s*\/\s*(\d+))?`, "gim"),
      ),
    ];
    if (lines.length > 0) {
      const values = new Set(lines.map((m) => m[1]));
      out[aspect] =
        values.size > 1
          ? { error: `several different ${aspect} scores in the reply` }
          : toUnit(Number(lines[0]![1]), lines[0]![2] === undefined ? undefined : Number(lines[0]![2]));
      continue;
    }
    const json = fromJson(text, aspect);
    out[aspect] =
      json !== undefined ? toUnit(json, undefined) : { error: `no \`${aspect}: <n>\` line in the reply` };
  }
  return out;
}
