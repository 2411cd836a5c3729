import { defineConfig } from "vitest/config";

// kubectl and client-node against the Kubernetes simulator, counted operation by operation:
// `npm run test:conformance:kubernetes` prints "passing / tried".
export default defineConfig({
  test: {
    include: ["test/conformance/kubernetes.conformance.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 1,
  },
});
