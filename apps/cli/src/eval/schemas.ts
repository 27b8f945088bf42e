import type { z as Zod } from "zod";

function build(z: typeof Zod) {
  const fact = z.tuple([z.string(), z.number().int()]);
  const triple = z.tuple([z.string(), z.string(), z.string()]);
  return {
    gold: z.object({
      _id: z.string().min(1),
      answer: z.string(),
      supporting_facts: z.array(fact).optional(),
      answer_id: z.string().nullable().optional(),
      evidences: z.array(triple).optional(),
      evidences_id: z.array(z.array(z.string())).optional(),
    }),
    officialPrediction: z.object({
      answer: z.record(z.string(), z.string()).optional(),
      sp: z.record(z.string(), z.array(fact)).optional(),
      evidence: z.record(z.string(), z.array(triple)).optional(),
    }),
    /** A run line: bench records name their `cell`; core `Prediction`s their method, models and seed. */
    runLine: z.object({
      exampleId: z.string().min(1),
      answer: z.string(),
      cell: z.object({ id: z.string().min(1), dataset: z.string().optional() }).optional(),
      method: z.string().optional(),
      dataset: z.string().optional(),
      models: z.object({ large: z.string(), small: z.string().optional() }).optional(),
      seed: z.number().optional(),
    }),
  };
}

export type EvalSchemas = ReturnType<typeof build>;
export type RunLine = Zod.infer<EvalSchemas["runLine"]>;

let schemas: Promise<EvalSchemas> | undefined;

/**
 * The eval schemas, built on first use: an official HotpotQA file passes the hand checks in
 * `checks.ts` and never loads zod, which would cost more start-up time than the scoring takes.
 */
export function evalSchemas(): Promise<EvalSchemas> {
  schemas ??= import("zod").then(({ z }) => build(z));
  return schemas;
}
