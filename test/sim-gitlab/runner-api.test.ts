import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";

const LONG_POLL_MS = 400;
let sim: GitLabSimulator;
let api: InstanceType<typeof Gitlab>;
let runnerToken: string;
let projectId: number;

const CONFIG = `job:
  image:
    name: alpine:3
    entrypoint: [""]
    docker: { platform: linux/arm64 }
  services:
    - name: redis:7
      alias: cache
      command: [redis-server]
      variables: { MODE: test }
  variables:
    PLAIN: "1"
    LITERAL: { value: "$HOME", expand: false }
  before_script: [echo before]
  script: [echo main]
  after_script: [echo after]
  timeout: 90m
  tags: [sim]
  cache: { key: k1, paths: [vol/], when: always }
`;

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${sim.url}/api/v4/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** As gitlab-runner polls: the first request learns X-GitLab-Last-Update, the next one long-polls with it. */
async function requestJob(features: Record<string, boolean> = {}) {
  const body = { token: runnerToken, info: { name: "test", executor: "shell", features } };
  const first = await post("jobs/request", body);
  if (first.status !== 204) return first;
  return post("jobs/request", { ...body, last_update: first.headers.get("x-gitlab-last-update") });
}

async function newPipeline(): Promise<number> {
  return (await api.Pipelines.create(projectId, "main")).id;
}

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: LONG_POLL_MS, traceUpdateIntervalSeconds: 1 }).start();
  api = new Gitlab({ host: sim.url, token: sim.rootToken });
  const project = await api.Projects.create({ name: "runner-api" });
  projectId = project.id;
  await api.Commits.create(projectId, "main", "ci [skip ci]", [
    { action: "create", filePath: ".gitlab-ci.yml", content: CONFIG },
  ]);
  runnerToken = (await api.Users.createCIRunner("instance_type", { tagList: ["sim", "other"] }))
    .token as string;
});
afterAll(() => sim.stop());

