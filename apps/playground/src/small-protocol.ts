import type { RationaleGenerateOptions, ScoreRequest } from "@lmcot/core";
import type { LoadProgress, TransformersModelOptions } from "@lmcot/small-lm";

/** What the page asks the small LM's worker (options without functions or signals: they do not cross). */
export type WorkerRequest =
  | { id: number; kind: "load"; spec: string; options: Omit<TransformersModelOptions, "onProgress"> }
  | { id: number; kind: "generate"; inputs: string[]; options: Omit<RationaleGenerateOptions, "signal"> }
  | { id: number; kind: "score"; items: ScoreRequest[] };

/** What it answers: a result or an error for a request, or a progress event while loading. */
export type WorkerReply =
  | { id: number; value: unknown }
  | { id: number; error: string }
  | { progress: LoadProgress };
