// How `wsparity runner run` shuts down, as gitlab-runner does. SIGTERM (forceful) at the moments that once kept
// it alive: in a long poll after a job (a job's trace timer, restarted by GitLab's X-GitLab-Trace-Update-Interval
// while the final flush ran, was never cleared: the process printed "stopped" and never exited; seen in the
// nightly test), while a job runs (the job ends failed, runner_system_failure), and with a job that cannot be
// stopped (shutdown_timeout ends the wait). SIGQUIT (graceful): the running job finishes, no new one is taken.

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { type RunnerProcess, spawnRunner, waitFor } from "./helpers.ts";

// GitLab's trace interval (1 s) differs from the runner's starting one (3 s), and long polls outlast the test's bound.
const LONG_POLL_MS = 30_000;
// The hang this guards against is forever; the bound leaves room for a loaded 2-core machine.
const EXIT_WITHIN_MS = 10_000;
let sim: GitLabSimulator;
let api: InstanceType<typeof Gitlab>;
let projectId: number;
const root = mkdtempSync(join(tmpdir(), "wsparity-runner-sigterm-"));
const marker = `sleep ${4000 + Math.floor(Math.random() * 900)}`;
const runners: RunnerProcess[] = [];

async function startRunner(name: string, global = ""): Promise<RunnerProcess & { buildsDir: string }> {
  const { token } = await api.Users.createCIRunner("instance_type", { runUntagged: true });
  const dir = join(root, name);
  const config = `${dir}.toml`;
  writeFileSync(
    config,
    `concurrent = 2\n${global}[[runners]]\n  name = "${name}"\n  executor = "shell"\n  builds_dir = "${dir}/builds"\n  cache_dir = "${dir}/cache"\n`,
  );
  const runner = spawnRunner(config, sim.url, token as string, {});
  runners.push(runner);
  // Starting takes seconds on a loaded machine (tsx compiles the CLI).
  await waitFor(
    "the runner to wait for jobs",
    async () => (runner.output().includes("is waiting for jobs") ? true : undefined),
    45_000,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}; it said:\n${runner.output()}`);
  });
  return { ...runner, buildsDir: join(dir, "builds") };
}

async function queueJob(script: string): Promise<number> {
  const branch = `b${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
  await api.Commits.create(
    projectId,
    branch,
    "ci",
    [{ action: "update", filePath: ".gitlab-ci.yml", content: `job:\n  script:\n${script}` }],
    { startBranch: "main" },
  );
  const pipeline = await api.Pipelines.create(projectId, branch);
  const [job] = await api.Jobs.all(projectId, { pipelineId: pipeline.id });
  return job!.id;
}

/** Sends SIGTERM and resolves with the exit code and how long the exit took; rejects past `EXIT_WITHIN_MS` × 3. */
function terminate(
  runner: RunnerProcess,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<{ code: number | null; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const overdue = setTimeout(
      () =>
        reject(
          new Error(`the runner did not exit ${3 * EXIT_WITHIN_MS} ms after ${signal}:\n${runner.output()}`),
        ),
      3 * EXIT_WITHIN_MS,
    );
    runner.child.once("exit", (code) => {
      clearTimeout(overdue);
      resolve({ code, ms: performance.now() - t0 });
    });
    runner.child.kill(signal);
  });
}

/** The pids of processes whose command line holds `text`. */
function pidsOf(text: string): Promise<number[]> {
  return new Promise((resolve) => {
    let out = "";
    const pgrep = spawn("pgrep", ["-f", text]);
    pgrep.stdout.on("data", (c: Buffer) => (out += c));
    pgrep.on("close", () => resolve(out.split("\n").filter(Boolean).map(Number)));
  });
}

const markerRunning = async () => (await pidsOf(marker)).length > 0;

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: LONG_POLL_MS, traceUpdateIntervalSeconds: 1 }).start();
  api = new Gitlab({ host: sim.url, token: sim.rootToken });
  const project = await api.Projects.create({ name: "runner-sigterm" });
  projectId = project.id;
  await api.Commits.create(projectId, "main", "ci [skip ci]", [
    { action: "create", filePath: ".gitlab-ci.yml", content: "job:\n  script: [true]\n" },
  ]);
});

