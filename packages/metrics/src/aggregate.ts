import { type BootstrapOptions, bootstrapCIs, type ConfidenceInterval } from "./stats";

/** One scored prediction: what aggregation needs. */
export interface ScoredItem {
  em: number;
  f1: number;
  type?: string;
}

export interface Aggregate {
  n: number;
  em: ConfidenceInterval;
  f1: ConfidenceInterval;
}

export interface RunAggregate extends Aggregate {
  byType: Record<string, Aggregate>;
}

function summarise(items: readonly ScoredItem[], options: BootstrapOptions): Aggregate {
  const [em, f1] = bootstrapCIs([items.map((i) => i.em), items.map((i) => i.f1)], options) as [
    ConfidenceInterval,
    ConfidenceInterval,
  ];
  return { n: items.length, em, f1 };
}

/** Means with seeded 95% bootstrap CIs over a run, overall and per question type. Fractions in [0, 1]. */
export function aggregate(items: readonly ScoredItem[], options: BootstrapOptions = {}): RunAggregate {
  const groups = new Map<string, ScoredItem[]>();
  for (const item of items) {
    const key = item.type ?? "unknown";
    const list = groups.get(key) ?? [];
    list.push(item);
    groups.set(key, list);
  }
  const byType: Record<string, Aggregate> = {};
  for (const [type, list] of [...groups].sort(([a], [b]) => a.localeCompare(b)))
    byType[type] = summarise(list, options);
  return { ...summarise(items, options), byType };
}
