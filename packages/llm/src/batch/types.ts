import {
  type CallWarning,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  notWireFormat,
  toLmcotError,
} from "@lmcot/core";

/** The most one batch may hold; the providers' own limits unless a test makes them small. */
export interface BatchLimits {
  maxRequests: number;
  maxBytes: number;
}

/** OpenAI: 50,000 requests and 200 MB per input file. Anthropic: 100,000 requests and 256 MB. */
export const BATCH_LIMITS: Record<BatchProvider, BatchLimits> = {
  openai: { maxRequests: 50_000, maxBytes: 200 * 1024 * 1024 },
  anthropic: { maxRequests: 100_000, maxBytes: 256 * 1024 * 1024 },
};

export type BatchProvider = "openai" | "anthropic";

/** One request of a batch: the provider's own request body, named by its `custom_id`. */
export interface BatchRequest {
  customId: string;
  body: Record<string, unknown>;
}

/** A batch as the provider reports it, in one shape for both. */
export interface BatchStatus {
  id: string;
  /** `ended` once results (or errors) for every request can be read. */
  state: "running" | "ended";
  /** The provider's own word: validating, in_progress, finalizing, completed, failed, expired, cancelled, ended … */
  status: string;
  total: number;
  /** Requests finished, failed ones included. */
  done: number;
  failed: number;
  /** When the provider created it (ms since the epoch). */
  createdAt?: number;
  /** Why the whole batch failed (OpenAI's validation errors), when it did. */
  error?: string;
}

/** What became of one request. */
export type BatchOutcome =
  | { customId: string; ok: true; response: unknown }
  | {
      customId: string;
      ok: false;
      /** `error`: the provider answered with an error; `expired` / `cancelled`: never run. */
      kind: "error" | "expired" | "cancelled";
      status?: number;
      message: string;
    };

/**
 * Time since the batch was created and, while some but not all of a running batch's requests are
 * done, the time left at the rate so far.
 */
export function batchTiming(status: BatchStatus, submittedAt: number): { elapsedMs: number; etaMs?: number } {
  const elapsedMs = Math.max(0, Date.now() - (status.createdAt ?? submittedAt));
  const etaMs =
    status.state === "running" && status.done > 0 && status.done < status.total
      ? (elapsedMs * (status.total - status.done)) / status.done
      : undefined;
  return { elapsedMs, ...(etaMs !== undefined ? { etaMs } : {}) };
}

/** A request the SDK can hand back with its raw response (both SDKs' `APIPromise`). */
export interface WithResponse<T> {
  withResponse(): Promise<{ data: T; response: Response }>;
}

/** Calls on a provider's client, as the batch APIs make them. */
export interface BatchCalls<C> {
  /** Runs calls on the lazily connected client; whatever they throw becomes lmcot's typed error, keys redacted. */
  <T>(run: (client: C) => Promise<T>): Promise<T>;
  /**
   * One request whose reply must pass `check`: anything else (an HTML page, JSON of another API, a
   * batch with no id) is a fatal InvalidResponseError naming the base URL, status, type and first bytes.
   */
  checked<T>(
    expected: string,
    check: (data: unknown) => boolean,
    run: (client: C) => WithResponse<T>,
  ): Promise<T>;
  /** The same error for a reply read another way (a results file that is not JSONL). */
  wrong(reply: { response: Response; body: string; expected: string }): Error;
}

/** `{ id: "…", <field>: "…" }`: the least a provider's object has. */
export const hasId =
  (...fields: string[]) =>
  (data: unknown): boolean => {
    const o = data as Record<string, unknown> | null;
    return (
      typeof o === "object" &&
      o !== null &&
      typeof o.id === "string" &&
      o.id !== "" &&
      fields.every((f) => o[f] !== undefined && o[f] !== null)
    );
  };

export function calling<C extends { baseURL: string }>(
  connect: () => Promise<C>,
  provider: BatchProvider,
  secrets: readonly (string | undefined)[],
): BatchCalls<C> {
  let baseURL: string | undefined;
  const call = async <T>(run: (client: C) => Promise<T>): Promise<T> => {
    try {
      const client = await connect();
      baseURL = client.baseURL;
      return await run(client);
    } catch (error) {
      throw toLmcotError(error, provider, secrets, baseURL ? { baseURL } : {});
    }
  };
  const wrong: BatchCalls<C>["wrong"] = ({ response, body, expected }) =>
    notWireFormat(
      {
        provider,
        ...(baseURL ? { baseURL } : {}),
        expected,
        status: response.status,
        contentType: response.headers.get("content-type"),
        body,
      },
      secrets,
    );
  const checked: BatchCalls<C>["checked"] = (expected, check, run) =>
    call(async (client) => {
      const { data, response } = await run(client).withResponse();
      if (!check(data)) throw wrong({ response, body: data as unknown as string, expected });
      return data;
    });
  return Object.assign(call, { checked, wrong });
}

/** A provider's batch endpoints, through its official client. */
export interface BatchAPI {
  readonly provider: BatchProvider;
  /** The bytes one request takes in the submitted payload (for the size limit). */
  size(request: BatchRequest): number;
  /** One request as a line of a submission file (`submitFile` sends such a file). */
  line(request: BatchRequest): string;
  /** Uploads and creates the batch; `submission` is lmcot's own id for it, kept where the provider allows. */
  submit(
    requests: readonly BatchRequest[],
    info: { model: string; submission: string; signal?: AbortSignal },
  ): Promise<{ id: string; inputFileId?: string }>;
  /** Uploads a file of `line`s (read from disk as it goes where the provider takes a file) and creates the batch. */
  submitFile(
    file: string,
    info: { model: string; submission: string; signal?: AbortSignal },
  ): Promise<{ id: string; inputFileId?: string }>;
  retrieve(id: string, signal?: AbortSignal): Promise<BatchStatus>;
  /** Every request's outcome, once the batch has ended; order is the provider's. */
  results(id: string, signal?: AbortSignal): Promise<BatchOutcome[]>;
  /** The same outcomes as a stream, read line by line from the provider's reply. */
  outcomes(id: string, signal?: AbortSignal): AsyncIterable<BatchOutcome>;
  cancel(id: string, signal?: AbortSignal): Promise<BatchStatus>;
  /**
   * The batch a killed process created but never recorded: found by the submission id where the
   * provider keeps metadata (OpenAI), else by creation time and request count (Anthropic).
   */
  find(submission: {
    id: string;
    at: number;
    requests: number;
    known: ReadonlySet<string>;
    signal?: AbortSignal;
  }): Promise<string | undefined>;
}

/** What a model offers for batching: its batch API and the request body it would send online. */
export interface Batchable {
  readonly api: BatchAPI;
  /** The provider's model name (`gpt-4o-mini`). */
  readonly model: string;
  body(request: GenerateRequest): { body: Record<string, unknown>; warnings: CallWarning[] };
  /** A successful response body (as a batch returns it) → the result `generate` would have returned. */
  parse(response: unknown, body: Record<string, unknown>, warnings: CallWarning[]): GenerateResult;
}

/** What sends a model's calls through provider batches: a `BatchSession`, or `BatchRounds` (the bench). */
export interface BatchWrapper {
  wrap(model: LanguageModel, batchable: Batchable, online?: LanguageModel): LanguageModel;
}

/** A model that can be batched exposes `batchable()`; it returns undefined where its provider has no batch API. */
export interface MaybeBatchable {
  batchable?(): Batchable | undefined;
}
