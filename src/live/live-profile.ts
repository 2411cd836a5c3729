// The live profile's hooks: a real GitLab, gitlab-runner and k3s started by docker-compose.yml's `live` profile.
// The administrator token comes from gitlab-rails runner in the gitlab container, agentk is applied to k3s by the
// agentk-install one-shot, and each runner container is registered with its token. Everything runs through the
// compose client, so a test sees exactly which commands would run.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../util/errors.ts";
import { agentkManifest } from "./agentk-manifest.ts";
import type { Arch } from "./bootstrap.ts";
import type { ComposeClient } from "./compose-client.ts";
import type { ComposeUpPlan } from "./compose-plan.ts";
import { type Machine, thisMachine } from "./preflight.ts";
import type { Executor, ProfileHooks, RunnersByExecutor, StopAgentk } from "./profile-hooks.ts";
import { registerRunner } from "./runner-registration.ts";

/** GitLab as the compose network knows it (external_url in docker-compose.yml) and its fixed address there. */
export const GITLAB_IN_COMPOSE = { url: "http://gitlab:8929", hostname: "gitlab", ip: "172.30.57.10" };
export const KAS_ADDRESS = "ws://gitlab:8929/-/kubernetes-agent/";
const SETUP_PROFILE = "live-setup";
/** docker-compose.yml's profile of the workspaces proxy, which needs the kubeconfig the agentk step makes. */
export const PROXY_PROFILE = "live-proxy";
const BINFMT_ARM64 = "/proc/sys/fs/binfmt_misc/qemu-aarch64";
const TOKEN_NAME = "wsparity-live";
/** runners/live/kubernetes.toml's namespace. */
export const KUBERNETES_RUNNER_NAMESPACE = "wsparity-ci";

export interface LiveProfileOptions {
  compose: ComposeClient;
  plan: ComposeUpPlan;
  /** .state/live: the admin token, the agentk manifest (docker-compose.yml mounts its manifests/). */
  stateDir: string;
  /** GitLab's API as this machine reaches it (the published port). */
  gitlabUrl: string;
  agentName: string;
  arches: Arch[];
  log(line: string): void;
  machine?: Pick<Machine, "exists" | "read">;
}

/**
 * The Ruby GitLab documents for creating a personal access token programmatically
 * (doc/user/profile/personal_access_tokens.md): root's token with the api scope, set to a value chosen here.
 */
export function adminTokenRuby(token: string, name = TOKEN_NAME): string {
  if (!/^[A-Za-z0-9]{20}$/.test(token)) throw new Error("the token must be 20 letters and digits");
  return [
    "user = User.find_by_username('root')",
    `token = user.personal_access_tokens.create(scopes: ['api'], name: '${name}', expires_at: 365.days.from_now)`,
    `token.set_token('${token}')`,
    "token.save!",
    "puts 'wsparity: token saved'",
  ].join("; ");
}

/** 20 letters and digits, the length GitLab's docs ask of a token set with set_token. */
export function newAdminToken(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(20)].map((b) => alphabet[b % alphabet.length]).join("");
}

export class LiveProfile implements ProfileHooks {
  readonly adminTokenFile: string;
  readonly manifestFile: string;
  readonly #o: LiveProfileOptions;

  constructor(options: LiveProfileOptions) {
    this.#o = options;
    this.adminTokenFile = join(options.stateDir, "admin-token");
    this.manifestFile = join(options.stateDir, "manifests", "agentk.yaml");
  }

