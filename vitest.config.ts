import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [
      "test/**/*.heavy.test.ts",
      "test/**/*.reliability.test.ts",
      "test/**/*.conformance.test.ts",
      "test/**/*.nightly.test.ts",
      "node_modules/**",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The default reporter only counts skips; this one lists each skipped test with its reason.
    reporters: ["default", "./test/support/skip-reporter.ts"],
    pool: "forks",
    maxWorkers: 2,
  },
});
