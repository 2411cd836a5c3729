import { engineAnswers } from "../../src/containers/index.ts";

/**
 * Whether docker-tier tests can run. Outside CI a machine without a Docker engine skips them; under
 * CI=true a missing engine fails the run, since CI installs and starts one (scripts/setup-docker.sh).
 */
export async function dockerAvailable(): Promise<boolean> {
  if (await engineAnswers()) return true;
  if (process.env.CI) {
    throw new Error("CI=true but no Docker engine answers: .ci/run must call scripts/setup-docker.sh first");
  }
  return false;
}
