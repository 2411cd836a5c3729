import Docker from "dockerode";

/** How long the docker tier waits for the engine's answer to GET /_ping before calling it stuck. */
export const ENGINE_ANSWER_MS = 10_000;

export type EngineProbe =
  | { state: "answers" }
  /** Nothing listens where DOCKER_HOST (or /var/run/docker.sock) points: the engine is not set up. */
  | { state: "absent"; reason: string }
  /** Something listens but does not answer as an engine: dockerd hung, overloaded or wedged. */
  | { state: "stuck"; reason: string };

/** Where the engine is looked for, as the user would write it. */
export function engineAddress(): string {
  return process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
}

/** Asks the engine at DOCKER_HOST for GET /_ping, giving up after `timeoutMs` (a stuck engine never answers). */
export async function probeEngine(timeoutMs = ENGINE_ANSWER_MS): Promise<EngineProbe> {
  const startedAt = Date.now();
  try {
    await new Docker({ timeout: timeoutMs }).ping();
    return { state: "answers" };
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    if (code === "ENOENT" || code === "ECONNREFUSED")
      return { state: "absent", reason: `no Docker engine listens at ${engineAddress()} (${code})` };
    const waited = Date.now() - startedAt;
    return {
      state: "stuck",
      reason:
        waited >= timeoutMs - 100
          ? `the Docker engine at ${engineAddress()} accepted the connection but did not answer GET /_ping within ${timeoutMs / 1000} s`
          : `the Docker engine at ${engineAddress()} did not answer GET /_ping: ${message}`,
    };
  }
}
