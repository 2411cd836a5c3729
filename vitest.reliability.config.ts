import { defineConfig } from "vitest/config";

// Attacks, fuzzing, faults and load against the tunnel and the simulators: `npm run test:reliability`.
// Every test records its figure with recordRow (test/reliability/table.ts); one table is printed at the end.
export default defineConfig({
  test: {
    include: ["test/**/*.reliability.test.ts"],
    globalSetup: ["test/reliability/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
