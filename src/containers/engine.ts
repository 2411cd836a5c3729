import Docker from "dockerode";

let client: Docker | undefined;

/** The one Docker engine client of the process (honours DOCKER_HOST, else /var/run/docker.sock). */
export function dockerEngine(): Docker {
  client ??= new Docker();
  return client;
}

/** Whether a Docker engine answers; the docker tier needs one (scripts/setup-docker.sh starts it). */
export async function engineAnswers(): Promise<boolean> {
  try {
    await dockerEngine().ping();
    return true;
  } catch {
    return false;
  }
}

export function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { statusCode?: number }).statusCode === 404;
}
