import { AbortError, DataValidationError, type Example } from "@lmcot/core";
import { DataFetchError } from "./data-errors";
import type { RawRecord } from "./json-scan";
import { maxRecordBytes, recordTooLarge } from "./limits";
import { examples, type ReadOptions } from "./read-records";

/** What the Web Streams readers take: a URL to fetch, a fetched `Response`, a `Blob`/`File`, or a byte stream. */
export type ReadSource = string | URL | Request | Response | Blob | ReadableStream<Uint8Array>;

function nameOf(source: ReadSource): string {
  const url =
    typeof source === "string" || source instanceof URL ? String(source) : (source as { url?: string }).url;
  const name = (source as { name?: string }).name ?? url?.split(/[?#]/)[0]?.split("/").pop();
  return name || "stream";
}

async function bytesOf(source: ReadSource, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  if (source instanceof ReadableStream) return source;
  if (source instanceof Blob) return source.stream();
  const response =
    source instanceof Response
      ? source
      : await fetch(source, signal ? { signal } : {}).catch((error) => {
          throw new DataFetchError(
            "download_failed",
            `cannot fetch ${String(source)}: ${(error as Error).message}`,
            {
              retryable: true,
              cause: error,
            },
          );
        });
  if (!response.ok || !response.body)
    throw new DataFetchError(
      "download_failed",
      `${response.url || String(source)} answered ${response.status}`,
      {
        status: response.status,
        retryable: response.status >= 500,
      },
    );
  return response.body;
}

/** The source's text in pieces, checked to be UTF-8 (a byte order mark dropped). */
async function* textOf(source: ReadSource, file: string, signal?: AbortSignal): AsyncGenerator<string> {
  const reader = (await bytesOf(source, signal)).getReader();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  try {
    for (;;) {
      if (signal?.aborted) throw new AbortError();
      const { done, value } = await reader.read();
      let text: string;
      try {
        text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      } catch {
        throw new DataValidationError("is not valid UTF-8 (save the file as UTF-8)", { file, line });
      }
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", nl + 1)) line++;
      if (text) yield text;
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const parse = (text: string, at: { file: string; record: number; line: number }, torn = false) => {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DataValidationError(
      torn
        ? "is a torn last line (no newline at the end and not valid JSON: the file was cut while being written)"
        : `is not valid JSON (${(error as Error).message})`,
      at,
    );
  }
};

/** JSONL: one record a line, blank lines skipped, a torn last line said. */
async function* jsonlRecords(text: AsyncGenerator<string>, first: string, file: string, limit: number) {
  let pending = first;
  let line = 0;
  let record = 0;
  const emit = (body: string, torn: boolean): RawRecord[] => {
    line++;
    if (body.trim() === "") return [];
    return [{ value: parse(body, { file, record, line }, torn), record: record++, line }];
  };
  for (let chunk: string | undefined = ""; chunk !== undefined; ) {
    pending += chunk;
    let start = 0;
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n", start)) {
      yield* emit(pending.slice(start, nl).replace(/\r$/, ""), false);
      start = nl + 1;
    }
    pending = pending.slice(start);
    if (pending.length > limit) throw recordTooLarge(limit, { file, line: line + 1 });
    const next = await text.next();
    chunk = next.done ? undefined : next.value;
  }
  yield* emit(pending, true);
}

/** A top-level JSON array, streamed: each `{…}` element is cut out by a scanner and parsed alone. */
async function* arrayRecords(text: AsyncGenerator<string>, first: string, file: string, limit: number) {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let closed = false;
  let line = 1;
  let record = 0;
  let recordLine = 1;
  let current = "";
  for (let chunk: string | undefined = first; chunk !== undefined; ) {
    let from = depth >= 2 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === "\n") line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === "\\") escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (depth === 1 && !/[\s,{\]]/.test(c))
        throw new DataValidationError("has an array element that is not a record ({…})", { file, line });
      if (c === '"') inString = true;
      else if (c === "{" || c === "[") {
        depth++;
        if (depth === 2) [from, recordLine] = [i, line];
      } else if (c === "}" || c === "]") {
        depth--;
        if (depth === 1) {
          const body = current + chunk.slice(from, i + 1);
          yield {
            value: parse(body, { file, record, line: recordLine }),
            record: record++,
            line: recordLine,
          };
          [current, from] = ["", -1];
        }
        if (depth === 0) closed = true;
      } else if (depth === 0 && closed && !/\s/.test(c))
        throw new DataValidationError("has text after the closing ]", { file, line });
    }
    if (from >= 0) current += chunk.slice(from);
    if (current.length > limit) throw recordTooLarge(limit, { file, record, line: recordLine });
    const next = await text.next();
    chunk = next.done ? undefined : next.value;
  }
  if (!closed)
    throw new DataValidationError("ends before its JSON is complete (the file is truncated)", { file, line });
}

/** The raw records of a JSON-array or JSONL source, streamed. */
export async function* readRawRecords(
  source: ReadSource,
  options: Pick<ReadOptions, "signal" | "maxRecordBytes"> = {},
): AsyncGenerator<RawRecord> {
  const file = nameOf(source);
  const text = textOf(source, file, options.signal);
  try {
    let head = "";
    while (head.trim() === "") {
      const next = await text.next();
      if (next.done) break;
      head += next.value;
    }
    if (head.trim() === "") throw new DataValidationError("is empty", { file });
    const limit = maxRecordBytes(options.maxRecordBytes);
    const scan = head.trimStart().startsWith("[") ? arrayRecords : jsonlRecords;
    yield* scan(text, head, file, limit);
  } finally {
    await text.return(undefined);
  }
}

/**
 * Streams a HotpotQA or 2WikiMultiHopQA file (the official JSON array, or JSONL) from a URL, a
 * `Response`, a `Blob` or a `ReadableStream` as validated `Example`s, with Web Streams only: the
 * same records, checks and errors as the Node reader of a file path. Memory stays at one record.
 */
export async function* readDataset(source: ReadSource, options: ReadOptions = {}): AsyncGenerator<Example> {
  const records = readRawRecords(source, options);
  try {
    yield* examples(records, nameOf(source), options);
  } finally {
    await records.return(undefined);
  }
}

/** Reads a whole (small) source into memory. */
export async function readAll(source: ReadSource, options: ReadOptions = {}): Promise<Example[]> {
  const out: Example[] = [];
  for await (const example of readDataset(source, options)) out.push(example);
  return out;
}
