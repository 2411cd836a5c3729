import { defineConfig } from "vitest/config";

// Suites that need a Docker engine, QEMU or minutes of wall time: `npm run test:heavy`.
export default defineConfig({
  test: {
    include: ["test/**/*.heavy.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    // The default reporter only counts skips; this one lists each skipped test with its reason.
    reporters: ["default", "./test/support/skip-reporter.ts"],
    pool: "forks",
    maxWorkers: 1,
  },
});
