import { execFileSync } from "node:child_process";
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

/**
 * The host's address on Docker's default bridge: where containers reach services on the host (the
 * simulators, the tunnel server). Containers can also name it `host.docker.internal` with
 * WorkspaceContainer.withExtraHost("host.docker.internal", "host-gateway").
 */
export async function hostAddressForContainers(): Promise<string> {
  const bridge = await dockerEngine().getNetwork("bridge").inspect();
  const configs = (bridge.IPAM?.Config ?? []) as { Gateway?: string }[];
  const configured = configs.find((config) => config.Gateway)?.Gateway;
  if (configured) return configured;
  const options = (bridge.Options ?? {}) as Record<string, string>;
  const device = options["com.docker.network.bridge.name"] ?? "docker0";
  // Not os.networkInterfaces(): it leaves out a bridge that is down, as docker0 is while no container runs.
  const listing = execFileSync("ip", ["-4", "-o", "addr", "show", "dev", device], { encoding: "utf8" });
  const address = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(listing)?.[1];
  if (!address) throw new Error(`cannot find the host's address on Docker's bridge ${device}`);
  return address;
}
