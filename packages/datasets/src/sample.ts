import { type Example, seededRandom } from "@lmcot/core";

export { seededRandom };

/** `n` items drawn without replacement, the same for the same seed and input (a seeded shuffle prefix). */
export function sample<T>(items: readonly T[], n: number, seed = 0): T[] {
  const copy = [...items];
  const random = seededRandom(seed);
  const k = Math.max(0, Math.min(n, copy.length));
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, k);
}

export interface ExampleFilter {
  type?: string | string[];
  level?: string | string[];
}

const matches = (value: string | undefined, wanted: string | string[] | undefined) =>
  wanted === undefined ||
  (value !== undefined && (Array.isArray(wanted) ? wanted.includes(value) : wanted === value));

/** Keeps examples of the given question type(s) and level(s). */
export function filterExamples(examples: readonly Example[], filter: ExampleFilter): Example[] {
  return examples.filter((e) => matches(e.type, filter.type) && matches(e.level, filter.level));
}

/**
 * A seeded train / eval split: `evalSize` examples for evaluation, the rest for training (e.g. for
 * distillation), disjoint and the same for the same seed.
 */
export function trainEvalSplit<T = Example>(
  examples: readonly T[],
  evalSize: number,
  seed = 0,
): { train: T[]; eval: T[] } {
  const shuffled = sample(examples, examples.length, seed);
  return { eval: shuffled.slice(0, evalSize), train: shuffled.slice(evalSize) };
}
