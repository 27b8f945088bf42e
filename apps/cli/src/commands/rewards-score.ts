import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { DataValidationError, type Example, fnv1a, type RunStore, runResumable } from "@lmcot/core";
import { loadSample, lockRunDir, openFailureLog, openRunStore, readAll, readLines } from "@lmcot/datasets";
import { apiKeysInEnv, journalPaths } from "@lmcot/llm";
import { ASPECTS, type ItemReward, type RewardConfig, type RewardItem } from "@lmcot/rewards";
import { z } from "zod";
import { type BatchFlags, batchInterruptNote, batchSessionFrom } from "../batch-flags";
import { lockNotice, reportFailures } from "../failures";
import { onInterrupt } from "../interrupt";
import { UsageError } from "../usage-error";
import {
  callsPerRun,
  checkBatchable,
  configFromFlags,
  number,
  type RewardFlags,
  scorerFrom,
} from "./rewards-flags";

export interface ScoreFlags extends RewardFlags, BatchFlags {
  run: string;
  data?: string;
  out?: string;
  json?: boolean;
}

/** A run line: a core `Prediction` or a bench record (both carry exampleId, answer, rationale). */
const runLine = z.looseObject({
  key: z.string().optional(),
  exampleId: z.string(),
  dataset: z.string().optional(),
  cell: z.looseObject({ dataset: z.string(), method: z.string().optional() }).optional(),
  method: z.string().optional(),
  answer: z.string(),
  rationale: z.string().optional(),
});

interface ScoreItem extends RewardItem {
  /** The run line's own key (a bench record), else dataset | method | example | rationale hash. */
  key: string;
  line: number;
  method?: string;
}

/** One line of `--out`: an item's reward and its parts, written as soon as the item is scored. */
interface RewardRow {
  key: string;
  /** Which reward config and models made it: a re-run with other settings is refused. */
  setup: string;
  exampleId: string;
  dataset: string;
  method?: string;
  line: number;
  reward: number;
  taskReward?: number | null;
  answer?: string;
  em?: number;
  f1?: number;
  aspectReward?: number | null;
  aspects?: Record<string, number | null>;
  judgeFailures?: ItemReward["failures"];
  callFailures?: ItemReward["callFailures"];
  costUsd: number;
}

async function examplesFor(dataset: string, flags: ScoreFlags, cache: Map<string, Map<string, Example>>) {
  let table = cache.get(dataset);
  if (!table) {
    let list: Example[];
    if (flags.data) list = await readAll(flags.data, { dataset });
    else if (dataset === "hotpotqa" || dataset === "2wikimultihopqa") list = await loadSample(dataset);
    else throw new UsageError(`the run is on dataset "${dataset}": give its file with --data`);
    table = new Map(list.map((e) => [e.id, e]));
    cache.set(dataset, table);
  }
  return table;
}

/** The run's predictions that have a rationale, as reward items with the example each answers. */
async function readRun(flags: ScoreFlags) {
  const file = basename(flags.run);
  const tables = new Map<string, Map<string, Example>>();
  const items: ScoreItem[] = [];
  let withoutRationale = 0;
  for await (const { text, line } of readLines(flags.run)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new DataValidationError("is not valid JSON", { file, line });
    }
    const parsed = runLine.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DataValidationError(issue.message, { file, line, field: issue.path.join(".") });
    }
    const r = parsed.data;
    if (r.rationale === undefined || r.rationale.trim() === "") {
      withoutRationale++;
      continue;
    }
    const dataset = r.dataset ?? r.cell?.dataset;
    if (!dataset) throw new DataValidationError("has no dataset (dataset or cell.dataset)", { file, line });
    const example = (await examplesFor(dataset, flags, tables)).get(r.exampleId);
    if (!example)
      throw new DataValidationError(
        `names example "${r.exampleId}", which is not in ${flags.data ?? `the bundled ${dataset} sample`}`,
        { file, line, field: "exampleId" },
      );
    const method = r.method ?? r.cell?.method;
    items.push({
      key: r.key ?? [dataset, method ?? "", r.exampleId, fnv1a(r.rationale)].join("|"),
      example,
      rationale: r.rationale,
      // Without --large the task reward scores the answer the run recorded (no new large-LM call).
      ...(flags.large ? {} : { answer: r.answer }),
      line,
      ...(method ? { method } : {}),
    });
  }
  if (items.length === 0)
    throw new Error(
      `${file} has no predictions with a rationale to reward (${withoutRationale} without one)`,
    );
  return { items, withoutRationale };
}

