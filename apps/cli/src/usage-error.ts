import { DataValidationError } from "@lmcot/core";

/** A command-line mistake found after parsing (a bad combination of flags): exits with code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Runs `read`; bad data in a file it reads (a hand-edited run.jsonl) is an input error: exit 2. */
export async function readingInput<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw DataValidationError.isInstance(error) ? new UsageError(error.message) : error;
  }
}
