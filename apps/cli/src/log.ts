let quiet = false;

/** `--quiet`: no progress and no notes; results (stdout), warnings and errors are still shown. */
export const setQuiet = (value: boolean) => {
  quiet = value;
};
export const isQuiet = () => quiet;

/** A note for the person watching (progress, resuming, a lock taken over): on stderr, unless --quiet. */
export function note(text: string): void {
  if (!quiet) process.stderr.write(text);
}

/** A command's result on stdout: JSON for programs with `--json`, else the text for people. */
export function printResult(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text());
}
