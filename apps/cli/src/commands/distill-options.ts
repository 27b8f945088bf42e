import { z } from "zod";
import { callKeys, text } from "../options";

export const EXPORT_FORMATS = ["trl", "openai", "seq2seq", "rl"] as const;

/** `trl,openai`, `none`, or a list. */
const exportFormats = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (typeof v !== "string" ? v : v === "none" ? [] : v.split(",").filter(Boolean)))
  .pipe(z.array(z.enum(EXPORT_FORMATS)));

/** `lmcot distill`: its flags and `--config` keys, one key per flag (`--eval-size` ↔ `evalSize`). */
export const distillOptionsSchema = z.object({
  ...callKeys,
  teacher: z.string().min(3),
  dataset: z.enum(["hotpotqa", "2wikimultihopqa"]),
  input: z.string().min(1),
  download: z.boolean().optional(),
  evalSize: z.number().int().positive(),
  out: z.string().min(1),
  samples: z.number().int().min(1).max(64),
  temperature: z.number().min(0).max(2).optional(),
  filter: z.enum(["em", "f1"]),
  threshold: z.number().min(0).max(1).optional(),
  concurrency: z.number().int().min(1).max(256),
  budget: z.number().positive().optional(),
  export: exportFormats,
  cacheDir: z.string().min(1),
  cache: z.boolean(),
  batch: z.boolean().optional(),
  batchFallback: z.enum(["batch", "online"]).optional(),
  batchPoll: text.optional(),
});

export type DistillOptions = z.output<typeof distillOptionsSchema>;
