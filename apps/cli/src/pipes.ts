/**
 * `lmcot models | head -1`: when the reader of stdout or stderr goes away, stop quietly with the exit
 * code so far instead of crashing with an EPIPE stack trace.
 */
export function exitQuietlyOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
    });
  }
}
