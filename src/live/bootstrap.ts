// The live tier's bootstrap against any GitLab, through its public API only: each step of bootstrap-steps.ts
// looks before it creates, is timed and printed. Secrets GitLab shows once (the agent token, runner tokens) are
// kept in a 0600 state file beside the settings, so a second run reuses them and writes nothing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { gitlabGraphql } from "../gitlab/graphql-client.ts";
import { runnerTags } from "../runner/config.ts";
import {
  type RunnerSelector,
  type TierSettings,
  type TunnelSettings,
  tierSettingsYaml,
} from "../tier/settings.ts";
import { UsageError } from "../util/errors.ts";
import { BOOTSTRAP_STEPS } from "./bootstrap-steps.ts";
import { formatMissing, gitlabTooOld } from "./preflight.ts";
import type { Executor, RunnersByExecutor, StopAgentk } from "./profile-hooks.ts";

export type { Executor } from "./profile-hooks.ts";
export type Arch = RunnerSelector["arch"];

export interface BootstrapOptions {
  gitlabUrl: string;
  /**
   * A personal access token with the api scope (an administrator's, or a group owner's), or how to get one
   * (a profile's adminToken hook: `live up` creates root's with gitlab-rails runner in the container).
   */
  token: string | (() => Promise<string>);
  settingsFile: string;
  group: string;
  project: string;
  agentName: string;
  dnsZone: string;
  tunnelDomain: string;
  /** wsparity's tunnel server for the CI path; without it the settings leave CI cells nothing to dial. */
  tunnel?: TunnelSettings;
  executors: Executor[];
  arches: Arch[];
  /** Where the repository's devfiles come from (scenarios/devfiles, committed under devfiles/). */
  devfilesDir: string;
  /**
   * Runs agentk with the token in `tokenFile`, or says how to: `live init` prints the `wsparity agentk`
   * command, or starts it with --start-agentk. Returns what stops it, when it was started here.
   */
  agentk(tokenFile: string): Promise<StopAgentk | undefined>;
  /**
   * Brings the created runners up with their tokens (`live up`: gitlab-runner register in each runner container).
   * Without it the step prints how to register them.
   */
  runnersReady?(runners: RunnersByExecutor): Promise<void>;
  /**
   * host:port where workspace and tunnel host names resolve when no DNS server knows them (ports published on
   * 127.0.0.1): written as the settings' agents[].resolveTo and ci.resolveTo.
   */
  resolveTo?: { workspaces?: string; tunnel?: string };
  /** What the settings call the tier: live, unless the stack is the project's own simulators (local profile: sim). */
  tier?: TierSettings["tier"];
  /** How long the agentk step waits for GitLab to hear from the agent. */
  agentkDeadlineMs: number;
  log(line: string): void;
}

export interface BootstrapState {
  agentToken?: { agentId: number; tokenId: number; token: string };
  runners?: RunnersByExecutor;
}

export interface BootstrapResult {
  settings: TierSettings;
  stateFile: string;
  agentTokenFile: string;
  stopAgentk: StopAgentk | undefined;
}

const AGENT_CONFIG_DIR = ".gitlab/agents";

export function stateFileFor(settingsFile: string): string {
  return settingsFile.replace(/(\.ya?ml)?$/, ".state.json");
}

export function agentTokenFileFor(settingsFile: string): string {
  return settingsFile.replace(/(\.ya?ml)?$/, ".agent-token");
}

export function agentConfigYaml(dnsZone: string): string {
  return [
    "remote_development:",
    "  enabled: true",
    `  dns_zone: ${dnsZone}`,
    "  network_policy:",
    "    enabled: true",
    "    egress:",
    "      - allow: 0.0.0.0/0",
    "        except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]",
    "",
  ].join("\n");
}

/**
 * The runners to have: one per executor. Only docker reaches arm64 from an amd64 host (QEMU through
 * image.docker.platform), so one docker runner carries both arch tags; a shell job runs on the host's
 * architecture and a single-arch k3s gives only amd64, so those cells are not-applicable, not runners.
 */
export function wantedRunners(
  executors: Executor[],
  arches: Arch[],
): { executor: Executor; arches: Arch[] }[] {
  return executors.flatMap((executor) => {
    const served = executor === "docker" ? arches : arches.filter((a) => a === "amd64");
    return served.length ? [{ executor, arches: served }] : [];
  });
}

function statusOf(err: unknown): number | undefined {
  return (err as { cause?: { response?: { status?: number } } }).cause?.response?.status;
}

