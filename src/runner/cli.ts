// `wsparity runner run --config runners/shell-amd64.toml`: a runner process speaking GitLab's job API.

import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { Command } from "commander";
import { UsageError } from "../util/errors.ts";
import { loadRunnerConfig, RunnerConfigError, type RunnerFileConfig } from "./config.ts";
import type { Executor } from "./executor.ts";
import { DockerExecutor } from "./executors/docker.ts";
import { kubernetesExecutorFrom } from "./executors/kubernetes.ts";
import { ShellExecutor } from "./executors/shell.ts";
import { RunnerBuilder } from "./runner.ts";
import { listenForShutdown, runUntilShutdown } from "./shutdown.ts";
import { prepareShellTools } from "./tools.ts";

interface RunOptions {
  config: string;
  url?: string;
  token?: string;
}

export function executorFor(config: RunnerFileConfig): Executor {
  if (config.executor === "shell") return new ShellExecutor();
  if (config.executor === "docker") return new DockerExecutor(config.arch, config.docker?.image);
  return kubernetesExecutorFrom(kubeConfigFor(config), config);
}

/** The cluster from [runners.kubernetes] host/bearer_token/ca_file, else KUBECONFIG, ~/.kube/config or in-cluster. */
function kubeConfigFor(config: RunnerFileConfig): KubeConfig {
  const k8s = config.kubernetes;
  const kc = new KubeConfig();
  if (k8s?.host) {
    kc.loadFromOptions({
      clusters: [{ name: "runner", server: k8s.host, ...(k8s.caFile ? { caFile: k8s.caFile } : {}) }],
      users: [{ name: "runner", ...(k8s.bearerToken ? { token: k8s.bearerToken } : {}) }],
      contexts: [{ name: "runner", cluster: "runner", user: "runner" }],
      currentContext: "runner",
    });
    return kc;
  }
  const kubeconfig = process.env.KUBECONFIG || join(homedir(), ".kube", "config");
  if (!existsSync(kubeconfig.split(":")[0]!) && !process.env.KUBERNETES_SERVICE_HOST)
    throw new UsageError(
      `${config.file}: no cluster for the kubernetes executor: set host (and bearer_token, ca_file) in [runners.kubernetes], or KUBECONFIG (wsparity sim up writes one)`,
    );
  kc.loadFromDefault();
  return kc;
}

export function registerRunnerCommands(program: Command): void {
  const runner = program
    .command("runner")
    .description("A CI runner that speaks GitLab's job API (shell, docker and kubernetes executors).");
  runner
    .command("run")
    .description(
      "Take jobs from GitLab until interrupted: SIGTERM or Ctrl-C stops running jobs, reports them failed and cleans up (within shutdown_timeout); SIGQUIT takes no new jobs and exits once running ones finish.",
    )
    .requiredOption("--config <file>", "runner config in config.toml format, e.g. runners/shell-amd64.toml")
    .option("--url <url>", "GitLab URL (else url in the file, or GITLAB_URL)")
    .option(
      "--token <token>",
      "runner authentication token, glrt-… (else token in the file, or RUNNER_TOKEN)",
    )
    .action(async (opts: RunOptions) => {
      let config: RunnerFileConfig;
      try {
        config = loadRunnerConfig(opts.config, process.env, { url: opts.url, token: opts.token });
      } catch (err) {
        if (err instanceof RunnerConfigError) throw new UsageError(err.message);
        throw err;
      }
      const executor = executorFor(config);
      const log = (line: string) =>
        process.stderr.write(`${new Date().toISOString()} ${config.name} ${line}\n`);
      // Listen before starting: starting removes what a killed runner left, and a Ctrl-C during that
      // must stop this runner cleanly rather than kill it mid-cleanup.
      const signals = listenForShutdown();
      const toolsDir = config.environment.WSPARITY_TOOLS_DIR;
      if (config.executor === "shell" && toolsDir) await prepareShellTools(toolsDir, log);
      const runner = RunnerBuilder.for(config.url, config.token)
        .withName(config.name)
        .withExecutor(executor)
        .withConcurrency(config.concurrent)
        .withDirectories(config.buildsDir, config.cacheDir)
        // The shell executor's jobs inherit the runner's environment, as gitlab-runner's do; containers do not.
        .withEnvironment(
          config.executor === "shell"
            ? { ...(process.env as Record<string, string>), ...config.environment }
            : config.environment,
        )
        .withLog(log)
        .build();
      const started = await runner.start().catch((err: Error) => {
        throw new UsageError(`${config.file}: ${err.message}`);
      });
      log(
        `runner ${config.name} (${config.executor}, ${config.arch}) is waiting for jobs from ${config.url}`,
      );
      if (!(await runUntilShutdown(started, signals, config.shutdownTimeoutSeconds, log))) {
        log(
          `jobs did not stop within shutdown_timeout (${config.shutdownTimeoutSeconds} s): exiting; the next runner started on ${config.buildsDir} removes what they left`,
        );
        process.exit(1);
      }
      log("stopped");
    });
}
