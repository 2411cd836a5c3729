import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import type { KubeConfig } from "@kubernetes/client-node";
import { hostAddressForContainers, installCleanupHandlers } from "../containers/index.ts";
import { imageMapRows, resolveImage } from "../images/image-map.ts";
import type { Arch, Executor } from "../report/model.ts";
import {
  DockerExecutor,
  kubernetesExecutorFrom,
  prepareShellTools,
  RunnerBuilder,
  runnerTags,
  ShellExecutor,
  shippedRunnerConfig,
} from "../runner/index.ts";
import { GitLabSimulator } from "../sim/gitlab/index.ts";
import { type KubernetesSim, startKubernetesSim } from "../sim/kubernetes/index.ts";
import { startWorkspacesAgent } from "../sim/workspaces-agent.ts";
import { TunnelServerBuilder } from "../tunnel/index.ts";
import { GitLabUserAuth } from "../workspaces-proxy/gitlab-auth.ts";
import { WorkspacesProxy } from "../workspaces-proxy/server.ts";
import { UpstreamsAcrossClusters, WorkspaceUpstreams } from "../workspaces-proxy/upstream.ts";
import type { ClusterAgentSelector, TierSettings } from "./settings.ts";

export interface TierOptions {
  stateDir: string;
  log: (line: string) => void;
}

/** A tier's environment running on this machine, described by its settings as a live GitLab would be. */
export interface LocalTier {
  settings: TierSettings;
  /** The image map of tiers that run images: devfile image → the local image that runs. */
  imageFor?: (reference: string, arch: Arch) => string;
  environment(): Record<string, unknown>;
  close(): Promise<void>;
}

/** Where the Kubernetes path's workspaces are: <port>-<workspace>.<zone>, served by the workspaces proxy. */
const WORKSPACES_DNS_ZONE = "workspaces.localtest";

interface RunnerCell {
  executor: Executor;
  arch: Arch;
}

const SHELL: RunnerCell = { executor: "shell", arch: "amd64" };
/** The sim tier's kubernetes executor runs job pods as local processes, like the Kubernetes path's pods. */
const SIM_RUNNERS: RunnerCell[] = [SHELL, { executor: "kubernetes", arch: "amd64" }];
const DOCKER_RUNNERS: RunnerCell[] = [
  SHELL,
  { executor: "docker", arch: "amd64" },
  { executor: "docker", arch: "arm64" },
  { executor: "kubernetes", arch: "amd64" },
  { executor: "kubernetes", arch: "arm64" },
];

/**
 * The sim and docker tiers' environment: the Kubernetes simulator (process or docker kubelet) per node
 * architecture, each with an agent and agentk reconciling it with the GitLab simulator, one workspaces proxy
 * in front of them, a runner per executor and architecture the tier has, and the CI path's tunnel server.
 * The harness gets its settings, as it would a live GitLab's. Everything stopped by close(), also after a
 * partial start.
 */
