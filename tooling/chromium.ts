import { existsSync } from "node:fs";

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it), or `$CHROMIUM_PATH`. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether browser tests can run here; in CI a missing Chromium is an error, elsewhere a skip. */
export function chromiumAvailable(test: string): boolean {
  const available = existsSync(CHROMIUM);
  if (!available && process.env.CI)
    throw new Error(`CI needs Chromium at ${CHROMIUM} for the ${test} (apt-get install chromium)`);
  return available;
}

/** playwright-core launch options: a fresh profile that reaches no Google service on its own. */
export const CHROMIUM_LAUNCH = {
  executablePath: CHROMIUM,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};