const orNull = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? null : x);

function rowOf(key: string, setup: string, item: ScoreItem, r: ItemReward): RewardRow {
  return {
    key,
    setup,
    exampleId: item.example.id,
    dataset: item.example.dataset,
    ...(item.method ? { method: item.method } : {}),
    line: item.line,
    reward: r.reward,
    ...(r.taskReward !== undefined ? { taskReward: orNull(r.taskReward) } : {}),
    ...(r.answer !== undefined ? { answer: r.answer, em: r.em!, f1: r.f1! } : {}),
    ...(r.aspectReward !== undefined
      ? {
          aspectReward: orNull(r.aspectReward),
          aspects: Object.fromEntries(Object.entries(r.aspects).map(([k, v]) => [k, orNull(v)])),
        }
      : {}),
    ...(r.failures.length ? { judgeFailures: r.failures } : {}),
    ...(r.callFailures.length ? { callFailures: r.callFailures } : {}),
    costUsd: r.usage.costUsd,
  };
}

/** Without --out nothing is kept, so there is nothing to resume: the rows live for this run only. */
function memoryStore(): RunStore<RewardRow> {
  const rows: RewardRow[] = [];
  return {
    has: () => false,
    append: async (row) => {
      rows.push(row);
    },
    records: async function* () {
      yield* rows;
    },
    close: async () => {},
  };
}

/** `rewards.jsonl` → `rewards.errors.jsonl`: beside it, never a bench run directory's `errors.jsonl`. */
export const errorsPathOf = (out: string) => `${out.replace(/\.jsonl?$/, "")}.errors.jsonl`;

