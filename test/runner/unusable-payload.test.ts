// A job payload the runner cannot use is reported, not dropped (issue 12 defect 10): the job ends failed
// with runner_system_failure and its trace says why, as gitlab-runner does. A proxy in front of the GitLab
// simulator damages the 201 answer of POST /jobs/request; everything else passes through.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerBuilder, ShellExecutor } from "../../src/runner/index.ts";
import { parseJobPayload } from "../../src/runner/payload.ts";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { type GitLabProxy, startGitLabProxy } from "./gitlab-proxy.ts";
import { waitFor } from "./helpers.ts";

let sim: GitLabSimulator;
let proxy: GitLabProxy;
let damage: (payload: Record<string, unknown>) => string = JSON.stringify;

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: 300, traceUpdateIntervalSeconds: 1 }).start();
  proxy = await startGitLabProxy(sim.url, (payload) => damage(payload));
});
afterAll(async () => {
  await proxy.stop();
  await sim.stop();
});

async function runOneJob(how: (payload: Record<string, unknown>) => string) {
  damage = how;
  const api = new Gitlab({ host: sim.url, token: sim.rootToken });
  const project = await api.Projects.create({ name: `unusable-${Date.now()}` });
  await api.Commits.create(project.id, "main", "ci [skip ci]", [
    { action: "create", filePath: ".gitlab-ci.yml", content: "job:\n  script: [echo hi]\n" },
  ]);
  // An instance runner, as in the sim tier: the previous case's runner is stopped and must not be offered this job.
  const registered = await api.Users.createCIRunner("instance_type", { runUntagged: true });
  const logs: string[] = [];
  const root = mkdtempSync(join(tmpdir(), "wsparity-unusable-"));
  const runner = RunnerBuilder.for(proxy.url, registered.token as string)
    .withName("unusable")
    .withExecutor(new ShellExecutor())
    .withConcurrency(1)
    .withDirectories(join(root, "builds"), join(root, "cache"))
    .withEnvironment({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root })
    .withTraceInterval(200)
    .withStopGrace(1000)
    .withLog((l) => logs.push(l))
    .build();
  await runner.start();
  try {
    const pipeline = await api.Pipelines.create(project.id, "main");
    const [job] = await api.Jobs.all(project.id, { pipelineId: pipeline.id });
    const done = await waitFor("the job to end", async () => {
      const j = await api.Jobs.show(project.id, job!.id);
      return ["failed", "success"].includes(j.status as string) ? j : undefined;
    });
    const trace = await (
      await fetch(`${sim.url}/api/v4/projects/${project.id}/jobs/${job!.id}/trace`, {
        headers: { "Private-Token": sim.rootToken },
      })
    ).text();
    return { job: done, trace, logs };
  } finally {
    await runner.stop();
  }
}

describe("a job payload the runner cannot use", () => {
  it("is failed as a system failure with a trace line naming the bad field", async () => {
    const { job, trace, logs } = await runOneJob((p) => JSON.stringify({ ...p, steps: "echo hi" }));
    expect([job.status, job.failure_reason]).toEqual(["failed", "runner_system_failure"]);
    expect(trace).toContain(
      "ERROR: Job failed (system failure): the job payload cannot be used: steps must be array",
    );
    expect(logs.join("\n")).toMatch(/received but the job payload cannot be used/);
  });

  it("is failed when a project name would climb out of the build directory", async () => {
    const { job, trace } = await runOneJob((p) =>
      JSON.stringify({ ...p, job_info: { ...(p.job_info as object), project_name: ".." } }),
    );
    expect([job.status, job.failure_reason]).toEqual(["failed", "runner_system_failure"]);
    expect(trace).toContain("job_info.project_name must match pattern");
  });
});

describe("parseJobPayload", () => {
  it("never throws, and whatever it rejects it explains", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ id: 1, token: "t", x: v })),
        ),
        (text) => {
          const parsed = parseJobPayload(text);
          if (!("job" in parsed))
            expect(parsed.problem).toMatch(/^the job payload (is not JSON|cannot be used)/);
        },
      ),
    );
  });

  it("keeps the job's id and token when only the body is broken, so the failure can be reported", () => {
    expect(parseJobPayload('{"id": 7, "token": "tok", "steps": 3}')).toMatchObject({ id: 7, token: "tok" });
    expect(parseJobPayload("{not json")).toEqual({ problem: expect.stringMatching(/is not JSON/) });
  });
});
