import { cleanupByLabel, engineAnswers, installCleanupHandlers } from "../../src/containers/index.ts";

/**
 * Whether docker-tier tests can run, and makes ready for them: removes what earlier runs that were killed
 * left behind, and makes this test process remove what it creates if it exits or is interrupted.
 * Outside CI a machine without a Docker engine skips them; under CI=true a missing engine fails the run,
 * since CI installs and starts one (scripts/setup-docker.sh).
 */
export const NO_DOCKER_ENGINE = "no Docker engine answers: npm run setup:docker";

export async function dockerForTests(): Promise<boolean> {
  if (!(await engineAnswers())) {
    if (process.env.CI) {
      throw new Error(
        "CI=true but no Docker engine answers: .ci/run must call scripts/setup-docker.sh first",
      );
    }
    return false;
  }
  installCleanupHandlers();
  await cleanupByLabel("stale");
  return true;
}
