import { defineConfig } from "vitest/config";

// The GitLab simulator's conformance suite (npm run test:conformance:gitlab): its own run, since it
// drives python-gitlab and gitlab-ci-local for a few minutes.
export default defineConfig({
  test: {
    include: ["test/conformance/**/*.conformance.ts"],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/support/skip-reporter.ts"],
    pool: "forks",
    maxWorkers: 1,
  },
});
