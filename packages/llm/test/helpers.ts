import { afterEach } from "vitest";
import { type FaultServerOptions, faultServer, loopback } from "../src/testing/index";

/** A fake key shaped like a real one, so redaction by pattern and by value are both exercised. */
export const KEY = "sk-test-0123456789abcdefghij";

/** `start(...)` runs a server made by `make` that is closed after each test of the calling file. */
function closedAfterEach<A extends unknown[], S extends { close: () => Promise<void> }>(
  make: (...args: A) => Promise<S>,
): (...args: A) => Promise<S> {
  let servers: S[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  return async (...args) => {
    const s = await make(...args);
    servers.push(s);
    return s;
  };
}

export const loopbackServers = () => closedAfterEach(loopback);
export const faultServers = () => closedAfterEach((options: FaultServerOptions = {}) => faultServer(options));
