export { JobApiClient, type JobPayload, type RunnerInfo } from "./api-client.ts";
export { loadRunnerConfig, type RunnerFileConfig, runnerTags, shippedRunnerConfig } from "./config.ts";
export type { Executor, ExecutorName, JobContext, StageRun } from "./executor.ts";
export { DockerExecutor } from "./executors/docker.ts";
export {
  KubernetesExecutor,
  type KubernetesExecutorOptions,
  kubernetesExecutorFrom,
} from "./executors/kubernetes.ts";
export { ShellExecutor } from "./executors/shell.ts";
export { type JobOutcome, JobRun } from "./job-run.ts";
export { RUNNER_VERSION, Runner, RunnerBuilder, type RunnerOptions } from "./runner.ts";
export { prepareShellTools } from "./tools.ts";
