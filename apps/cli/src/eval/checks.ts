import type { OfficialGold, OfficialPrediction } from "@lmcot/metrics";

// Hand-written twins of the schemas in `schemas.ts` for the common files; what they refuse goes
// through zod, for its error message (or its acceptance).

type Check = (value: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isFact: Check = (f) =>
  Array.isArray(f) && f.length === 2 && typeof f[0] === "string" && Number.isSafeInteger(f[1]);

const isTriple: Check = (t) => Array.isArray(t) && t.length === 3 && t.every((s) => typeof s === "string");

const listOf =
  (item: Check): Check =>
  (value) =>
    Array.isArray(value) && value.every(item);

function recordOf(value: unknown, item: Check): boolean {
  if (value === undefined) return true;
  if (!isObject(value)) return false;
  for (const key in value) if (!item(value[key])) return false;
  return true;
}

const isFacts = listOf(isFact);

/** A HotpotQA gold record (no 2Wiki fields) with the fields scoring reads well formed. */
export function isPlainHotpotGold(value: unknown): value is OfficialGold {
  if (!isObject(value)) return false;
  if (typeof value._id !== "string" || value._id === "" || typeof value.answer !== "string") return false;
  if (value.answer_id !== undefined || value.evidences !== undefined || value.evidences_id !== undefined)
    return false;
  return value.supporting_facts === undefined || isFacts(value.supporting_facts);
}

/** The official `{answer, sp, evidence}` prediction object, well formed. */
export function isOfficialPrediction(value: unknown): value is OfficialPrediction {
  return (
    isObject(value) &&
    recordOf(value.answer, (a) => typeof a === "string") &&
    recordOf(value.sp, isFacts) &&
    recordOf(value.evidence, listOf(isTriple))
  );
}