  async adminToken(): Promise<string> {
    const { compose, plan, log } = this.#o;
    if (existsSync(this.adminTokenFile)) {
      const kept = readFileSync(this.adminTokenFile, "utf8").trim();
      const why = await this.#tokenUnusable(kept);
      if (!why) {
        log(`  admin token: ${this.adminTokenFile} is still accepted (api scope)`);
        return kept;
      }
      log(`  admin token: ${this.adminTokenFile} ${why}; creating a new one`);
    }
    const token = newAdminToken();
    const started = Date.now();
    const r = await compose.exec(plan, "gitlab", ["gitlab-rails", "runner", adminTokenRuby(token)]);
    if (r.status !== 0 || !r.stdout.includes("wsparity: token saved"))
      throw new UsageError(
        `gitlab-rails runner in the gitlab container did not create root's token (exit ${r.status}):\n${(r.stderr || r.stdout).trim()}\nis GitLab up? wsparity live status shows its health`,
      );
    mkdirSync(this.#o.stateDir, { recursive: true });
    writeFileSync(this.adminTokenFile, `${token}\n`, { mode: 0o600 });
    log(
      `  admin token: created root's (api scope) with gitlab-rails runner in ${((Date.now() - started) / 1000).toFixed(1)} s, kept in ${this.adminTokenFile}`,
    );
    return token;
  }

  /** Why a kept token cannot be used (GET /personal_access_tokens/self), or undefined when it can. */
  async #tokenUnusable(token: string): Promise<string | undefined> {
    let res: Response;
    try {
      res = await fetch(`${this.#o.gitlabUrl.replace(/\/+$/, "")}/api/v4/personal_access_tokens/self`, {
        headers: { "private-token": token },
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new UsageError(
        `cannot reach GitLab at ${this.#o.gitlabUrl} to check the kept token (${(err as Error).message})`,
      );
    }
    if (res.status === 401) return "is refused by GitLab (revoked, expired or from an earlier GitLab)";
    if (!res.ok) return `could not be checked (GET /personal_access_tokens/self answered ${res.status})`;
    const self = (await res.json()) as { active?: boolean; revoked?: boolean; scopes?: string[] };
    if (self.revoked || self.active === false) return "is no longer active";
    if (!self.scopes?.includes("api")) return "lacks the api scope";
    return undefined;
  }

  async agentk(tokenFile: string): Promise<StopAgentk | undefined> {
    const { log } = this.#o;
    mkdirSync(join(this.#o.stateDir, "manifests"), { recursive: true });
    writeFileSync(
      this.manifestFile,
      agentkManifest({
        agentName: this.#o.agentName,
        token: readFileSync(tokenFile, "utf8").trim(),
        kasAddress: KAS_ADDRESS,
        gitlabHost: { hostname: GITLAB_IN_COMPOSE.hostname, ip: GITLAB_IN_COMPOSE.ip },
        // gitlab-runner's kubernetes executor does not create its namespace.
        extraNamespaces: [KUBERNETES_RUNNER_NAMESPACE],
      }),
      { mode: 0o600 },
    );
    log(`  agentk: wrote ${this.manifestFile} (KAS at ${KAS_ADDRESS})`);
    await this.#oneShot("k3s-kubeconfig", "a kubeconfig for the compose network (k3s:6443)");
    await this.#oneShot("agentk-install", "kubectl apply of the agentk manifest into k3s");
    // The workspaces proxy reads the same kubeconfig: it can start now (no-op when it runs already).
    await this.#o.compose.start(this.#o.plan, PROXY_PROFILE, ["workspaces-proxy"], { recreate: false });
    log("  workspaces-proxy: started (https on 127.0.0.1:443, pods through k3s's port-forward)");
    // agentk runs in k3s, not in this process: nothing to stop here (live down removes k3s).
    return undefined;
  }

  async runnersReady(runners: RunnersByExecutor): Promise<void> {
    const { compose, plan, log, arches } = this.#o;
    if (runners.docker && arches.includes("arm64")) {
      const machine = this.#o.machine ?? thisMachine;
      if (machine.exists(BINFMT_ARM64) && machine.read(BINFMT_ARM64).startsWith("enabled"))
        log("  binfmt: qemu-aarch64 is registered on this host");
      else await this.#oneShot("binfmt", "QEMU binfmt for arm64 jobs on the docker runner");
    }
    for (const [executor, runner] of Object.entries(runners) as [Executor, { id: number; token: string }][]) {
      const started = Date.now();
      const did = await registerRunner(compose, plan, executor, runner, GITLAB_IN_COMPOSE.url);
      log(
        `  ${executor}: runner ${runner.id} ${did} in runner-${executor}, verified (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  }

  async #oneShot(service: string, what: string): Promise<void> {
    const started = Date.now();
    const r = await this.#o.compose.run(this.#o.plan, service, SETUP_PROFILE);
    if (r.status !== 0)
      throw new UsageError(
        `the ${service} one-shot (${what}) failed (exit ${r.status}):\n${r.output.trim()}`,
      );
    this.#o.log(`  ${service}: ${what}, done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
