import { defineConfig } from "vitest/config";

/** The test setup every package shares. Tests never touch the network: servers bind 127.0.0.1. */
export function packageTests(overrides: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    test: {
      include: overrides.include ?? ["test/**/*.test.ts"],
      environment: "node",
      testTimeout: overrides.testTimeout ?? 30_000,
      hookTimeout: 60_000,
      pool: "forks",
      reporters: process.env.CI ? ["default"] : ["default"],
    },
  });
}
