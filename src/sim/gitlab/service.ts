// The GitLab simulator as a `wsparity sim up` service: starts it, registers a runner per executor and
// architecture (tags as the CI generator writes them), runs the shell runner (and, with --kubelet docker,
// the docker runners and the kubernetes runner of the simulator's node architecture) in this process, and
// hands out GITLAB_URL, GITLAB_TOKEN and the runner tokens.

import { join } from "node:path";
import { hostArch } from "../../images/index.ts";
import {
  DockerExecutor,
  type Executor,
  kubernetesExecutorFrom,
  prepareShellTools,
  type Runner,
  RunnerBuilder,
  runnerTags,
  ShellExecutor,
  shippedRunnerConfig,
} from "../../runner/index.ts";
import type { KubernetesSim } from "../kubernetes/index.ts";
import type { SimContext, SimService, StartedService } from "../up.ts";
import { GitLabSimulator } from "./server.ts";

const CELLS = [
  { executor: "shell", arch: "amd64" },
  { executor: "docker", arch: "amd64" },
  { executor: "docker", arch: "arm64" },
  { executor: "kubernetes", arch: "amd64" },
  { executor: "kubernetes", arch: "arm64" },
] as const;

export const gitlabService: SimService<GitLabSimulator> = {
  name: "gitlab",
  async start(ctx: SimContext): Promise<StartedService<GitLabSimulator>> {
    const sim = await new GitLabSimulator().start();
    const env: Record<string, string> = { GITLAB_URL: sim.url, GITLAB_TOKEN: sim.rootToken };
    const usage = [`GitLab simulator: ${sim.url} (token in GITLAB_TOKEN)`];
    const runners: Runner[] = [];
    try {
      for (const cell of CELLS) {
        const registered = sim.store.createRunner({
          description: `wsparity-${cell.executor}-${cell.arch}`,
          tags: runnerTags(cell),
          runUntagged: false,
          paused: false,
          runnerType: "instance_type",
          projectId: null,
          maximumTimeout: null,
        });
        const key = `RUNNER_TOKEN_${cell.executor.toUpperCase()}_${cell.arch.toUpperCase()}`;
        env[key] = registered.token;
        const dirs = join(ctx.stateDir, `runner-${cell.executor}-${cell.arch}`);
        let executor: Executor | undefined;
        let environment: Record<string, string> = {};
        if (cell.executor === "shell") {
          executor = new ShellExecutor();
          const tools = await prepareShellTools(join(dirs, "tools"));
          environment = { ...(process.env as Record<string, string>), WSPARITY_TOOLS_DIR: tools };
        } else if (cell.executor === "docker" && ctx.kubelet === "docker")
          executor = new DockerExecutor(cell.arch);
        // The simulator's one cluster has nodes of this host's architecture.
        else if (cell.executor === "kubernetes" && ctx.kubelet === "docker" && cell.arch === hostArch()) {
          executor = kubernetesExecutorFrom(
            ctx.handle<KubernetesSim>("kubernetes").kubeConfig(),
            shippedRunnerConfig("kubernetes", cell.arch),
          );
        }
        if (!executor) {
          usage.push(
            `  runner ${cell.executor}/${cell.arch}: registered (${key}); run it with: wsparity runner run --config runners/${cell.executor}-${cell.arch}.toml`,
          );
          continue;
        }
        runners.push(
          await RunnerBuilder.for(sim.url, registered.token)
            .withName(`wsparity-${cell.executor}-${cell.arch}`)
            .withExecutor(executor)
            .withConcurrency(4)
            .withDirectories(join(dirs, "builds"), join(dirs, "cache"))
            .withEnvironment(environment)
            .withLog((line) => process.stderr.write(`runner ${cell.executor}/${cell.arch}: ${line}\n`))
            .build()
            .start(),
        );
        usage.push(`  runner ${cell.executor}/${cell.arch}: running in this process (${key})`);
        env.RUNNERS_RUNNING = [env.RUNNERS_RUNNING, `${cell.executor}-${cell.arch}`]
          .filter(Boolean)
          .join(",");
      }
    } catch (err) {
      for (const runner of runners) await runner.stop();
      await sim.stop();
      throw err;
    }
    return {
      handle: sim,
      env,
      usage,
      async stop() {
        for (const runner of runners) await runner.stop();
        await sim.stop();
      },
    };
  },
};
