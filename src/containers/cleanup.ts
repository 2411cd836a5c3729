import { spawnSync } from "node:child_process";
import { processIsAlive } from "../util/process-alive.ts";
import { dockerEngine, isNotFound } from "./engine.ts";
import { MANAGED_LABEL, OWNER_PID_LABEL, ownLabelFilters } from "./labels.ts";

export type CleanupScope =
  /** What this process made (on exit, Ctrl-C, and at the end of a test file). */
  | "own"
  /** What processes that are gone made: at the start of a run, without touching a run still going on. */
  | "stale"
  /** Everything with the project's label, whoever made it. */
  | "all";

export interface CleanupResult {
  containers: number;
  networks: number;
  volumes: number;
}

function inScope(scope: CleanupScope, labels: Record<string, string> | null | undefined): boolean {
  if (scope === "all") return true;
  const owner = Number(labels?.[OWNER_PID_LABEL]);
  if (scope === "own") return owner === process.pid;
  return owner !== process.pid && !processIsAlive(owner);
}

async function ignoreGone(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Removes containers (with their anonymous volumes), then networks and volumes, that carry the project's label. */
export async function cleanupByLabel(scope: CleanupScope = "own"): Promise<CleanupResult> {
  const engine = dockerEngine();
  const filters = { label: scope === "own" ? ownLabelFilters() : [`${MANAGED_LABEL}=true`] };
  const result: CleanupResult = { containers: 0, networks: 0, volumes: 0 };

  const containers = (await engine.listContainers({ all: true, filters })).filter((c) =>
    inScope(scope, c.Labels),
  );
  await Promise.all(
    containers.map(async (c) => {
      await ignoreGone(engine.getContainer(c.Id).remove({ force: true, v: true }));
      result.containers++;
    }),
  );
  const networks = (await engine.listNetworks({ filters })).filter((n) => inScope(scope, n.Labels));
  for (const network of networks) {
    await ignoreGone(engine.getNetwork(network.Id).remove());
    result.networks++;
  }
  const volumes = ((await engine.listVolumes({ filters })).Volumes ?? []).filter((v) =>
    inScope(scope, v.Labels),
  );
  for (const volume of volumes) {
    await ignoreGone(engine.getVolume(volume.Name).remove({ force: true }));
    result.volumes++;
  }
  return result;
}

let createdAnything = false;

/** The container layer calls this before creating anything, so the exit hook only runs when there is work. */
export function noteCreated(): void {
  createdAnything = true;
}

/**
 * At 'exit' only synchronous work runs, so this uses the docker CLI (installed with the engine by
 * scripts/setup-docker.sh) to remove what this process made.
 */
function cleanupOwnSync(): void {
  if (!createdAnything) return;
  const labelArgs = ownLabelFilters().flatMap((label) => ["--filter", `label=${label}`]);
  const list = (args: string[]) =>
    spawnSync("docker", [...args, ...labelArgs], { encoding: "utf8" })
      .stdout?.split("\n")
      .filter(Boolean) ?? [];
  const containers = list(["ps", "-aq"]);
  if (containers.length > 0) spawnSync("docker", ["rm", "-f", "-v", ...containers]);
  const networks = list(["network", "ls", "-q"]);
  if (networks.length > 0) spawnSync("docker", ["network", "rm", ...networks]);
  const volumes = list(["volume", "ls", "-q"]);
  if (volumes.length > 0) spawnSync("docker", ["volume", "rm", "-f", ...volumes]);
}

let handlersInstalled = false;

/**
 * Makes this process remove what it created when it exits, and on Ctrl-C (SIGINT) or SIGTERM, which then
 * end the process with the usual 130 / 143. Call once, early, in any entry point that creates containers.
 */
export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once("exit", cleanupOwnSync);
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    process.stderr.write(`wsparity: ${signal}: removing this run's containers, networks and volumes\n`);
    cleanupByLabel("own")
      .catch((err: unknown) =>
        process.stderr.write(`wsparity: cleanup after ${signal} failed: ${String(err)}\n`),
      )
      .finally(() => process.exit(code));
  };
  process.once("SIGINT", () => onSignal("SIGINT", 130));
  process.once("SIGTERM", () => onSignal("SIGTERM", 143));
}