async function orNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

function readState(file: string): BootstrapState {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as BootstrapState;
  } catch (err) {
    throw new UsageError(
      `cannot read the bootstrap state ${file}: ${(err as Error).message}; remove it to start over (new agent and runner tokens are then created)`,
    );
  }
}

/** Writes a file only when its content changes, 0600: a second run leaves it byte-identical and untouched. */
function writeIfChanged(file: string, text: string): boolean {
  if (existsSync(file) && readFileSync(file, "utf8") === text) return false;
  writeFileSync(file, text, { mode: 0o600 });
  return true;
}

/** Polls `check` until it answers, or fails naming what it waited for once the deadline passes. */
async function waitFor<T>(what: string, deadlineMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > until)
      throw new UsageError(`gave up after ${Math.round(deadlineMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** GET /version with the token: reachable, the token accepted, and GitLab new enough, or exit 2 saying which. */
export async function checkGitlab(url: string, token: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(new URL("api/v4/version", url.endsWith("/") ? url : `${url}/`), {
      headers: { "private-token": token },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new UsageError(
      `cannot reach GitLab at ${url} (${cause?.code ?? cause?.message ?? (err as Error).message}): check --gitlab-url and that GitLab is up`,
    );
  }
  if (res.status === 401 || res.status === 403)
    throw new UsageError(
      `GitLab at ${url} refused the token (${res.status}): give a personal access token with the api scope (--token)`,
    );
  if (!res.ok) throw new UsageError(`GitLab at ${url} answered GET /api/v4/version with ${res.status}`);
  const { version } = (await res.json()) as { version: string };
  const tooOld = gitlabTooOld(version);
  if (tooOld)
    throw new UsageError(formatMissing([tooOld]).replace("live tier preflight", `GitLab at ${url}`));
  return version;
}

export async function bootstrap(opts: BootstrapOptions): Promise<BootstrapResult> {
  const base = opts.gitlabUrl.replace(/\/+$/, "");
  const stateFile = stateFileFor(opts.settingsFile);
  const agentTokenFile = agentTokenFileFor(opts.settingsFile);
  const state = readState(stateFile);
  const saveState = () => writeIfChanged(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  const steps = new Map(BOOTSTRAP_STEPS.map((s, i) => [s.id, { ...s, n: i + 1 }]));
  const step = async <T>(id: string, run: () => Promise<{ value: T; note: string }>): Promise<T> => {
    const info = steps.get(id)!;
    const started = Date.now();
    opts.log(`[${info.n}/${steps.size}] ${id} …`);
    const { value, note } = await run();
    opts.log(`[${info.n}/${steps.size}] ${id}: ${note} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return value;
  };

  const token = await step("token", async () => {
    const given = typeof opts.token === "string";
    const value = given ? (opts.token as string) : await (opts.token as () => Promise<string>)();
    const version = await checkGitlab(base, value);
    return { value, note: `GitLab ${version} accepts the ${given ? "given" : "administrator's"} token` };
  });
  const api = new Gitlab({ host: base, token });
  const rest = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}/api/v4${path}`, {
      method,
      headers: { "private-token": token, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new UsageError(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
  const request = gitlabGraphql(base, token);
  const graphql = <T>(query: string, variables: Record<string, unknown>): Promise<T> =>
    request<T>(query, variables).catch((err: Error) => {
      throw new UsageError(err.message);
    });

  /** Commits the files that are missing or differ on main; nothing when all are there. */
  const commitFiles = async (projectId: number, files: Map<string, string>, message: string) => {
    const actions: { action: "create" | "update"; filePath: string; content: string }[] = [];
    for (const [filePath, content] of files) {
      const found = await orNotFound(api.RepositoryFiles.show(projectId, filePath, "main"));
      if (!found) actions.push({ action: "create", filePath, content });
      else if (Buffer.from(found.content, "base64").toString("utf8") !== content)
        actions.push({ action: "update", filePath, content });
    }
    if (actions.length) await api.Commits.create(projectId, "main", message, actions);
    return actions.length;
  };

  const group = await step("group", async () => {
    const found = await orNotFound(api.Groups.show(opts.group));
    if (found) return { value: found, note: `group ${found.full_path} (id ${found.id}) is there` };
    const created = await api.Groups.create(opts.group, opts.group);
    return { value: created, note: `created group ${created.full_path} (id ${created.id})` };
  });
  const groupPath = group.full_path as string;
  const projectPath = `${groupPath}/${opts.project}`;

  const project = await step("project", async () => {
    let found = await orNotFound(api.Projects.show(projectPath));
    const created = !found;
    found ??= await api.Projects.create({
      name: opts.project,
      path: opts.project,
      namespaceId: group.id as number,
      initializeWithReadme: true,
    });
    const devfiles = new Map(
      readdirSync(opts.devfilesDir)
        .filter((f) => f.endsWith(".devfile.yaml"))
        .sort()
        .map((f) => [`devfiles/${f}`, readFileSync(join(opts.devfilesDir, f), "utf8")]),
    );
    const committed = await commitFiles(found.id, devfiles, "wsparity: the scenarios' devfiles");
    return {
      value: found,
      note: `${created ? "created" : "found"} project ${projectPath} (id ${found.id}); ${committed ? `committed ${committed} devfile(s)` : `its ${devfiles.size} devfiles are current`}`,
    };
  });

  await step("agent-config", async () => {
    const path = `${AGENT_CONFIG_DIR}/${opts.agentName}/config.yaml`;
    const committed = await commitFiles(
      project.id,
      new Map([[path, agentConfigYaml(opts.dnsZone)]]),
      `wsparity: agent ${opts.agentName}'s config`,
    );
    return { value: undefined, note: `${path} ${committed ? "committed" : "is current"}` };
  });

  const agent = await step("agent", async () => {
    const agents = await api.Agents.all(project.id);
    let agent = agents.find((a) => a.name === opts.agentName);
    const created = !agent;
    agent ??= await api.Agents.register(project.id, opts.agentName);
    const tokens = await api.Agents.allTokens(project.id, agent.id);
    const kept = state.agentToken;
    const usable =
      kept?.agentId === agent.id && tokens.some((t) => t.id === kept.tokenId && t.status === "active");
    if (!usable) {
      // @gitbeaker/rest's Agents.createToken sends a GET (a list), so the token is created with fetch.
      const token = await rest<{ id: number; token: string }>(
        "POST",
        `/projects/${project.id}/cluster_agents/${agent.id}/tokens`,
        { name: "wsparity-agentk", description: "agentk of the wsparity live tier" },
      );
      state.agentToken = { agentId: agent.id, tokenId: token.id, token: token.token };
      saveState();
    }
    return {
      value: agent,
      note: `${created ? "registered" : "found"} agent ${opts.agentName} (id ${agent.id}); ${usable ? "its token in the state file is active" : `created token ${state.agentToken!.tokenId}, kept in ${stateFile}`}`,
    };
  });
  const agentToken = state.agentToken!;

  const stopAgentk = await step("agentk", async () => {
    writeIfChanged(agentTokenFile, `${agentToken.token}\n`);
    const stop = await opts.agentk(agentTokenFile);
    try {
      const heard = await waitFor(
        `GitLab to hear from agentk (last_used_at of agent token ${agentToken.tokenId}). Is agentk running? live init: run the wsparity agentk command printed above; live up: docker-compose -p wsparity-live exec k3s kubectl -n gitlab-agent-${opts.agentName} logs deploy/${opts.agentName}-agentk (k3s pulls its image from registry.gitlab.com)`,
        opts.agentkDeadlineMs,
        async () => {
          const tokens = await api.Agents.allTokens(project.id, agent.id);
          const used = tokens.find((t) => t.id === agentToken.tokenId)?.last_used_at;
          return used ? String(used) : undefined;
        },
      );
      return { value: stop, note: `GitLab last heard from the agent at ${heard}` };
    } catch (err) {
      await stop?.();
      throw err;
    }
  });

  try {
    await step("mapping", async () => {
      const agentGid = `gid://gitlab/Clusters::Agent/${agent.id}`;
      const mapped = await graphql<{
        group: { workspacesClusterAgents: { nodes: { id: string }[] } } | null;
      }>(
        `query mapped($fullPath: ID!) {
          group(fullPath: $fullPath) { workspacesClusterAgents(filter: DIRECTLY_MAPPED) { nodes { id } } }
        }`,
        { fullPath: groupPath },
      );
      if (mapped.group?.workspacesClusterAgents.nodes.some((n) => n.id === agentGid))
        return { value: undefined, note: `agent ${agent.id} is mapped to ${groupPath}` };
      const answer = await graphql<{
        namespaceCreateRemoteDevelopmentClusterAgentMapping: { errors: string[] };
      }>(
        `mutation map($input: NamespaceCreateRemoteDevelopmentClusterAgentMappingInput!) {
          namespaceCreateRemoteDevelopmentClusterAgentMapping(input: $input) { errors }
        }`,
        {
          input: {
            clusterAgentId: agentGid,
            namespaceId: `gid://gitlab/Group/${group.id}`,
          },
        },
      );
      const errors = answer.namespaceCreateRemoteDevelopmentClusterAgentMapping.errors;
      if (errors.some((e) => /already exists/i.test(e)))
        return { value: undefined, note: `agent ${agent.id} was already mapped to ${groupPath}` };
      if (errors.length)
        throw new UsageError(`mapping the agent to ${groupPath} failed: ${errors.join("; ")}`);
      return { value: undefined, note: `mapped agent ${agent.id} to ${groupPath}` };
    });

    const runners = await step("runners", async () => {
      state.runners ??= {};
      const notes: string[] = [];
      for (const { executor, arches } of wantedRunners(opts.executors, opts.arches)) {
        const tags = ["wsparity", `executor-${executor}`, ...arches.map((a) => `arch-${a}`)];
        const kept = state.runners[executor];
        const existing = kept && (await orNotFound(api.Runners.show(kept.id)));
        const current =
          existing &&
          [...((existing as { tag_list?: string[] }).tag_list ?? [])].sort().join(",") ===
            [...tags].sort().join(",");
        if (current) {
          notes.push(`${executor} runner ${kept.id} is there`);
          continue;
        }
        const created = await rest<{ id: number; token: string }>("POST", "/user/runners", {
          runner_type: "project_type",
          project_id: project.id,
          description: `wsparity ${executor} (${arches.join(", ")})`,
          tag_list: tags,
          run_untagged: false,
        });
        state.runners[executor] = { id: created.id, token: created.token };
        saveState();
        notes.push(`created ${executor} runner ${created.id} tagged ${tags.join(", ")}`);
      }
      const selectors: RunnerSelector[] = wantedRunners(opts.executors, opts.arches).flatMap(
        ({ executor, arches }) =>
          arches.map((arch) => ({ executor, arch, tags: runnerTags({ executor, arch }) })),
      );
      return { value: selectors, note: `${notes.join("; ")}; their tokens are in ${stateFile}` };
    });

    await step("register", async () => {
      // Only this run's executors: the state file may also hold runners an earlier run with more created.
      const created: RunnersByExecutor = Object.fromEntries(
        wantedRunners(opts.executors, opts.arches).flatMap(({ executor }) => {
          const runner = state.runners?.[executor];
          return runner ? [[executor, runner]] : [];
        }),
      );
      if (opts.runnersReady) {
        await opts.runnersReady(created);
        return { value: undefined, note: `${Object.keys(created).join(", ")} runner(s) registered` };
      }
      for (const [executor, runner] of Object.entries(created))
        opts.log(
          `  ${executor}: gitlab-runner register --non-interactive --url ${base} --token <runners.${executor}.token in ${stateFile}> --executor ${executor} --name wsparity-${executor} (runner ${runner.id})`,
        );
      return {
        value: undefined,
        note: "nothing registered here: register each runner where it runs, as printed",
      };
    });

    const settings: TierSettings = {
      tier: opts.tier ?? "live",
      gitlab: { url: base, token, group: groupPath, project: projectPath },
      // One agent for the cluster: a single-architecture k3s (amd64 on the machines the live tier runs on).
      kubernetes: {
        agents: [
          {
            arch: "amd64",
            clusterAgentId: `gid://gitlab/Clusters::Agent/${agent.id}`,
            dnsZone: opts.dnsZone,
            ...(opts.resolveTo?.workspaces ? { resolveTo: opts.resolveTo.workspaces } : {}),
          },
        ],
      },
      ci: {
        tunnelDomain: opts.tunnelDomain,
        ...(opts.resolveTo?.tunnel ? { resolveTo: opts.resolveTo.tunnel } : {}),
        ...(opts.tunnel ? { tunnel: opts.tunnel } : {}),
        runners,
      },
    };
    await step("settings", async () => ({
      value: undefined,
      note: writeIfChanged(opts.settingsFile, tierSettingsYaml(settings))
        ? `wrote ${opts.settingsFile}`
        : `${opts.settingsFile} is current`,
    }));
    return { settings, stateFile, agentTokenFile, stopAgentk };
  } catch (err) {
    await stopAgentk?.();
    throw err;
  }
}

export function defaultDevfilesDir(): string {
  return join(dirname(new URL(import.meta.url).pathname), "../../scenarios/devfiles");
}