afterAll(async () => {
  for (const { child } of runners)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await sim.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("wsparity runner run on SIGTERM and SIGQUIT", () => {
  it("exits at once from its long polls after it ran a short job", async () => {
    const runner = await startRunner("after-a-job");
    const jobId = await queueJob("    - echo short\n");
    await waitFor("the job to succeed", async () => {
      const job = await api.Jobs.show(projectId, jobId);
      return job.status === "success" ? true : undefined;
    });
    await waitFor("the runner to log the job's end", async () =>
      runner.output().includes(`job ${jobId} finished: success`) ? true : undefined,
    );
    const { code, ms } = await terminate(runner);
    expect(code, runner.output()).toBe(0);
    expect(ms).toBeLessThan(EXIT_WITHIN_MS);
  }, 120_000);

  it("during a job: exits within seconds, the job failed (runner_system_failure), nothing left running", async () => {
    const runner = await startRunner("during-a-job");
    const jobId = await queueJob(`    - ${marker} &\n    - echo started; wait\n`);
    await waitFor("the job to start", async () =>
      String(await api.Jobs.showLog(projectId, jobId)).includes("started") ? true : undefined,
    );
    expect(await markerRunning()).toBe(true);
    const { code, ms } = await terminate(runner);
    expect(code, runner.output()).toBe(0);
    expect(ms).toBeLessThan(EXIT_WITHIN_MS);
    const job = await api.Jobs.show(projectId, jobId);
    expect([job.status, job.failure_reason]).toEqual(["failed", "runner_system_failure"]);
    expect(String(await api.Jobs.showLog(projectId, jobId))).toContain("the runner is shutting down");
    expect(await markerRunning()).toBe(false);
    expect(readdirSync(runner.buildsDir)).toEqual([]);
  }, 120_000);

  it("exits at shutdown_timeout, saying so, when a job's process escaped its group and holds the job open", async () => {
    const escaped = `sleep ${5000 + Math.floor(Math.random() * 900)}`;
    const runner = await startRunner("escaped", "shutdown_timeout = 2\n");
    try {
      // setsid: a session of its own, out of reach of the stage's process group, still holding the job's output.
      const jobId = await queueJob(`    - setsid ${escaped} &\n    - echo started; wait\n`);
      await waitFor("the job to start", async () =>
        String(await api.Jobs.showLog(projectId, jobId)).includes("started") ? true : undefined,
      );
      const { code, ms } = await terminate(runner);
      expect(code, runner.output()).toBe(1);
      expect(ms).toBeGreaterThanOrEqual(2000);
      expect(ms).toBeLessThan(2000 + EXIT_WITHIN_MS);
      expect(runner.output()).toContain("jobs did not stop within shutdown_timeout (2 s): exiting");
    } finally {
      for (const pid of await pidsOf(escaped)) process.kill(pid, "SIGKILL");
    }
  }, 120_000);

  it("on SIGQUIT (gitlab-runner's graceful shutdown): takes no new job, lets the running one finish, exits 0", async () => {
    const runner = await startRunner("graceful");
    const running = await queueJob("    - echo started; sleep 3; echo finished\n");
    await waitFor("the job to start", async () =>
      String(await api.Jobs.showLog(projectId, running)).includes("started") ? true : undefined,
    );
    const exit = terminate(runner, "SIGQUIT");
    await waitFor("the runner to stop taking jobs", async () =>
      runner.output().includes("graceful shutdown (SIGQUIT)") ? true : undefined,
    );
    const waiting = await queueJob("    - echo never\n");
    try {
      const { code } = await exit;
      expect(code, runner.output()).toBe(0);
      const job = await api.Jobs.show(projectId, running);
      expect(job.status).toBe("success");
      expect(String(await api.Jobs.showLog(projectId, running))).toContain("finished");
      expect((await api.Jobs.show(projectId, waiting)).status).toBe("pending");
    } finally {
      await api.Jobs.cancel(projectId, waiting);
    }
  }, 120_000);
});
