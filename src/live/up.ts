// `wsparity live up` after the preflight: compose up with the plan's waits, then the bootstrap through the live
// profile's hooks, writing .state/live/settings.yaml (the tier settings `run --tier live` reads).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TunnelSettings } from "../tier/settings.ts";
import { UsageError } from "../util/errors.ts";
import { selfSignedCert } from "../util/self-signed-cert.ts";
import {
  type Arch,
  type BootstrapResult,
  bootstrap,
  defaultDevfilesDir,
  type Executor,
} from "./bootstrap.ts";
import { STACK_NAMES } from "./bootstrap-steps.ts";
import type { ComposeClient } from "./compose-client.ts";
import type { ComposeUpPlan } from "./compose-plan.ts";
import { LiveProfile } from "./live-profile.ts";
import type { Machine } from "./preflight.ts";
import { profileOptions } from "./profile-hooks.ts";

/** The tunnel service's address on the compose network, where jobs' agents dial it (docker-compose.yml). */
const TUNNEL_IN_COMPOSE = "172.30.57.30";
/** The tunnel server's default domain (docker-compose.yml gives it no --domain). */
const TUNNEL_DOMAIN = "wsparity.localtest";

export interface LiveUpOptions {
  compose: ComposeClient;
  plan: ComposeUpPlan;
  stateDir: string;
  /** The ports docker-compose.yml publishes on 127.0.0.1 (WSPARITY_GITLAB_PORT, WSPARITY_TUNNEL_PORT). */
  ports: { gitlab: number; tunnel: number };
  /** GitLab's API from this machine; http://127.0.0.1:<ports.gitlab> unless a test points elsewhere. */
  gitlabUrl?: string;
  executors: Executor[];
  arches: Arch[];
  agentkDeadlineMs: number;
  log(line: string): void;
  machine?: Pick<Machine, "exists" | "read">;
}

export function settingsFileIn(stateDir: string): string {
  return join(stateDir, "settings.yaml");
}

/** The ports from the environment docker-compose.yml interpolates, with its defaults. */
export function publishedPorts(env: NodeJS.ProcessEnv): LiveUpOptions["ports"] {
  const port = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === "") return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new UsageError(`${name} must be a port number, got "${value}"`);
    return n;
  };
  return {
    gitlab: port("WSPARITY_GITLAB_PORT", 8929),
    tunnel: port("WSPARITY_TUNNEL_PORT", 8080),
  };
}

/**
 * The tunnel's admin token, which the tunnel service reads from the mounted state directory: made before compose
 * up, kept across runs (0600).
 */
export function tunnelAdminToken(stateDir: string): string {
  const file = join(stateDir, "tunnel-admin-token");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(stateDir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Where the workspaces proxy's certificate is (docker-compose.yml mounts the state directory at /state). */
export function workspacesCertFile(stateDir: string): string {
  return join(stateDir, "workspaces-tls", "cert.pem");
}

/**
 * The workspaces proxy's certificate for *.<dns zone>, its own CA: made before compose up, kept across runs. The
 * harness trusts it through NODE_EXTRA_CA_CERTS, as a browser would need the zone's CA.
 */
export async function workspacesCert(stateDir: string): Promise<string> {
  const certFile = workspacesCertFile(stateDir);
  if (existsSync(certFile)) return certFile;
  mkdirSync(dirname(certFile), { recursive: true, mode: 0o700 });
  const { cert, key } = await selfSignedCert({
    what: "the workspaces proxy's certificate",
    subject: "wsparity workspaces proxy",
    names: [STACK_NAMES.dnsZone, `*.${STACK_NAMES.dnsZone}`],
    days: 365,
  });
  // The proxy runs as root in its container and reads the key through the read-only mount.
  writeFileSync(join(dirname(certFile), "key.pem"), key, { mode: 0o600 });
  writeFileSync(certFile, cert, { mode: 0o644 });
  return certFile;
}

export async function liveUp(opts: LiveUpOptions): Promise<BootstrapResult> {
  const { log, ports } = opts;
  const adminToken = tunnelAdminToken(opts.stateDir);
  const certFile = await workspacesCert(opts.stateDir);
  const started = Date.now();
  log(`live up with ${opts.compose.describe}`);
  await opts.compose.up(opts.plan, (line) => log(`  ${line}`));
  log(`every service is up after ${Math.round((Date.now() - started) / 1000)} s; bootstrapping`);

  const gitlabUrl = opts.gitlabUrl ?? `http://127.0.0.1:${ports.gitlab}`;
  const tunnelHost = `127.0.0.1:${ports.tunnel}`;
  const tunnel: TunnelSettings = {
    url: `http://${tunnelHost}`,
    adminToken,
    agentUrl: `tcp://${TUNNEL_IN_COMPOSE}:8091`,
  };
  const profile = new LiveProfile({
    compose: opts.compose,
    plan: opts.plan,
    stateDir: opts.stateDir,
    gitlabUrl,
    agentName: STACK_NAMES.agentName,
    arches: opts.arches,
    log,
    ...(opts.machine ? { machine: opts.machine } : {}),
  });
  const result = await bootstrap({
    ...profileOptions(profile),
    gitlabUrl,
    settingsFile: settingsFileIn(opts.stateDir),
    ...STACK_NAMES,
    tunnelDomain: TUNNEL_DOMAIN,
    tunnel,
    // Tunnel host names resolve to the published user listener, workspace host names to the workspaces proxy's
    // (https on 443, the port GitLab's workspace URLs carry).
    resolveTo: { tunnel: tunnelHost, workspaces: "127.0.0.1:443" },
    executors: opts.executors,
    arches: opts.arches,
    devfilesDir: defaultDevfilesDir(),
    agentkDeadlineMs: opts.agentkDeadlineMs,
    log,
  });
  log(`bootstrapped after ${Math.round((Date.now() - started) / 1000)} s in all`);
  log(`the workspaces proxy's certificate: ${certFile} (the harness trusts it with NODE_EXTRA_CA_CERTS)`);
  return result;
}
