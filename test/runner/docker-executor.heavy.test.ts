// The docker executor on the docker tier: job container from the image, services on a per-job network
// reachable by alias, the build folder shared, linux/arm64 through QEMU, a dying job container failing
// the job with the reason, and nothing left behind.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DockerExecutor } from "../../src/runner/index.ts";
import { dockerForTests, NO_DOCKER_ENGINE } from "../containers/docker-available.ts";
import { describeUnless } from "../support/skip.ts";
import {
  firstJob,
  type SimTier,
  spawnRunner,
  startSimTier,
  waitFor,
  waitForJobStatus,
  waitForLog,
} from "./helpers.ts";

const docker = await dockerForTests();
let tier: SimTier;
let projectId: number;

const CONFIG = `stages: [run]
services-and-volume:
  stage: run
  tags: [docker-test]
  rules: [{ if: $CASE == "services" }]
  image: { name: "node:20", entrypoint: [""] }
  services:
    - name: "node:20"
      alias: peer
      command: ["node", "-e", "require('http').createServer((q, s) => s.end('pong from ' + process.env.SERVICE_NAME)).listen(8080)"]
      variables: { SERVICE_NAME: "the peer" }
  script:
    - cat README.md
    - for i in $(seq 1 50); do node -e "fetch('http://peer:8080').then(r => r.text()).then(t => { console.log(t); process.exit(0) }, () => process.exit(1))" && break; sleep 0.2; done
    - uname -m
    - cat "$SECRET_FILE"
arm64:
  stage: run
  tags: [docker-test]
  rules: [{ if: $CASE == "arm64" }]
  image: { name: "debian", docker: { platform: linux/arm64 } }
  script: ["uname -m"]
dies:
  stage: run
  tags: [docker-test]
  rules: [{ if: $CASE == "dies" }]
  image: debian
  script: ["echo started", "sleep 600"]
`;

const containersOfJob = (jobId: number) =>
  execFileSync("docker", ["ps", "-aq", "--filter", `label=io.wsparity.ci-job=${jobId}`], {
    encoding: "utf8",
  }).trim();

beforeAll(async () => {
  if (!docker) return;
  tier = await startSimTier(new DockerExecutor("amd64"), ["docker-test"]);
  const project = await tier.api.Projects.create({ name: "docker-project", initializeWithReadme: true });
  projectId = project.id;
  await tier.api.Commits.create(projectId, "main", "CI [skip ci]", [
    { action: "create", filePath: ".gitlab-ci.yml", content: CONFIG },
  ]);
});
afterAll(() => tier?.stop());

async function run(
  testCase: string,
  extra: { key: string; value: string; variable_type?: "file" | "env_var" }[] = [],
) {
  const pipeline = await tier.api.Pipelines.create(projectId, "main", {
    variables: [{ key: "CASE", value: testCase }, ...extra],
  });
  return firstJob(tier, projectId, pipeline.id);
}

describeUnless(docker ? undefined : NO_DOCKER_ENGINE)("docker executor", () => {
  it("runs the job in its image with services reachable by alias and the sources in /builds", async () => {
    const job = await run("services", [
      { key: "SECRET_FILE", value: "file-variable-content", variable_type: "file" },
    ]);
    const done = await waitForJobStatus(tier, projectId, job.id, ["success", "failed"], 120_000);
    const log = String(await tier.api.Jobs.showLog(projectId, job.id));
    expect(done.status, log).toBe("success");
    expect(log).toContain("# docker-project");
    expect(log).toContain("pong from the peer");
    expect(log).toContain("x86_64");
    expect(log).toContain("file-variable-content");
    expect(containersOfJob(job.id)).toBe("");
  });

  it("runs a linux/arm64 job through QEMU: uname -m says aarch64", async () => {
    const job = await run("arm64");
    const done = await waitForJobStatus(tier, projectId, job.id, ["success", "failed"], 180_000);
    const log = String(await tier.api.Jobs.showLog(projectId, job.id));
    expect(done.status, log).toBe("success");
    expect(log).toMatch(/\naarch64\n/);
  });

  it("fails the job with the reason when its container dies", async () => {
    const job = await run("dies");
    await waitFor(
      "the job to start",
      async () =>
        String(await tier.api.Jobs.showLog(projectId, job.id)).includes("started") ? true : undefined,
      120_000,
    );
    const ids = containersOfJob(job.id).split("\n").filter(Boolean);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) execFileSync("docker", ["kill", id]);
    const done = await waitForJobStatus(tier, projectId, job.id, ["failed", "success"], 60_000);
    expect([done.status, done.failure_reason]).toEqual(["failed", "runner_system_failure"]);
    expect(String(await tier.api.Jobs.showLog(projectId, job.id))).toMatch(
      /job container exited with code \d+/,
    );
    await waitFor(
      "the containers to go",
      async () => (containersOfJob(job.id) === "" ? true : undefined),
      30_000,
    );
  });
});

describeUnless(docker ? undefined : NO_DOCKER_ENGINE)("a killed docker runner", () => {
  it("leaves containers that the next runner removes when it starts", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const registered = await tier.api.Users.createCIRunner("instance_type", { tagList: ["docker-test"] });
    const stateDir = mkdtempSync(join(tmpdir(), "wsparity-docker-runner-"));
    const startRunner = () =>
      spawnRunner("runners/docker-amd64.toml", tier.sim.url, registered.token as string, {
        WSPARITY_STATE_DIR: stateDir,
      });
    // Only the process runner may take this job.
    await tier.runner.stop();
    const first = startRunner();
    await waitFor(
      "the runner to poll",
      async () => (first.output().includes("waiting for jobs") ? true : undefined),
      60_000,
    );
    const job = await run("dies");
    await waitForLog(tier, projectId, job.id, "started").catch((err) => {
      throw new Error(`${(err as Error).message}\nrunner said:\n${first.output()}`);
    });
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    expect(containersOfJob(job.id)).not.toBe("");
    await tier.api.Jobs.cancel(projectId, job.id);
    const second = startRunner();
    await waitFor(
      "the leftovers to go",
      async () => (containersOfJob(job.id) === "" ? true : undefined),
      60_000,
    );
    await waitFor(
      "the runner to say what it removed",
      async () =>
        /removed what an earlier runner process left: \d+ container/.test(second.output()) ? true : undefined,
      30_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}; runner said:\n${second.output()}`);
    });
    second.child.kill("SIGINT");
    expect(await new Promise((r) => second.child.once("exit", r))).toBe(0);
  });
});