describe("runner job API", () => {
  it("answers 403 to an unknown runner token and 400 without one", async () => {
    expect((await post("jobs/request", { token: "glrt-unknown" })).status).toBe(403);
    const missing = await post("jobs/request", {});
    expect([missing.status, await missing.json()]).toEqual([400, { error: "token is missing" }]);
  });

  it("answers 204 at once to a runner without the current last_update (only Workhorse holds, and only then)", async () => {
    const started = Date.now();
    const res = await post("jobs/request", { token: runnerToken, last_update: "stale" });
    expect(res.status).toBe(204);
    expect(Date.now() - started).toBeLessThan(LONG_POLL_MS);
    expect(res.headers.get("x-gitlab-last-update")).toMatch(/^\d+$/);
  });

  it("long-polls: 204 with X-GitLab-Last-Update after the poll time when no job waits", async () => {
    const started = Date.now();
    const res = await requestJob();
    expect(res.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LONG_POLL_MS - 20);
    expect(res.headers.get("x-gitlab-last-update")).toMatch(/^\d+$/);
  });

  it("hands a job to a waiting request as soon as one is queued", async () => {
    const waiting = requestJob();
    await new Promise((r) => setTimeout(r, 100));
    const pipelineId = await newPipeline();
    const res = await waiting;
    expect(res.status).toBe(201);
    const job = await res.json();
    expect(job.job_info).toMatchObject({
      name: "job",
      stage: "test",
      project_id: projectId,
      project_name: "runner-api",
    });
    expect(job.git_info).toMatchObject({
      ref: "main",
      ref_type: "branch",
      // Ci::BuildRunnerPresenter#refspecs: the pipeline's persistent ref, then the branch (depth > 0)
      refspecs: [
        `+refs/pipelines/${job.job_info.pipeline_id}:refs/pipelines/${job.job_info.pipeline_id}`,
        "+refs/heads/main:refs/remotes/origin/main",
      ],
      depth: 20,
    });
    expect(job.git_info.repo_url).toContain(`gitlab-ci-token:${job.token}@`);
    expect(job.runner_info.timeout).toBe(5400);
    expect(job.image).toMatchObject({
      name: "alpine:3",
      entrypoint: [""],
      executor_opts: { docker: { platform: "linux/arm64" } },
    });
    expect(job.services[0]).toMatchObject({
      name: "redis:7",
      alias: "cache",
      command: ["redis-server"],
      variables: [{ key: "MODE", value: "test", public: true, masked: false }],
    });
    expect(job.steps).toEqual([
      {
        name: "script",
        script: ["echo before", "echo main"],
        timeout: 5400,
        when: "on_success",
        allow_failure: false,
      },
      { name: "after_script", script: ["echo after"], timeout: 5400, when: "always", allow_failure: true },
    ]);
    expect(job.cache).toEqual([
      {
        key: "k1",
        untracked: false,
        policy: "pull-push",
        paths: ["vol/"],
        when: "always",
        fallback_keys: [],
      },
    ]);
    const variables = Object.fromEntries(job.variables.map((v: { key: string }) => [v.key, v]));
    expect(variables.CI_JOB_TOKEN).toMatchObject({ value: job.token, public: false, masked: true });
    expect(variables.CI_PIPELINE_ID.value).toBe(String(pipelineId));
    expect(variables.LITERAL).toMatchObject({ value: "$HOME", raw: true });
    expect(variables.PLAIN.value).toBe("1");
    const shown = await api.Jobs.show(projectId, job.id);
    expect(shown.status).toBe("running");
    await fetch(`${sim.url}/api/v4/jobs/${job.id}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: job.token, state: "success", exit_code: 0 }),
    });
  });

  it("appends trace by Content-Range, answers 416 with the current Range on a gap", async () => {
    await newPipeline();
    const job = await (await requestJob()).json();
    const patch = (range: string, body: string, token = job.token) =>
      fetch(`${sim.url}/api/v4/jobs/${job.id}/trace`, {
        method: "PATCH",
        headers: { "JOB-TOKEN": token, "Content-Range": range },
        body,
      });
    const first = await patch("0-5", "hello ");
    expect([first.status, first.headers.get("range"), first.headers.get("job-status")]).toEqual([
      202,
      "0-6",
      "running",
    ]);
    expect(first.headers.get("x-gitlab-trace-update-interval")).toBe("1");
    const gap = await patch("10-12", "abc");
    expect([gap.status, gap.headers.get("range")]).toEqual([416, "0-6"]);
    expect((await patch("6-10", "world")).headers.get("range")).toBe("0-11");
    expect((await patch("11-11", "!", "glcbt-wrong")).status).toBe(403);
    expect(await api.Jobs.showLog(projectId, job.id)).toBe("hello world");
    const done = await fetch(`${sim.url}/api/v4/jobs/${job.id}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        token: job.token,
        state: "failed",
        failure_reason: "script_failure",
        exit_code: 3,
      }),
    });
    expect(done.status).toBe(200);
    const shown = await api.Jobs.show(projectId, job.id);
    expect([shown.status, shown.failure_reason]).toEqual(["failed", "script_failure"]);
    const late = await patch("11-11", "!");
    expect([late.status, late.headers.get("job-status")]).toEqual([403, "failed"]);
  });

  it("tells a runner that cancels gracefully Job-Status: canceling, then records canceled", async () => {
    await newPipeline();
    const job = await (await requestJob({ cancel_gracefully: true })).json();
    await api.Jobs.cancel(projectId, job.id);
    const keepAlive = await fetch(`${sim.url}/api/v4/jobs/${job.id}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: job.token, state: "running" }),
    });
    expect(keepAlive.headers.get("job-status")).toBe("canceling");
    await fetch(`${sim.url}/api/v4/jobs/${job.id}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: job.token, state: "failed", failure_reason: "script_failure" }),
    });
    expect((await api.Jobs.show(projectId, job.id)).status).toBe("canceled");
  });

  it("cancels a job at once for a runner without graceful cancel: its next call is refused", async () => {
    await newPipeline();
    const job = await (await requestJob()).json();
    await api.Jobs.cancel(projectId, job.id);
    const res = await fetch(`${sim.url}/api/v4/jobs/${job.id}/trace`, {
      method: "PATCH",
      headers: { "JOB-TOKEN": job.token, "Content-Range": "0-0" },
      body: "x",
    });
    expect([res.status, res.headers.get("job-status")]).toEqual([403, "canceled"]);
  });

  it("does not hand a job to a runner that hung up while long-polling", async () => {
    const abort = new AbortController();
    const gone = fetch(`${sim.url}/api/v4/jobs/request`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: runnerToken }),
      signal: abort.signal,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await gone;
    // Let the server see the connection close (a job queued in the same instant is a race real GitLab has too).
    await new Promise((r) => setTimeout(r, 200));
    const pipelineId = await newPipeline();
    const [job] = await api.Jobs.all(projectId, { pipelineId });
    expect(job!.status).toBe("pending");
    expect((await requestJob()).status).toBe(201);
  });

  it("gives a job only to runners whose tags cover the job's", async () => {
    const other = (await api.Users.createCIRunner("instance_type", { tagList: ["different"] }))
      .token as string;
    await newPipeline();
    expect((await post("jobs/request", { token: other })).status).toBe(204);
    expect((await requestJob()).status).toBe(201);
  });

  it("matches a runner against the job's tags after their variables expand (parallel:matrix)", async () => {
    const matrix = await api.Projects.create({ name: "runner-api-matrix" });
    await api.Commits.create(matrix.id, "main", "ci [skip ci]", [
      {
        action: "create",
        filePath: ".gitlab-ci.yml",
        content:
          "part:\n  script: [echo]\n  tags: [wsparity, arch-$ARCH]\n  parallel:\n    matrix:\n      - ARCH: [amd64, arm64]\n",
      },
    ]);
    const arm64 = (await api.Users.createCIRunner("instance_type", { tagList: ["wsparity", "arch-arm64"] }))
      .token as string;
    const pipeline = await api.Pipelines.create(matrix.id, "main");
    const jobs = await api.Jobs.all(matrix.id, { pipelineId: pipeline.id });
    expect(jobs.map((j) => [j.name, j.tag_list])).toEqual([
      ["part: [amd64]", ["wsparity", "arch-amd64"]],
      ["part: [arm64]", ["wsparity", "arch-arm64"]],
    ]);
    const res = await post("jobs/request", { token: arm64 });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { job_info: { name: string } }).job_info.name).toBe("part: [arm64]");
    expect((await post("jobs/request", { token: arm64 })).status).toBe(204);
  });
});
