import { mkdirSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { KubeConfig } from "@kubernetes/client-node";
import { bundleAgent } from "../../agent/bundle.ts";
import { WorkspaceLauncher } from "../../ci/launcher.ts";
import { buildEditorBundle } from "../../editor/bundle.ts";
import { prepareShellTools, RunnerBuilder, runnerTags, ShellExecutor } from "../../runner/index.ts";
import { GitLabSimulator } from "../../sim/gitlab/index.ts";
import { startKubernetesSim } from "../../sim/kubernetes/index.ts";
import { TunnelServerBuilder } from "../../tunnel/index.ts";
import type { TierSetup } from "../run.ts";
import { CiPathProvisioner } from "./ci-path.ts";
import { KubernetesPathProvisioner } from "./kubernetes-path.ts";

export interface TierOptions {
  stateDir: string;
  log: (line: string) => void;
}

/**
 * The sim tier: the Kubernetes simulator with its process kubelet, the GitLab simulator with a shell
 * runner, and one tunnel server whose user listener is both paths' front door. Everything in-process
 * or as local processes; everything stopped by close(), also after a partial start.
 */
export async function startSimTier(options: TierOptions): Promise<TierSetup> {
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err) => options.log(`cleanup: ${(err as Error).message}`));
  };
  try {
    if (!isAbsolute(options.stateDir))
      throw new Error(`the sim tier's state folder must be absolute, got ${options.stateDir}`);
    mkdirSync(options.stateDir, { recursive: true });
    // Fresh bundles of the agent and the editor from the current sources, then the shell runner's copy.
    await Promise.all([bundleAgent(), buildEditorBundle()]);
    const tools = await prepareShellTools(join(options.stateDir, "tools"), options.log);
    const tunnel = await new TunnelServerBuilder()
      .withDomain("workspaces.localtest")
      .withAgentListener({ port: 0 })
      .start();
    stops.push(() => tunnel.stop());
    const cluster = await startKubernetesSim({ stateDir: join(options.stateDir, "kubernetes") });
    stops.push(() => cluster.stop());
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const gitlab = await new GitLabSimulator({ longPollMs: 1000, traceUpdateIntervalSeconds: 1 }).start();
    stops.push(() => gitlab.stop());
    const api = new Gitlab({ host: gitlab.url, token: gitlab.rootToken });
    const registered = await api.Users.createCIRunner("instance_type", {
      tagList: runnerTags({ executor: "shell", arch: "amd64" }),
    });
    const runner = await RunnerBuilder.for(gitlab.url, registered.token as string)
      .withName("wsparity-sim-shell-amd64")
      .withExecutor(new ShellExecutor())
      .withConcurrency(2)
      .withDirectories(join(options.stateDir, "builds"), join(options.stateDir, "cache"))
      .withEnvironment({
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: options.stateDir,
        WSPARITY_TOOLS_DIR: tools,
      })
      .withTraceInterval(1000)
      .withStopGrace(3000)
      .withLog(() => {})
      .build()
      .start();
    stops.push(() => runner.stop());
    const project = await api.Projects.create({ name: "workspaces" });
    const kubernetes = new KubernetesPathProvisioner(kc, cluster, tunnel, () => {});
    const ci = new CiPathProvisioner(
      api,
      project.id as number,
      new WorkspaceLauncher(api, project.id),
      tunnel,
      () => {},
    );
    return {
      tier: "sim",
      provisioner: (path) => (path === "kubernetes" ? kubernetes : ci),
      environment: () => ({
        kubernetes: {
          api: cluster.url,
          backend:
            "Kubernetes simulator, process kubelet (pods as local processes in their own network and mount namespaces; images are not run)",
        },
        gitlab: { api: gitlab.url, backend: "GitLab simulator (REST v4 and the runner job API)" },
        runners: [
          { executor: "shell", arch: "amd64", tags: runnerTags({ executor: "shell", arch: "amd64" }) },
        ],
        tunnel: { users: tunnel.userUrl, agents: tunnel.agentUrl, domain: tunnel.domain },
      }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
