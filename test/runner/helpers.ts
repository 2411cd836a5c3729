// A GitLab simulator, a registered runner and a project, for end-to-end runner tests on the sim tier.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import type { Executor } from "../../src/runner/index.ts";
import { type Runner, RunnerBuilder } from "../../src/runner/index.ts";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";

export interface SimTier {
  sim: GitLabSimulator;
  api: InstanceType<typeof Gitlab>;
  runner: Runner;
  dirs: { builds: string; cache: string };
  logs: string[];
  stop(): Promise<void>;
}

export async function startSimTier(
  executor: Executor,
  tags: string[],
  environment: Record<string, string> = {},
): Promise<SimTier> {
  const sim = await new GitLabSimulator({ longPollMs: 1000, traceUpdateIntervalSeconds: 1 }).start();
  const api = new Gitlab({ host: sim.url, token: sim.rootToken });
  const registered = await api.Users.createCIRunner("instance_type", { tagList: tags });
  const root = mkdtempSync(join(tmpdir(), "wsparity-runner-"));
  const dirs = { builds: join(root, "builds"), cache: join(root, "cache") };
  const logs: string[] = [];
  const runner = RunnerBuilder.for(sim.url, registered.token as string)
    .withName("test-runner")
    .withExecutor(executor)
    .withConcurrency(2)
    .withDirectories(dirs.builds, dirs.cache)
    .withEnvironment({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, ...environment })
    .withTraceInterval(300)
    .withStopGrace(2000)
    .withLog((line) => logs.push(line))
    .build();
  await runner.start();
  return {
    sim,
    api,
    runner,
    dirs,
    logs,
    async stop() {
      await runner.stop();
      await sim.stop();
    },
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitForJobStatus(
  tier: SimTier,
  projectId: number,
  jobId: number,
  statuses: string[],
  timeoutMs?: number,
) {
  return waitFor(
    `job ${jobId} to be ${statuses.join("/")}`,
    async () => {
      const job = await tier.api.Jobs.show(projectId, jobId);
      return statuses.includes(job.status as string) ? job : undefined;
    },
    timeoutMs,
  );
}

export async function firstJob(tier: SimTier, projectId: number, pipelineId: number) {
  const [job] = await tier.api.Jobs.all(projectId, { pipelineId });
  return job!;
}

/** Waits until the job's log contains `text`; fails at once, with the log, if the job ends first. */
export async function waitForLog(
  tier: SimTier,
  projectId: number,
  jobId: number,
  text: string,
  timeoutMs = 120_000,
): Promise<void> {
  let last = "";
  await waitFor(
    `job ${jobId} to print ${JSON.stringify(text)}`,
    async () => {
      const log = String(await tier.api.Jobs.showLog(projectId, jobId));
      if (log.includes(text)) return true;
      const job = await tier.api.Jobs.show(projectId, jobId);
      if (["success", "failed", "canceled"].includes(job.status as string))
        throw new Error(`job ${jobId} ended ${job.status} first:\n${log}`);
      last = `job ${jobId} is ${job.status}, runner ${JSON.stringify(job.runner?.id ?? null)}; log so far:\n${log}`;
      return undefined;
    },
    timeoutMs,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}; ${last}`);
  });
}

export interface RunnerProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

/** `wsparity runner run --config CONFIG` as a child process, for tests of a runner that is killed or stopped. */
export function spawnRunner(
  config: string,
  url: string,
  token: string,
  env: Record<string, string>,
): RunnerProcess {
  const child = spawn(
    process.execPath,
    ["bin/wsparity.js", "runner", "run", "--config", config, "--url", url, "--token", token],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c));
  child.stderr!.on("data", (c: Buffer) => (output += c));
  return { child, output: () => output };
}
