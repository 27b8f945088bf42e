import { afterEach } from "vitest";
import { loopback } from "../src/testing/index";

/** A fake key shaped like a real one, so redaction by pattern and by value are both exercised. */
export const KEY = "sk-test-0123456789abcdefghij";

/** `start(handlers)` runs a loopback server that is closed after each test of the calling file. */
export function loopbackServers(): (...args: Parameters<typeof loopback>) => ReturnType<typeof loopback> {
  let servers: { close: () => Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  return async (...args) => {
    const s = await loopback(...args);
    servers.push(s);
    return s;
  };
}
