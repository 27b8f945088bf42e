import { didYouMean } from "@lmcot/core";
import { fieldPath } from "@lmcot/datasets";
import type { z } from "zod";

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"]);
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Keys that reach an object's prototype when assigned: no schema has them, in any kind of mapping. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

function unwrap(schema: z.ZodType): Def {
  let def = defOf(schema);
  for (;;) {
    if (WRAPPERS.has(def.type) && def.innerType) def = defOf(def.innerType);
    else if (def.type === "pipe" && def.in) def = defOf(def.in);
    else return def;
  }
}

/**
 * Every key of `value` that `schema` does not know, at any depth, each with the nearest known key:
 * `["budgetUSD: unknown key; did you mean budget?"]`. Zod drops unknown keys silently; a misspelled
 * setting in a config file must not.
 */
export function unknownKeys(schema: z.ZodType, value: unknown, path: PropertyKey[] = []): string[] {
  const def = unwrap(schema);
  const unknown = (key: string, known: string[]) =>
    `${fieldPath([...path, key])}: unknown key${didYouMean(key, known)}`;
  if (isRecord(value)) {
    const reserved = Object.keys(value).filter((k) => PROTOTYPE_KEYS.has(k));
    if (reserved.length) return reserved.map((k) => unknown(k, def.shape ? Object.keys(def.shape) : []));
  }
  if (def.type === "object" && def.shape && isRecord(value)) {
    const known = Object.keys(def.shape);
    const open = def.catchall !== undefined && defOf(def.catchall).type !== "never";
    return Object.entries(value).flatMap(([key, v]) => {
      const inner = Object.hasOwn(def.shape!, key) ? def.shape![key] : undefined;
      if (inner) return unknownKeys(inner, v, [...path, key]);
      return open ? [] : [unknown(key, known)];
    });
  }
  if (def.type === "array" && def.element && Array.isArray(value))
    return value.flatMap((v, i) => unknownKeys(def.element!, v, [...path, i]));
  if (def.type === "record" && def.valueType && isRecord(value))
    return Object.entries(value).flatMap(([k, v]) => unknownKeys(def.valueType!, v, [...path, k]));
  if (def.type === "union" && def.options && isRecord(value)) {
    // The option that fits best: the one with the fewest unknown keys.
    const tries = def.options
      .filter((o) => unwrap(o).type === "object")
      .map((o) => unknownKeys(o, value, path))
      .sort((a, b) => a.length - b.length);
    return tries[0] ?? [];
  }
  return [];
}

/**
 * A command-line value as `schema` expects it: a number from its digits, a list from comma-separated
 * values (each converted in turn); anything else unchanged, for the schema to judge.
 */
export function fromFlagString(schema: z.ZodType, value: unknown): unknown {
  const def = unwrap(schema);
  if (
    def.type === "number" &&
    typeof value === "string" &&
    value.trim() !== "" &&
    Number.isFinite(Number(value))
  )
    return Number(value);
  if (def.type === "array" && def.element) {
    const items = typeof value === "string" ? value.split(",").filter(Boolean) : value;
    if (Array.isArray(items)) return items.map((v) => fromFlagString(def.element!, v));
  }
  return value;
}
