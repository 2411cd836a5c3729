import { defineConfig } from "vitest/config";

// The nightly pipeline end to end on the GitLab simulator (minutes of wall time): `npm run test:nightly`.
export default defineConfig({
  test: {
    include: ["test/**/*.nightly.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    // The default reporter only counts skips; this one lists each skipped test with its reason.
    reporters: ["default", "./test/support/skip-reporter.ts"],
    pool: "forks",
    maxWorkers: 1,
  },
});
