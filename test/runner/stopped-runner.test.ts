// A runner that was stopped must not be handed the next job: its long poll ends with it, and GitLab gives
// the job to whichever runner asks next. Issue 12 saw a stopped runner's job wait ~20 s in
// unusable-payload.test.ts: the runner and the simulator were right (runner.stop() aborts the poll and the
// simulator hands nothing to a hung-up request), but that test's proxy kept its upstream poll open after
// the runner hung up, so the simulator gave the job to the proxy, which had nobody to give it to. Real
// fronts (NGINX, Workhorse) cancel the upstream request when the client goes; test/runner/gitlab-proxy.ts
// does too.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Runner, RunnerBuilder, ShellExecutor } from "../../src/runner/index.ts";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { startGitLabProxy } from "./gitlab-proxy.ts";
import { waitFor } from "./helpers.ts";

// Long polls as long as GitLab's default, so a job swallowed by a dead poll shows as a long wait.
const LONG_POLL_MS = 30_000;
let sim: GitLabSimulator;
let api: InstanceType<typeof Gitlab>;

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: LONG_POLL_MS, traceUpdateIntervalSeconds: 1 }).start();
  api = new Gitlab({ host: sim.url, token: sim.rootToken });
});
afterAll(async () => {
  await sim.stop();
});

async function instanceRunner(name: string, url = sim.url): Promise<{ runner: Runner; id: number }> {
  const registered = await api.Users.createCIRunner("instance_type", { runUntagged: true });
  const root = mkdtempSync(join(tmpdir(), `wsparity-${name}-`));
  const runner = RunnerBuilder.for(url, registered.token as string)
    .withName(name)
    .withExecutor(new ShellExecutor())
    .withConcurrency(1)
    .withDirectories(join(root, "builds"), join(root, "cache"))
    .withEnvironment({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root })
    .withTraceInterval(200)
    .withStopGrace(1000)
    .withLog(() => {})
    .build();
  await runner.start();
  return { runner, id: registered.id as number };
}

async function queueJob(): Promise<{ projectId: number; jobId: number }> {
  const project = await api.Projects.create({ name: `stopped-runner-${Date.now()}` });
  await api.Commits.create(project.id, "main", "ci [skip ci]", [
    { action: "create", filePath: ".gitlab-ci.yml", content: "job:\n  script: [echo hi]\n" },
  ]);
  const pipeline = await api.Pipelines.create(project.id, "main");
  const [job] = await api.Jobs.all(project.id, { pipelineId: pipeline.id });
  return { projectId: project.id as number, jobId: job!.id as number };
}

/** Starts a runner, lets it settle into a long poll, stops it, and times how long another runner takes the next job. */
async function pickupAfterStop(url?: string) {
  const stopped = await instanceRunner("stopped", url);
  await new Promise((r) => setTimeout(r, 500));
  await stopped.runner.stop();
  const next = await instanceRunner("next");
  await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  const { projectId, jobId } = await queueJob();
  try {
    const job = await waitFor(
      "the job to be picked up",
      async () => {
        const j = await api.Jobs.show(projectId, jobId);
        return j.status === "pending" ? undefined : j;
      },
      LONG_POLL_MS + 5000,
    );
    return {
      seconds: (performance.now() - t0) / 1000,
      runnerId: (job.runner as { id: number } | null)?.id,
      next,
    };
  } finally {
    await next.runner.stop();
  }
}

describe("a stopped runner", () => {
  it("is not handed the next job: another runner takes it at once", async () => {
    const { seconds, runnerId, next } = await pickupAfterStop();
    expect(runnerId).toBe(next.id);
    expect(seconds).toBeLessThan(3);
  });

  it("is not handed the next job through a proxy either, because the proxy ends its upstream poll when the runner hangs up", async () => {
    const proxy = await startGitLabProxy(sim.url);
    try {
      const { seconds, runnerId, next } = await pickupAfterStop(proxy.url);
      expect(runnerId).toBe(next.id);
      expect(seconds).toBeLessThan(3);
    } finally {
      await proxy.stop();
    }
  });
});
