// The `local` profile's hooks: the sim tier's components (GitLab simulator, Kubernetes simulator with the process
// kubelet, wsparity agentk, the workspaces proxy, the tunnel and a shell runner) as separate containers of
// docker-compose.yml, sharing nothing but the compose network and the state folder. The GitLab simulator writes
// root's token into that folder when it starts; agentk and the runner (profile local-agents) start once GitLab has
// given their tokens.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { ComposeClient } from "./compose-client.ts";
import { readComposeFile } from "./compose-file.ts";
import { type ComposeUpPlan, composeUpPlan } from "./compose-plan.ts";
import type { ProfileHooks, RunnersByExecutor, StopAgentk } from "./profile-hooks.ts";

export const LOCAL_PROJECT = "wsparity-local";
export const LOCAL_AGENTS_PROFILE = "local-agents";
/** What the compose file's local services read from the state folder (mounted at /state). */
const FILES = {
  rootToken: "root-token",
  tunnelAdminToken: "tunnel-admin-token",
  kubeconfig: "kubeconfig",
  settings: "settings.yaml",
  runnerConfig: "runner-shell.toml",
  agentkStartedWith: "agentk-started-with",
} as const;
/** Where the containers reach each other (service names on the compose network). */
const INSIDE = { gitlab: "http://gitlab-sim:8929", tunnelAgent: "tcp://tunnel-local:8091" } as const;

export interface LocalPorts {
  gitlab: number;
  proxy: number;
  tunnel: number;
}

export const DEFAULT_LOCAL_PORTS: LocalPorts = { gitlab: 18929, proxy: 18060, tunnel: 18080 };

/** The host ports from the variables the compose file reads (WSPARITY_LOCAL_<ROLE>_PORT), else the defaults. */
export function localPortsFrom(env: NodeJS.ProcessEnv): LocalPorts {
  const port = (role: keyof LocalPorts) => {
    const name = `WSPARITY_LOCAL_${role.toUpperCase()}_PORT`;
    const value = env[name];
    if (value === undefined) return DEFAULT_LOCAL_PORTS[role];
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new Error(`${name}=${value} is not a TCP port (1-65535)`);
    return n;
  };
  return { gitlab: port("gitlab"), proxy: port("proxy"), tunnel: port("tunnel") };
}

/** The variables docker-compose.yml's local services interpolate. */
export function localComposeEnv(stateDir: string, ports: LocalPorts): Record<string, string> {
  return {
    WSPARITY_LOCAL_STATE: resolve(stateDir),
    WSPARITY_LOCAL_GITLAB_PORT: String(ports.gitlab),
    WSPARITY_LOCAL_PROXY_PORT: String(ports.proxy),
    WSPARITY_LOCAL_TUNNEL_PORT: String(ports.tunnel),
  };
}

export function localSettingsFile(stateDir: string): string {
  return join(stateDir, FILES.settings);
}

/**
 * Before `compose up`: the state folder with the tunnel's admin token (kept across runs), and without the files a
 * simulator that is not running writes when it starts, so a health check never passes on a previous run's
 * kubeconfig or token. A running simulator keeps its state and files: `live up` again changes nothing.
 */
export function prepareLocalState(stateDir: string, running: string[]): { tunnelAdminToken: string } {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const writtenBy = { [FILES.rootToken]: "gitlab-sim", [FILES.kubeconfig]: "kubernetes-sim" };
  for (const [file, service] of Object.entries(writtenBy))
    if (!running.includes(service)) rmSync(join(stateDir, file), { force: true });
  const tokenFile = join(stateDir, FILES.tunnelAdminToken);
  if (!existsSync(tokenFile))
    writeFileSync(tokenFile, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600 });
  return { tunnelAdminToken: readFileSync(tokenFile, "utf8").trim() };
}

