/** The benchmarks this project reads. Other names are allowed for user data. */
export type DatasetName = "hotpotqa" | "2wikimultihopqa" | (string & {});

/** One context paragraph: a title and its sentences, in dataset order. */
export interface Paragraph {
  title: string;
  sentences: string[];
}

/** A supporting fact: the paragraph title and the index of a sentence in it. */
export interface SupportingFact {
  title: string;
  sentence: number;
}

/** A `[subject, relation, object]` evidence triple (2WikiMultiHopQA). */
export type EvidenceTriple = [subject: string, relation: string, object: string];

/**
 * One multi-hop QA item, the same shape for both datasets. Readers map their raw fields onto it;
 * anything dataset-specific that a metric needs (aliases, evidences) lives in the optional fields.
 */
export interface Example {
  id: string;
  dataset: DatasetName;
  question: string;
  /** The gold answer as the dataset gives it. */
  answer: string;
  /** Every string that counts as correct (2WikiMultiHopQA aliases); includes `answer` when set. */
  answerAliases?: string[];
  context: Paragraph[];
  supportingFacts?: SupportingFact[];
  /** Question type: bridge / comparison (HotpotQA); comparison / inference / compositional / bridge_comparison (2Wiki). */
  type?: string;
  /** HotpotQA difficulty level: easy / medium / hard. */
  level?: string;
  evidences?: EvidenceTriple[];
  /** Raw fields a reader kept but did not map (e.g. `answer_id`, `entity_ids`). */
  extra?: Record<string, unknown>;
}