export async function startLocalTier(tier: "sim" | "docker", options: TierOptions): Promise<LocalTier> {
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err) => options.log(`cleanup: ${(err as Error).message}`));
  };
  try {
    if (!isAbsolute(options.stateDir))
      throw new Error(`the tier's state folder must be absolute, got ${options.stateDir}`);
    mkdirSync(options.stateDir, { recursive: true });
    if (tier === "docker") installCleanupHandlers();
    // The shell runner's agent and editor, bundled from the current sources (each simulated cluster
    // bundles what its pods get when it starts).
    const tools = await prepareShellTools(join(options.stateDir, "tools"), options.log);
    // Job containers dial the tunnel on the host's bridge address; local processes reach it there too.
    const agentHost = tier === "docker" ? await hostAddressForContainers() : "127.0.0.1";
    // Process-kubelet pods have no route to the host: their agents dial a socket in a folder pods share.
    const socketDir = tier === "sim" ? mkdtempSync(join(tmpdir(), "wsparity-agents-")) : undefined;
    if (socketDir) stops.push(async () => rmSync(socketDir, { recursive: true, force: true }));
    const adminToken = randomBytes(24).toString("base64url");
    const tunnelBuilder = new TunnelServerBuilder()
      .withDomain("tunnel.localtest")
      .withAdminToken(adminToken)
      .withAgentListener({ port: 0, host: agentHost });
    if (socketDir) tunnelBuilder.withAgentSocket(join(socketDir, "agent.sock"));
    const tunnel = await tunnelBuilder.start();
    stops.push(() => tunnel.stop());
    // The docker tier has a cluster per node architecture, as a real fleet has amd64 and arm64 clusters.
    const nodeArches: Arch[] = tier === "docker" ? ["amd64", "arm64"] : ["amd64"];
    const clusters = new Map<Arch, { sim: KubernetesSim; kc: KubeConfig }>();
    for (const arch of nodeArches) {
      const sim = await startKubernetesSim({
        stateDir: join(options.stateDir, `kubernetes-${arch}`),
        kubelet: tier === "docker" ? "docker" : "process",
        ...(tier === "docker" ? { nodeArch: arch } : {}),
        ...(socketDir ? { sharedHostPaths: [socketDir] } : {}),
      });
      stops.push(() => sim.stop());
      clusters.set(arch, { sim, kc: sim.kubeConfig() });
    }
    const gitlab = await new GitLabSimulator({ longPollMs: 1000, traceUpdateIntervalSeconds: 1 }).start();
    stops.push(() => gitlab.stop());
    const api = new Gitlab({ host: gitlab.url, token: gitlab.rootToken });
    const runnerCells = tier === "docker" ? DOCKER_RUNNERS : SIM_RUNNERS;
    for (const cell of runnerCells) {
      const registered = await api.Users.createCIRunner("instance_type", { tagList: runnerTags(cell) });
      const dir = join(options.stateDir, `runner-${cell.executor}-${cell.arch}`);
      const name = `wsparity-${tier}-${cell.executor}-${cell.arch}`;
      const runner = await RunnerBuilder.for(gitlab.url, registered.token as string)
        .withName(name)
        .withExecutor(
          cell.executor === "shell"
            ? new ShellExecutor()
            : cell.executor === "docker"
              ? new DockerExecutor(cell.arch)
              : // Job pods go to the cluster of their architecture, beside the Kubernetes path's workspaces.
                // as runners/kubernetes-<arch>.toml configures it.
                kubernetesExecutorFrom(
                  clusters.get(cell.arch)!.kc,
                  shippedRunnerConfig("kubernetes", cell.arch),
                  name,
                ),
        )
        .withConcurrency(2)
        .withDirectories(join(dir, "builds"), join(dir, "cache"))
        // Shell jobs take the tools from the runner host; container jobs from the tools service.
        .withEnvironment({
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: options.stateDir,
          ...(cell.executor === "shell" ? { WSPARITY_TOOLS_DIR: tools } : {}),
        })
        .withTraceInterval(1000)
        .withStopGrace(3000)
        .withLog(() => {})
        .build()
        .start();
      stops.push(() => runner.stop());
    }
    const project = await api.Projects.create({ name: "workspaces", initializeWithReadme: true });
    const projectRecord = gitlab.store.projects.get(project.id as number)!;
    // An instance setting GitLab lets administrators lower (its default is 10 s): a workspace here starts
    // within seconds of its pod, not within one default interval.
    gitlab.remoteDevelopment.options.partialReconciliationIntervalSeconds = 1;
    const proxy = await new WorkspacesProxy({
      dnsZone: WORKSPACES_DNS_ZONE,
      auth: new GitLabUserAuth(gitlab.url),
      upstreams: new UpstreamsAcrossClusters(
        [...clusters.values()].map((c) => new WorkspaceUpstreams(c.kc, c.sim.connect)),
      ),
    }).start();
    stops.push(() => proxy.stop());
    gitlab.remoteDevelopment.options.workspacesProxy = { scheme: "http", port: proxy.port };
    const agents: ClusterAgentSelector[] = [];
    for (const [arch, cluster] of clusters) {
      const agent = await startWorkspacesAgent(gitlab, projectRecord, cluster.sim, {
        agentName: `wsparity-${arch}`,
        dnsZone: WORKSPACES_DNS_ZONE,
        log: () => {},
      });
      stops.push(() => agent.stop());
      agents.push({
        arch,
        clusterAgentId: agent.agentGid,
        dnsZone: WORKSPACES_DNS_ZONE,
        resolveTo: `127.0.0.1:${proxy.port}`,
      });
    }
    const settings: TierSettings = {
      tier,
      gitlab: {
        url: gitlab.url,
        token: gitlab.rootToken,
        group: projectRecord.namespace.fullPath,
        project: projectRecord.fullPath,
      },
      kubernetes: { agents },
      ci: {
        tunnelDomain: tunnel.domain,
        resolveTo: new URL(tunnel.userUrl).host,
        tunnel: { url: tunnel.userUrl, adminToken, agentUrl: tunnel.agentUrl! },
        // Process-kubelet pods have no route to the host: their agents dial the socket in the folder pods share.
        runners: runnerCells.map((c) => ({
          ...c,
          tags: runnerTags(c),
          ...(c.executor === "kubernetes" && tunnel.agentSocketUrl
            ? { agentUrl: tunnel.agentSocketUrl }
            : {}),
        })),
      },
    };
    return {
      settings,
      ...(tier === "docker" ? { imageFor: (ref: string, arch: Arch) => resolveImage(ref, arch).image } : {}),
      environment: () => ({
        kubernetes: {
          clusters: Object.fromEntries([...clusters].map(([arch, c]) => [arch, c.sim.url])),
          backend:
            tier === "docker"
              ? "Kubernetes simulator, docker kubelet (a pause container per pod; containers join its namespaces)"
              : "Kubernetes simulator, process kubelet (pods as local processes in their own network and mount namespaces; images are not run)",
          agents:
            "wsparity agentk per cluster, reconciling with the GitLab simulator; users through the workspaces proxy",
        },
        gitlab: {
          api: gitlab.url,
          backend:
            "GitLab simulator (GraphQL workspaces, REST v4, the reconcile endpoint and the runner job API)",
        },
        runners: settings.ci.runners,
        tunnel: { users: tunnel.userUrl, agents: tunnel.agentUrl, domain: tunnel.domain },
        workspacesProxy: `http://127.0.0.1:${proxy.port} (zone ${WORKSPACES_DNS_ZONE})`,
        ...(tier === "docker" ? { imageMap: imageMapRows(["amd64", "arm64"]) } : {}),
      }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