/** The bootstrap's view of the local stack from the host: its published ports, and the tunnel as jobs dial it. */
export function localEndpoints(ports: LocalPorts, tunnelAdminToken: string) {
  return {
    gitlabUrl: `http://127.0.0.1:${ports.gitlab}`,
    resolveTo: { workspaces: `127.0.0.1:${ports.proxy}`, tunnel: `127.0.0.1:${ports.tunnel}` },
    tunnel: {
      url: `http://127.0.0.1:${ports.tunnel}`,
      adminToken: tunnelAdminToken,
      agentUrl: INSIDE.tunnelAgent,
    },
  };
}

/** The shell runner's config.toml: the runner container reaches GitLab by its service name. */
export function localRunnerConfig(token: string): string {
  return [
    "concurrent = 2",
    "check_interval = 0",
    "",
    "[[runners]]",
    '  name = "wsparity-shell-local"',
    `  url = "${INSIDE.gitlab}"`,
    `  token = "${token}"`,
    '  executor = "shell"',
    '  shell = "bash"',
    '  builds_dir = "/tmp/wsparity-runner/builds"',
    '  cache_dir = "/tmp/wsparity-runner/cache"',
    '  environment = ["WSPARITY_TOOLS_DIR=/tmp/wsparity-runner/tools"]',
    "",
  ].join("\n");
}

export function localPlan(stateDir: string, ports: LocalPorts): ComposeUpPlan {
  return {
    ...composeUpPlan(readComposeFile(), "local", localComposeEnv(stateDir, ports)),
    projectName: LOCAL_PROJECT,
  };
}

/** The plan `live down --profile local` removes: every local service, agents included. */
export function localDownPlan(stateDir: string, ports: LocalPorts): ComposeUpPlan {
  const plan = localPlan(stateDir, ports);
  return { ...plan, profiles: [...plan.profiles, LOCAL_AGENTS_PROFILE] };
}

export class LocalProfile implements ProfileHooks {
  constructor(
    private readonly compose: ComposeClient,
    private readonly plan: ComposeUpPlan,
    private readonly stateDir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Root's token, which the GitLab simulator wrote when it started (it is healthy by now). */
  async adminToken(): Promise<string> {
    const file = join(this.stateDir, FILES.rootToken);
    if (!existsSync(file))
      throw new Error(
        `${file} is missing although gitlab-sim is up: see docker logs ${LOCAL_PROJECT}_gitlab-sim_1`,
      );
    return readFileSync(file, "utf8").trim();
  }

  async agentk(tokenFile: string): Promise<StopAgentk | undefined> {
    // The agentk service reads the token at /state/settings.agent-token: the bootstrap must write it there.
    if (resolve(dirname(tokenFile)) !== resolve(this.stateDir))
      throw new Error(`the agent token ${tokenFile} must be in the state folder ${this.stateDir}`);
    // agentk reads its token once: a new token (a GitLab simulator that started afresh) needs a new agentk.
    const startedWith = join(this.stateDir, FILES.agentkStartedWith);
    const token = readFileSync(tokenFile, "utf8");
    const changed = !existsSync(startedWith) || readFileSync(startedWith, "utf8") !== token;
    this.log(`  starting agentk (compose service agentk, token /state/${basename(tokenFile)})`);
    await this.compose.start(this.plan, LOCAL_AGENTS_PROFILE, ["agentk"], { recreate: changed });
    writeFileSync(startedWith, token, { mode: 0o600 });
    return undefined;
  }

  async runnersReady(runners: RunnersByExecutor): Promise<void> {
    const shell = runners.shell;
    if (!shell) return;
    const file = join(this.stateDir, FILES.runnerConfig);
    const text = localRunnerConfig(shell.token);
    const changed = !existsSync(file) || readFileSync(file, "utf8") !== text;
    if (changed) writeFileSync(file, text, { mode: 0o600 });
    this.log(`  starting the shell runner (compose service runner-shell-local, runner ${shell.id})`);
    // A new token needs a new process: compose does not restart a container whose definition is unchanged.
    await this.compose.start(this.plan, LOCAL_AGENTS_PROFILE, ["runner-shell-local"], { recreate: changed });
  }
}
