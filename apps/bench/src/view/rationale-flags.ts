import { isRl } from "../report/data";
import type { ViewColumn, ViewItem } from "./data";

/**
 * The flag "RL rationale rated higher but the answer got worse": in one run, a KD+RL column's
 * R_aspect is above a KD column's (same large LM and seed) while its F1 is below.
 */
export function rlRatedHigherButWorse(
  item: ViewItem,
  aspect: (column: number) => number | null | undefined,
  columns: ViewColumn[],
): boolean {
  return columns.some((rl, i) => {
    if (rl.method !== "lm-guided" || !rl.small || !isRl(rl.small)) return false;
    return columns.some((kd, j) => {
      if (kd.method !== "lm-guided" || !kd.small || isRl(kd.small)) return false;
      if (kd.run !== rl.run || kd.large !== rl.large || kd.seed !== rl.seed) return false;
      const [ai, aj, fi, fj] = [aspect(i), aspect(j), item.f1[i], item.f1[j]];
      if (typeof ai !== "number" || typeof aj !== "number") return false;
      if (typeof fi !== "number" || typeof fj !== "number") return false;
      return ai > aj && fi < fj;
    });
  });
}