/** The --out file, locked (its folder), opened for appending, refused if other settings made its rows. */
async function openOut(out: string, setup: string, keys: Set<string>) {
  const lock = lockRunDir(dirname(resolve(out)), "lmcot rewards score");
  lockNotice(lock);
  try {
    const store = await openRunStore<RewardRow>(out);
    for await (const row of store.records()) {
      if (row.setup !== setup) {
        await store.close();
        throw new UsageError(
          `--out ${out} holds rewards made with other settings (reward config or models); give another --out, or delete it to start again`,
        );
      }
      break;
    }
    const errors = await openFailureLog(errorsPathOf(out), {
      keep: (f) => keys.has(f.key) && !store.has(f.key),
    });
    return { store, errors, lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}

function summarise(rows: RewardRow[], config: RewardConfig) {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const defined = (xs: (number | null | undefined)[]) =>
    xs.filter((x): x is number => typeof x === "number" && !Number.isNaN(x));
  const aspects: Record<string, number> = {};
  for (const a of ASPECTS)
    if ((config.aspects[a] ?? 0) !== 0 && config.aspectWeight !== 0)
      aspects[a] = mean(defined(rows.map((r) => r.aspects?.[a])));
  const task = defined(rows.map((r) => r.taskReward));
  const aspect = defined(rows.map((r) => r.aspectReward));
  return {
    items: rows.length,
    meanReward: mean(rows.map((r) => r.reward)),
    ...(task.length ? { meanTaskReward: mean(task) } : {}),
    ...(aspect.length ? { meanAspectReward: mean(aspect) } : {}),
    aspects,
    judgeFailures: rows.reduce((n, r) => n + (r.judgeFailures?.length ?? 0), 0),
  };
}

/**
 * `lmcot rewards score`: each row is appended to --out as soon as it is scored; a failed item goes to
 * `<out>.errors.jsonl` (kept to those not scored since) and the run ends with exit code 1; a failure
 * no re-run can fix stops it. A re-run with the same --out scores only the rows still missing.
 */
export async function score(flags: ScoreFlags): Promise<void> {
  if (!existsSync(flags.run)) throw new UsageError(`--run: no such file: ${flags.run}`);
  if (flags.data && !existsSync(flags.data)) throw new UsageError(`--data: no such file: ${flags.data}`);
  const config = configFromFlags(flags);
  if (config.normalization !== "none")
    throw new UsageError(
      "--normalize: `rewards score` writes each row as it is scored, so it cannot normalise across the run; normalise the reward column afterwards (the server normalises per request)",
    );
  if (flags.batch) {
    if (!flags.out) throw new UsageError("--batch needs --out: the batch journal is kept next to it");
    checkBatchable(flags, config);
  }
  let scorer = scorerFrom(flags, config, false);
  const { items, withoutRationale } = await readRun(flags);
  const setup = fnv1a(JSON.stringify({ config, judge: flags.judge ?? null, large: flags.large ?? null }));
  const opened = flags.out ? await openOut(flags.out, setup, new Set(items.map((i) => i.key))) : undefined;
  const store = opened?.store ?? memoryStore();
  const errors = opened?.errors;
  let result: Awaited<ReturnType<typeof runResumable>>;
  const rows: RewardRow[] = [];
  try {
    result = await onInterrupt(async (signal) => {
      // The journal sits next to --out: rewards.jsonl → rewards.batches.jsonl, rewards.batches/.
      const out = flags.out ?? "";
      const name = `${basename(out).replace(/\.jsonl$/, "")}.batches`;
      const secrets = apiKeysInEnv();
      const session = batchSessionFrom(flags, { dir: dirname(out), name, secrets, signal });
      if (session)
        scorer = scorerFrom(flags, config, false, {
          session,
          calls: callsPerRun(flags, config, items.length),
        });
      const ran = await runResumable<ScoreItem, RewardRow>({
        items,
        keyOf: (item) => item.key,
        store,
        signal,
        // --batch: every item in flight at once, so all their calls go into one batch.
        concurrency: session ? items.length : number("--concurrency", flags.concurrency, 1),
        ...(session ? { scope: session.track } : {}),
        secrets,
        ...(errors ? { onFailure: (failure) => errors.append(failure) } : {}),
        run: async (item, { key, signal }) => rowOf(key, setup, item, await scorer.score(item, signal)),
      });
      if (ran.stopped === "abort")
        batchInterruptNote(
          session?.runningBatches(),
          journalPaths(dirname(out), name).journal,
          "lmcot rewards score",
        );
      return ran;
    });
    for await (const row of store.records()) rows.push(row);
  } finally {
    await store.close();
    await errors?.close();
    opened?.lock.release();
  }
  const t = scorer.totals.usage;
  const summary = {
    ...summarise(rows, config),
    resumed: result.progress.skipped,
    failed: result.errors.length,
    ...(result.stopped ? { stopped: result.stopped } : {}),
    costUsd: t.costUsd,
    cachedCalls: t.cachedCalls,
    calls: t.calls,
  };
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ ...summary, skippedWithoutRationale: withoutRationale }, null, 2)}\n`,
    );
  else process.stdout.write(`${summaryLines(summary, config, flags, withoutRationale).join("\n")}\n`);
  reportFailures(result.errors, items.length, result.fatal);
  if (result.errors.length && flags.out)
    process.stderr.write(
      `failed items: ${errorsPathOf(flags.out)}${result.fatal ? "" : "; re-run the same command to score only what is missing"}\n`,
    );
  if (result.stopped === "abort") {
    process.stderr.write("interrupted; re-run the same command to resume\n");
    process.exitCode = 130;
  }
}

function summaryLines(
  s: ReturnType<typeof summarise> & { resumed: number; failed: number; costUsd: number; cachedCalls: number },
  config: RewardConfig,
  flags: ScoreFlags,
  withoutRationale: number,
): string[] {
  const aspectTotal = Object.values(config.aspects).reduce((a, b) => a + (b ?? 0), 0);
  return [
    `${s.items} rationales: mean reward ${s.meanReward.toFixed(4)} (preset ${flags.preset})`,
    ...(s.meanTaskReward !== undefined
      ? [`  task reward (${JSON.stringify(config.taskMetric)}): ${s.meanTaskReward.toFixed(4)}`]
      : []),
    ...(s.meanAspectReward !== undefined
      ? [
          `  aspect reward: ${s.meanAspectReward.toFixed(4)} of ${aspectTotal}`,
          ...Object.entries(s.aspects).map(([a, m]) => `    ${a}: ${m.toFixed(4)}`),
        ]
      : []),
    `  unreadable judge replies: ${s.judgeFailures}; cost $${s.costUsd.toFixed(4)}; cached calls ${s.cachedCalls}`,
    ...(s.resumed ? [`  ${s.resumed} rows were already in ${flags.out} (resumed)`] : []),
    ...(withoutRationale ? [`  skipped ${withoutRationale} predictions without a rationale`] : []),
    ...(flags.out ? [`per-item rewards: ${flags.out}`] : []),
  ];
}
