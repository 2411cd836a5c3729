// `wsparity sim up`: starts the simulators and servers of the sim tier, writes DIR/env and DIR/kubeconfig, and runs
// until interrupted. Each service is one entry of SIM_SERVICES (start() returns its env lines and a stop()).
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { kubernetesProxyService } from "../kubernetes/proxy-service.ts";
import { runnerTags } from "../runner/index.ts";
import { type TierSettings, writeTierSettings } from "../tier/settings.ts";
import { type StartedTunnelServer, TunnelServerBuilder } from "../tunnel/index.ts";
import { UsageError } from "../util/errors.ts";
import { untilStopSignal } from "../util/stop-signal.ts";
import { registerSimGitlabCommand } from "./gitlab/cli.ts";
import { gitlabService } from "./gitlab/service.ts";
import { kubernetesService } from "./kubernetes/service.ts";
import { workspacesService } from "./workspaces-service.ts";

export interface SimContext {
  stateDir: string;
  /** Which kubelet backend runs pods: local processes (sim tier) or Docker containers (docker tier). */
  kubelet: "process" | "docker";
  /** Env lines of the services started so far. */
  env: Record<string, string>;
  /** What an earlier service's start() returned as its handle. */
  handle<T>(service: string): T;
}

export interface StartedService<H = unknown> {
  handle?: H;
  /** KEY=value lines for DIR/env. */
  env: Record<string, string>;
  /** Lines telling the user how to use the service. */
  usage: string[];
  stop(): Promise<void>;
}

export interface SimService<H = unknown> {
  name: string;
  start(ctx: SimContext): Promise<StartedService<H>>;
}

const tunnelService: SimService<StartedTunnelServer> = {
  name: "tunnel",
  async start() {
    const adminToken = randomBytes(24).toString("base64url");
    const server = await new TunnelServerBuilder()
      .withUserListener({ port: 0, host: "127.0.0.1" })
      .withAgentListener({ port: 0, host: "127.0.0.1" })
      .withAdminToken(adminToken)
      .start();
    const token = randomBytes(16).toString("hex");
    return {
      handle: server,
      env: {
        TUNNEL_URL: server.userUrl,
        TUNNEL_DOMAIN: server.domain,
        ...(server.agentUrl ? { TUNNEL_AGENT_URL: server.agentUrl } : {}),
        TUNNEL_ADMIN_TOKEN: adminToken,
        WORKSPACE_TOKEN: token,
      },
      usage: [`Tunnel server: users at ${server.userUrl} (domain ${server.domain})`],
      stop: () => server.stop(),
    };
  },
};

/** In start order; stopped in reverse. Other simulators add one entry each. */
export const SIM_SERVICES: SimService[] = [
  kubernetesService,
  tunnelService,
  kubernetesProxyService,
  gitlabService,
  workspacesService,
];

export interface RunningSim {
  env: Record<string, string>;
  usage: string[];
  stop(): Promise<void>;
}

