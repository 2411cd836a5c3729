// The CI path assembled: GitLab simulator, tunnel server, one runner (shell, docker, or kubernetes with its
// own simulated cluster) registered with the generator's tags, and a project to launch workspaces in. Used
// by `bench ci` and by tests.

import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { hostAddressForContainers } from "../containers/index.ts";
import type { WorkspaceSpec } from "../devfile/spec.ts";
import {
  DockerExecutor,
  kubernetesExecutorFrom,
  prepareShellTools,
  type Runner,
  RunnerBuilder,
  runnerTags,
  ShellExecutor,
  shippedRunnerConfig,
} from "../runner/index.ts";
import { GitLabSimulator } from "../sim/gitlab/index.ts";
import { startKubernetesSim } from "../sim/kubernetes/index.ts";
import { type StartedTunnelServer, TunnelServerBuilder } from "../tunnel/index.ts";
import { type LaunchedWorkspace, WorkspaceLauncher } from "./launcher.ts";
import { EDITOR_PORT } from "./pipeline.ts";

export interface SimWorkspace {
  launched: LaunchedWorkspace;
  userToken: string;
  editorPort: number;
  /** The editor's URL through the tunnel (path form, so plain 127.0.0.1 works). */
  editorUrl(path?: string): string;
}

export interface CiSimStack {
  gitlab: GitLabSimulator;
  tunnel: StartedTunnelServer;
  runner: Runner;
  api: InstanceType<typeof Gitlab>;
  launcher: WorkspaceLauncher;
  launch(spec: WorkspaceSpec, workspace: string): Promise<SimWorkspace>;
  stop(): Promise<void>;
}

export interface CiSimStackOptions {
  /**
   * shell (the sim tier), docker (job containers on a local engine) or kubernetes (job pods on the
   * Kubernetes simulator's docker kubelet, a cluster of `arch` nodes).
   */
  executor?: "shell" | "docker" | "kubernetes";
  arch?: "amd64" | "arm64";
  log?: (line: string) => void;
  longPollMs?: number;
}

export async function startCiSimStack(options: CiSimStackOptions = {}): Promise<CiSimStack> {
  const log = options.log ?? (() => {});
  const executor = options.executor ?? "shell";
  const arch = options.arch ?? "amd64";
  const root = mkdtempSync(join(tmpdir(), "wsparity-ci-sim-"));
  const tools = await prepareShellTools(join(root, "tools"), log);
  const gitlab = await new GitLabSimulator({
    longPollMs: options.longPollMs ?? 50_000,
    traceUpdateIntervalSeconds: 1,
  }).start();
  const api = new Gitlab({ host: gitlab.url, token: gitlab.rootToken });
  // Agents in containers dial the tunnel on the host's bridge address.
  const agentHost = executor === "shell" ? "127.0.0.1" : await hostAddressForContainers();
  const tunnel = await new TunnelServerBuilder()
    .withDomain("wsparity.localtest")
    .withAgentListener({ port: 0, host: agentHost })
    .start();
  const registered = await api.Users.createCIRunner("instance_type", {
    tagList: runnerTags({ executor, arch }),
  });
  mkdirSync(join(root, "builds"), { recursive: true });
  const cluster =
    executor === "kubernetes"
      ? await startKubernetesSim({ stateDir: join(root, "kubernetes"), kubelet: "docker", nodeArch: arch })
      : undefined;
  const name = `wsparity-${executor}-${arch}`;
  const runner = await RunnerBuilder.for(gitlab.url, registered.token as string)
    .withName(name)
    .withExecutor(
      executor === "docker"
        ? new DockerExecutor(arch)
        : cluster
          ? kubernetesExecutorFrom(cluster.kubeConfig(), shippedRunnerConfig("kubernetes", arch), name)
          : new ShellExecutor(),
    )
    .withConcurrency(4)
    .withDirectories(join(root, "builds"), join(root, "cache"))
    .withEnvironment(
      executor !== "shell"
        ? {}
        : { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, WSPARITY_TOOLS_DIR: tools },
    )
    .withTraceInterval(1000)
    .withStopGrace(3000)
    .withLog(log)
    .build()
    .start();
  const project = await api.Projects.create({ name: "workspaces", initializeWithReadme: true });
  const launcher = new WorkspaceLauncher(api, project.id);

  return {
    gitlab,
    tunnel,
    runner,
    api,
    launcher,
    async launch(spec, workspace) {
      const agentToken = randomBytes(24).toString("base64url");
      const userToken = randomBytes(18).toString("base64url");
      tunnel.workspaces.remove(workspace);
      tunnel.workspaces.add({ workspace, agentToken, userTokens: [userToken] });
      // A shell job gives its editor a free host port itself; the agent serves it as the editor's port.
      const launched = await launcher.start(spec, {
        executor,
        arch,
        workspace,
        tunnelUrl: tunnel.agentUrl!,
        agentToken,
      });
      return {
        launched,
        userToken,
        editorPort: EDITOR_PORT,
        editorUrl: (path = "/") => `${tunnel.userUrl}/-/ws/${workspace}/${EDITOR_PORT}${path}`,
      };
    },
    async stop() {
      await runner.stop();
      await cluster?.stop();
      await tunnel.stop();
      await gitlab.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
