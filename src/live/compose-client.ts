// One interface over the two Compose implementations a machine may have: the v2 plugin, driven through
// testcontainers' DockerComposeEnvironment (the design's package), and Debian's docker-compose 1.29, which
// testcontainers cannot drive (it parses v2 container names), run as a command with the plan's waits done here.
import { spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { type ComposeUpPlan, describeWait, type ServiceWait } from "./compose-plan.ts";

/** The longest a one-shot or a command in a container may take (gitlab-rails runner boots Rails: about a minute). */
const COMMAND_DEADLINE_MS = 10 * 60_000;

export type ComposeImplementation = "compose-v2" | "docker-compose-v1";

export interface ComposeServiceState {
  service: string;
  state: string;
  health?: string;
}

export interface ComposeClient {
  readonly implementation: ComposeImplementation;
  /** What it is, for the user: "docker compose 2.x (through testcontainers)". */
  readonly describe: string;
  up(plan: ComposeUpPlan, onProgress: (line: string) => void): Promise<void>;
  run(plan: ComposeUpPlan, service: string, profile: string): Promise<{ status: number; output: string }>;
  /** Runs `argv` in the running container of `service` (compose exec, no TTY). */
  exec(
    plan: Pick<ComposeUpPlan, "file" | "projectName" | "env">,
    service: string,
    argv: string[],
  ): Promise<{ status: number; stdout: string; stderr: string }>;
  /** Starts services of another profile next to the plan's (without waits); recreate restarts them. */
  start(plan: ComposeUpPlan, profile: string, services: string[], opts: { recreate: boolean }): Promise<void>;
  ps(plan: Pick<ComposeUpPlan, "file" | "projectName">): Promise<ComposeServiceState[]>;
  down(
    plan: Pick<ComposeUpPlan, "file" | "projectName" | "profiles">,
    opts: { volumes: boolean },
  ): Promise<void>;
}

type Exec = (
  cmd: string,
  args: string[],
  opts?: { env?: Record<string, string>; cwd?: string; timeoutMs?: number },
) => {
  status: number;
  stdout: string;
  stderr: string;
};

export const exec: Exec = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs, killSignal: "SIGKILL" as const } : {}),
  });
  const timedOut = (r.error as { code?: string } | undefined)?.code === "ETIMEDOUT";
  return {
    // 124, as coreutils' timeout exits; 127 when the command could not be started.
    status: timedOut ? 124 : (r.status ?? (r.error ? 127 : 1)),
    stdout: r.stdout ?? "",
    stderr: timedOut
      ? `${cmd} ${args.join(" ")} did not finish within ${(opts.timeoutMs ?? 0) / 1000} s and was killed\n${r.stderr ?? ""}`
      : (r.stderr ?? r.error?.message ?? ""),
  };
};

/** Which Compose this machine has: the v2 plugin first, then docker-compose v1; undefined when neither runs. */
export function detectCompose(
  run: Exec = exec,
): { implementation: ComposeImplementation; version: string } | undefined {
  const v2 = run("docker", ["compose", "version", "--short"]);
  if (v2.status === 0) return { implementation: "compose-v2", version: v2.stdout.trim() };
  const v1 = run("docker-compose", ["version", "--short"]);
  if (v1.status === 0) return { implementation: "docker-compose-v1", version: v1.stdout.trim() };
  return undefined;
}

export async function composeClient(run: Exec = exec): Promise<ComposeClient> {
  const found = detectCompose(run);
  if (!found)
    throw new Error(
      "no Docker Compose on this machine: install the compose v2 plugin, or Debian's docker-compose (apt-get install docker-compose; npm run setup:docker does it)",
    );
  if (found.implementation === "compose-v2") {
    const { TestcontainersCompose } = await import("./compose-v2.ts");
    return new TestcontainersCompose(found.version, run);
  }
  return new DockerComposeV1(found.version, run);
}

function baseArgs(plan: Pick<ComposeUpPlan, "file" | "projectName">): string[] {
  return ["-p", plan.projectName, "-f", plan.file];
}

export function profileArgs(profiles: string[]): string[] {
  return profiles.flatMap((p) => ["--profile", p]);
}

/** Reads each service's container state through `docker inspect`, which both Compose versions label alike. */
export function psByLabel(run: Exec, projectName: string): ComposeServiceState[] {
  const ids = run("docker", ["ps", "-aq", "--filter", `label=com.docker.compose.project=${projectName}`]);
  const list = ids.stdout.split("\n").filter(Boolean);
  if (list.length === 0) return [];
  const inspected = run("docker", [
    "inspect",
    "--format",
    '{{index .Config.Labels "com.docker.compose.service"}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}',
    ...list,
  ]);
  return inspected.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [service = "", state = "", health] = line.split("|");
      return { service, state, ...(health ? { health } : {}) };
    });
}

