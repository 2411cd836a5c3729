import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import type { KubeConfig } from "@kubernetes/client-node";
import { WorkspaceLauncher } from "../../ci/launcher.ts";
import { hostAddressForContainers, installCleanupHandlers } from "../../containers/index.ts";
import { imageMapRows, resolveImage } from "../../images/image-map.ts";
import type { Arch, Executor } from "../../report/model.ts";
import {
  DockerExecutor,
  kubernetesExecutorFrom,
  prepareShellTools,
  RunnerBuilder,
  runnerTags,
  ShellExecutor,
  shippedRunnerConfig,
} from "../../runner/index.ts";
import { GitLabSimulator } from "../../sim/gitlab/index.ts";
import { type KubernetesSim, startKubernetesSim } from "../../sim/kubernetes/index.ts";
import { TunnelServerBuilder } from "../../tunnel/index.ts";
import type { TierSetup } from "../run.ts";
import { CiPathProvisioner } from "./ci-path.ts";
import { KubernetesPathProvisioner } from "./kubernetes-path.ts";

export interface TierOptions {
  stateDir: string;
  log: (line: string) => void;
}

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
 * The sim and docker tiers: the Kubernetes simulator (process or docker kubelet), the GitLab simulator
 * with a runner per executor and architecture the tier has, and one tunnel server whose user listener
 * is both paths' front door. Everything stopped by close(), also after a partial start.
 */
export async function startLocalTier(tier: "sim" | "docker", options: TierOptions): Promise<TierSetup> {
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
    const tunnelBuilder = new TunnelServerBuilder()
      .withDomain("workspaces.localtest")
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
    const imageFor =
      tier === "docker" ? (ref: string, arch: Arch) => resolveImage(ref, arch).image : undefined;
    const kubernetes = new Map(
      [...clusters].map(([arch, c]) => [
        arch,
        new KubernetesPathProvisioner(c.kc, c.sim, tunnel, imageFor, () => {}),
      ]),
    );
    const ci = new CiPathProvisioner(
      api,
      project.id as number,
      new WorkspaceLauncher(api, project.id),
      tunnel,
      imageFor,
      () => {},
      (executor) =>
        executor === "kubernetes" && tunnel.agentSocketUrl ? tunnel.agentSocketUrl : tunnel.agentUrl!,
    );
    return {
      tier,
      provisioner: (path, arch) => (path === "kubernetes" ? kubernetes.get(arch)! : ci),
      cannotRun: (path, executor, arch) => {
        if (path === "kubernetes")
          return clusters.has(arch) ? undefined : `no ${arch} cluster on the ${tier} tier`;
        return runnerCells.some((c) => c.executor === executor && c.arch === arch)
          ? undefined
          : `no ${executor} runner for ${arch} on the ${tier} tier`;
      },
      environment: () => ({
        kubernetes: {
          clusters: Object.fromEntries([...clusters].map(([arch, c]) => [arch, c.sim.url])),
          backend:
            tier === "docker"
              ? "Kubernetes simulator, docker kubelet (a pause container per pod; containers join its namespaces)"
              : "Kubernetes simulator, process kubelet (pods as local processes in their own network and mount namespaces; images are not run)",
        },
        gitlab: { api: gitlab.url, backend: "GitLab simulator (REST v4 and the runner job API)" },
        runners: runnerCells.map((c) => ({ ...c, tags: runnerTags(c) })),
        tunnel: { users: tunnel.userUrl, agents: tunnel.agentUrl, domain: tunnel.domain },
        ...(tier === "docker" ? { imageMap: imageMapRows(["amd64", "arm64"]) } : {}),
      }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
