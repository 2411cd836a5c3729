// The runner as a process (`wsparity runner run`): a SIGKILLed runner leaves job processes behind, and
// the next runner started on the same folders removes them; Ctrl-C stops jobs and reports them failed.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { type RunnerProcess, spawnRunner, waitFor } from "./helpers.ts";

let sim: GitLabSimulator;
let api: InstanceType<typeof Gitlab>;
let token: string;
let projectId: number;
const stateDir = mkdtempSync(join(tmpdir(), "wsparity-runner-process-"));
const buildsDir = join(stateDir, "runner-shell-amd64", "builds");
const marker = `sleep ${3000 + Math.floor(Math.random() * 900)}`;
const children: ChildProcess[] = [];

function startRunner(): RunnerProcess {
  const runner = spawnRunner("runners/shell-amd64.toml", sim.url, token, { WSPARITY_STATE_DIR: stateDir });
  children.push(runner.child);
  return runner;
}

function markerRunning(): Promise<boolean> {
  return new Promise((resolve) => {
    const pgrep = spawn("pgrep", ["-f", marker]);
    pgrep.on("close", (code) => resolve(code === 0));
  });
}

async function startJob(): Promise<number> {
  const pipeline = await api.Pipelines.create(projectId, "main");
  const [job] = await api.Jobs.all(projectId, { pipelineId: pipeline.id });
  return job!.id;
}

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: 1000, traceUpdateIntervalSeconds: 1 }).start();
  api = new Gitlab({ host: sim.url, token: sim.rootToken });
  token = (
    await api.Users.createCIRunner("instance_type", { tagList: ["wsparity", "executor-shell", "arch-amd64"] })
  ).token as string;
  const project = await api.Projects.create({ name: "runner-process" });
  projectId = project.id;
  const config = `job:\n  tags: [wsparity, executor-shell]\n  script:\n    - ${marker} &\n    - echo started; wait\n`;
  await api.Commits.create(projectId, "main", "ci [skip ci]", [
    { action: "create", filePath: ".gitlab-ci.yml", content: config },
  ]);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await sim.stop();
});

describe("wsparity runner run", () => {
  it("after being killed, the next runner removes what its jobs left; Ctrl-C stops jobs and reports them failed", async () => {
    const first = startRunner();
    const jobId = await startJob();
    try {
      await waitFor(
        "the job to start",
        async () => (String(await api.Jobs.showLog(projectId, jobId)).includes("started") ? true : undefined),
        20_000,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; runner said:\n${first.output()}`);
    }
    expect(await markerRunning()).toBe(true);
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    expect(await markerRunning()).toBe(true);
    await api.Jobs.cancel(projectId, jobId);

    const second = startRunner();
    await waitFor("the leftovers to go", async () => ((await markerRunning()) ? undefined : true), 30_000);
    // The runner logs the removal once it is done: the process can be gone a moment before the line is out.
    const removed = `removed what an earlier runner process left: ${join(buildsDir, String(jobId))}`;
    await waitFor(
      "the runner to report the removal",
      async () => (second.output().includes(removed) ? true : undefined),
      10_000,
    );
    expect(second.output()).toContain(removed);
    expect(existsSync(join(buildsDir, String(jobId)))).toBe(false);

    // The same runner, now Ctrl-C'd while it runs a job.
    const next = await startJob();
    await waitFor(
      "the next job to start",
      async () => (String(await api.Jobs.showLog(projectId, next)).includes("started") ? true : undefined),
      30_000,
    );
    second.child.kill("SIGINT");
    expect(await new Promise((r) => second.child.once("exit", r))).toBe(0);
    const job = await api.Jobs.show(projectId, next);
    expect([job.status, job.failure_reason]).toEqual(["failed", "runner_system_failure"]);
    expect(await markerRunning()).toBe(false);
    expect(readdirSync(buildsDir)).toEqual([]);
  }, 90_000);

  it("exits 2 with the file and field named when the config lacks a token", () => {
    return new Promise<void>((resolve) => {
      const child = spawn(
        process.execPath,
        ["bin/wsparity.js", "runner", "run", "--config", "runners/shell-amd64.toml"],
        {
          env: { ...process.env, GITLAB_URL: "http://127.0.0.1:9", RUNNER_TOKEN: "" },
        },
      );
      let err = "";
      child.stderr.on("data", (c: Buffer) => (err += c));
      child.on("exit", (code) => {
        expect(code).toBe(2);
        expect(err).toContain("runners/shell-amd64.toml: [[runners]] token is");
        resolve();
      });
    });
  });

  it("exits 2 naming the config and the URL when GitLab cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise((r) => closed.close(r));
    const child = spawn(
      process.execPath,
      ["bin/wsparity.js", "runner", "run", "--config", "runners/shell-amd64.toml", "--url", url],
      { env: { ...process.env, RUNNER_TOKEN: "glrt-unused", WSPARITY_STATE_DIR: stateDir } },
    );
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c));
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).toBe(2);
    expect(err).toContain(`runners/shell-amd64.toml: cannot reach GitLab at ${url} (connect ECONNREFUSED`);
  }, 30_000);
});