/** Starts every service; if one fails, stops those already started and rethrows. */
export async function simUp(
  stateDir: string,
  kubelet: SimContext["kubelet"] = "process",
  services: SimService[] = SIM_SERVICES,
): Promise<RunningSim> {
  mkdirSync(stateDir, { recursive: true });
  const started: { name: string; service: StartedService }[] = [];
  const env: Record<string, string> = {};
  const stopAll = async () => {
    for (const s of started.reverse()) await s.service.stop().catch(() => {});
    started.length = 0;
  };
  const ctx: SimContext = {
    stateDir,
    kubelet,
    env,
    handle<T>(name: string): T {
      const s = started.find((x) => x.name === name);
      if (!s) throw new Error(`service ${name} must start before this one`);
      return s.service.handle as T;
    },
  };
  try {
    for (const svc of services) {
      const service = await svc.start(ctx);
      started.push({ name: svc.name, service });
      Object.assign(env, service.env);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  if (env.KUBECONFIG)
    writeFileSync(join(stateDir, "kubeconfig"), readFileSync(env.KUBECONFIG, "utf8"), { mode: 0o600 });
  const tierFile = join(stateDir, "tier.yaml");
  const tier = tierSettingsFrom(env, kubelet);
  if (tier) writeTierSettings(tierFile, tier);
  const envFile = join(stateDir, "env");
  const lines = Object.entries({
    ...env,
    ...(env.KUBECONFIG ? { KUBECONFIG: join(stateDir, "kubeconfig") } : {}),
  });
  writeFileSync(envFile, lines.map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
  return {
    env: Object.fromEntries(lines),
    usage: started.flatMap((s) => s.service.usage),
    async stop() {
      await stopAll();
      rmSync(envFile, { force: true });
      rmSync(tierFile, { force: true });
    },
  };
}

/**
 * The tier settings of what started (DIR/tier.yaml), when GitLab, its agent and the tunnel are all up: the
 * runners running in this process (the others are registered; `wsparity runner run` serves them).
 */
function tierSettingsFrom(
  env: Record<string, string>,
  kubelet: SimContext["kubelet"],
): TierSettings | undefined {
  const {
    GITLAB_URL,
    GITLAB_TOKEN,
    GITLAB_AGENT_ID,
    WORKSPACES_DNS_ZONE,
    WORKSPACES_PROXY_URL,
    TUNNEL_DOMAIN,
    TUNNEL_URL,
    TUNNEL_ADMIN_TOKEN,
    TUNNEL_AGENT_URL,
  } = env;
  if (!GITLAB_URL || !GITLAB_TOKEN || !GITLAB_AGENT_ID || !WORKSPACES_DNS_ZONE || !WORKSPACES_PROXY_URL)
    return undefined;
  if (!TUNNEL_DOMAIN || !TUNNEL_URL || !TUNNEL_ADMIN_TOKEN || !TUNNEL_AGENT_URL) return undefined;
  const runners = (env.RUNNERS_RUNNING ?? "").split(",").flatMap((running) => {
    const match = /^(shell|docker|kubernetes)-(amd64|arm64)$/.exec(running);
    if (!match) return [];
    const cell = {
      executor: match[1] as "shell" | "docker" | "kubernetes",
      arch: match[2] as "amd64" | "arm64",
    };
    return [{ ...cell, tags: runnerTags(cell) }];
  });
  return {
    tier: kubelet === "docker" ? "docker" : "sim",
    gitlab: { url: GITLAB_URL, token: GITLAB_TOKEN, group: "root", project: "root/workspaces" },
    kubernetes: {
      agents: [
        {
          arch: process.arch === "arm64" ? "arm64" : "amd64",
          clusterAgentId: GITLAB_AGENT_ID,
          dnsZone: WORKSPACES_DNS_ZONE,
          resolveTo: new URL(WORKSPACES_PROXY_URL).host,
        },
      ],
    },
    ci: {
      tunnelDomain: TUNNEL_DOMAIN,
      resolveTo: new URL(TUNNEL_URL).host,
      tunnel: { url: TUNNEL_URL, adminToken: TUNNEL_ADMIN_TOKEN, agentUrl: TUNNEL_AGENT_URL },
      runners,
    },
  };
}

export function registerSimCommands(program: Command): void {
  const sim =
    program.commands.find((c) => c.name() === "sim") ??
    program.command("sim").description("Run the sim tier's simulators and servers locally.");
  registerSimGitlabCommand(sim);
  sim
    .command("up")
    .description(
      "Start the Kubernetes simulator, the tunnel server and the workspace proxy (and the other simulators as they exist); write DIR/kubeconfig and DIR/env; run until interrupted, then stop everything started.",
    )
    .option("--state-dir <dir>", "where kubeconfig, env, pods and volumes go", ".state/sim")
    .option(
      "--kubelet <backend>",
      "run pods as local processes (process, the sim tier) or Docker containers (docker)",
      "process",
    )
    .action(async (opts: { stateDir: string; kubelet: string }) => {
      const stateDir = resolve(opts.stateDir);
      if (opts.kubelet !== "process" && opts.kubelet !== "docker") {
        throw new UsageError(`--kubelet must be process or docker, got "${opts.kubelet}"`);
      }
      let running: RunningSim;
      try {
        running = await simUp(stateDir, opts.kubelet);
      } catch (err) {
        throw new UsageError(`sim up failed: ${(err as Error).message}`);
      }
      process.stdout.write(`${running.usage.join("\n")}\n\n`);
      process.stdout.write(
        `Environment in ${join(stateDir, "env")}:  set -a; . ${join(stateDir, "env")}; set +a\n`,
      );
      process.stdout.write("Running; press Ctrl-C to stop.\n");
      await untilStopSignal("everything sim up started");
      process.stdout.write("Stopping…\n");
      await running.stop();
      process.stdout.write("Stopped; everything sim up started is gone.\n");
    });
}