/** What both Compose versions do the same way, given the command that runs Compose. */
export abstract class ComposeCommand implements ComposeClient {
  abstract readonly implementation: ComposeImplementation;
  abstract readonly describe: string;
  /** ["docker-compose"] or ["docker", "compose"]. */
  protected abstract readonly command: [string, ...string[]];

  constructor(protected readonly sh: Exec) {}

  abstract up(plan: ComposeUpPlan, onProgress: (line: string) => void): Promise<void>;

  protected compose(
    plan: Pick<ComposeUpPlan, "file" | "projectName"> & { env?: Record<string, string> },
    args: string[],
    timeoutMs?: number,
  ) {
    const [cmd, ...sub] = this.command;
    return this.sh(cmd, [...sub, ...baseArgs(plan), ...args], {
      env: plan.env,
      cwd: dirname(plan.file),
      ...(timeoutMs ? { timeoutMs } : {}),
    });
  }

  async run(
    plan: ComposeUpPlan,
    service: string,
    profile: string,
  ): Promise<{ status: number; output: string }> {
    const r = this.compose(plan, [...profileArgs([profile]), "run", "--rm", service], COMMAND_DEADLINE_MS);
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  async exec(
    plan: Pick<ComposeUpPlan, "file" | "projectName" | "env">,
    service: string,
    argv: string[],
  ): Promise<{ status: number; stdout: string; stderr: string }> {
    return this.compose(plan, ["exec", "-T", service, ...argv], COMMAND_DEADLINE_MS);
  }

  async start(
    plan: ComposeUpPlan,
    profile: string,
    services: string[],
    opts: { recreate: boolean },
  ): Promise<void> {
    const args = [...profileArgs([...plan.profiles, profile]), "up", "-d", "--no-deps"];
    const r = this.compose(plan, [...args, ...(opts.recreate ? ["--force-recreate"] : []), ...services]);
    if (r.status !== 0)
      throw new Error(
        `${this.command.join(" ")} up ${services.join(" ")} failed (exit ${r.status}):\n${r.stderr.trim()}`,
      );
  }

  async ps(plan: Pick<ComposeUpPlan, "file" | "projectName">): Promise<ComposeServiceState[]> {
    return psByLabel(this.sh, plan.projectName);
  }

  async down(
    plan: Pick<ComposeUpPlan, "file" | "projectName" | "profiles">,
    opts: { volumes: boolean },
  ): Promise<void> {
    const args = [...profileArgs(plan.profiles), "down", "--remove-orphans", ...(opts.volumes ? ["-v"] : [])];
    const r = this.compose(plan, args);
    if (r.status !== 0)
      throw new Error(`${this.command.join(" ")} down failed (exit ${r.status}):\n${r.stderr.trim()}`);
  }
}

class DockerComposeV1 extends ComposeCommand {
  readonly implementation = "docker-compose-v1" as const;
  readonly describe: string;

  protected readonly command: [string, ...string[]] = ["docker-compose"];

  constructor(version: string, sh: Exec) {
    super(sh);
    this.describe = `docker-compose ${version} (v1; testcontainers needs v2, so its waits run here)`;
  }

  async up(plan: ComposeUpPlan, onProgress: (line: string) => void): Promise<void> {
    const r = this.compose(plan, [...profileArgs(plan.profiles), "up", "-d", ...plan.services]);
    if (r.status !== 0) throw new Error(`docker-compose up failed (exit ${r.status}):\n${r.stderr.trim()}`);
    await Promise.all(plan.waits.map((w) => this.waitFor(plan, w, onProgress)));
  }

  private async waitFor(
    plan: ComposeUpPlan,
    wait: ServiceWait,
    onProgress: (line: string) => void,
  ): Promise<void> {
    const deadline = Date.now() + wait.timeoutMs;
    const started = Date.now();
    let last = "";
    for (;;) {
      const state = psByLabel(this.sh, plan.projectName).find((s) => s.service === wait.service);
      if (state?.state === "exited" || state?.health === "unhealthy")
        throw new Error(
          `${wait.service} ${state.health ?? state.state} while waiting for: ${describeWait(wait)}`,
        );
      if (state && (await this.satisfied(plan, wait, state))) {
        onProgress(`${wait.service} ready after ${Math.round((Date.now() - started) / 1000)} s`);
        return;
      }
      const now = state ? `${state.state}${state.health ? `/${state.health}` : ""}` : "not created";
      if (now !== last) onProgress(`${wait.service}: ${now}`);
      last = now;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${describeWait(wait)} (last state: ${now})`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  private async satisfied(
    plan: ComposeUpPlan,
    wait: ServiceWait,
    state: ComposeServiceState,
  ): Promise<boolean> {
    if (wait.kind === "running") return state.state === "running";
    if (wait.kind === "healthy") return state.health === "healthy";
    const port = this.compose(plan, ["port", wait.service, String(wait.containerPort)]).stdout.trim();
    if (!port) return false;
    try {
      const res = await fetch(`http://${port}${wait.path}`, { signal: AbortSignal.timeout(5000) });
      return res.status === 200;
    } catch {
      return false;
    }
  }
}
