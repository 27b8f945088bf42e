/** A command-line mistake found after parsing (a bad combination of flags): exits with code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
