import assert from "node:assert/strict";
import { type FaultServerOptions, faultServer } from "./fault-server";

/** The test runner's `describe` and `it` (vitest, node:test, jest …): the suites need nothing else. */
export interface ConformanceHarness {
  describe: (name: string, body: () => void) => void;
  it: (name: string, body: () => Promise<void>) => void;
}

/** A key shaped like a real one, so redaction by value and by pattern are both exercised. */
export const CONFORMANCE_KEY = "sk-conformance-0123456789abcdefghij";

/** What the promise rejected with; fails the test if it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the call to fail");
}

/** Runs `body` against a fresh fault server, closed afterwards. */
export async function withFaultServer(
  options: FaultServerOptions,
  body: (url: string) => Promise<void>,
): Promise<void> {
  const server = await faultServer(options);
  try {
    await body(server.url);
  } finally {
    await server.close();
  }
}
