const TWO_WIKI_TYPES = new Set(["compositional", "inference", "bridge_comparison"]);
const TWO_WIKI_FIELDS = ["evidences", "entity_ids", "answer_id", "evidences_id"];

/**
 * The dataset a raw record shows it belongs to, and the field that shows it: 2WikiMultiHopQA by its
 * evidence / entity fields or its own question types, HotpotQA by `level` or its `bridge` type.
 * Undefined when the record has neither sign.
 */
export function datasetOf(
  value: unknown,
): { dataset: "hotpotqa" | "2wikimultihopqa"; field: string } | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const field = TWO_WIKI_FIELDS.find((f) => f in r);
  if (field) return { dataset: "2wikimultihopqa", field };
  if (typeof r.type === "string" && TWO_WIKI_TYPES.has(r.type))
    return { dataset: "2wikimultihopqa", field: `type "${r.type}"` };
  if ("level" in r) return { dataset: "hotpotqa", field: "level" };
  if (r.type === "bridge") return { dataset: "hotpotqa", field: 'type "bridge"' };
  return undefined;
}
