import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShellExecutor } from "../../src/runner/index.ts";
import { firstJob, type SimTier, startSimTier, waitFor, waitForJobStatus } from "./helpers.ts";

let tier: SimTier;
let projectId: number;

const CONFIG = `stages: [run]
ok:
  stage: run
  tags: [shell-test]
  rules:
    - if: $CASE == "ok"
  variables:
    GREETING: hello
    LITERAL: { value: "$GREETING", expand: false }
    COMBINED: "$GREETING world"
  image: ignored/by-shell:1
  script:
    - echo "greeting=$GREETING literal=$LITERAL combined=$COMBINED"
    - cat README.md
    - cat "$SECRET_FILE"
    - echo "token=$CI_JOB_TOKEN"
    - mkdir -p vol && echo "run $CI_PIPELINE_ID" >> vol/history && cat vol/history
  cache: { key: shell-test, paths: [vol/], when: always }
fails:
  stage: run
  tags: [shell-test]
  rules:
    - if: $CASE == "fails"
  script: ["echo about to fail", "exit 7"]
slow:
  stage: run
  tags: [shell-test]
  rules:
    - if: $CASE == "slow"
  script:
    - sleep 3001 &
    - echo started; sleep 600
  after_script:
    - echo "after_script ran for $CI_JOB_ID"
timeout:
  stage: run
  tags: [shell-test]
  timeout: 2 seconds
  rules:
    - if: $CASE == "timeout"
  script: ["sleep 30"]
`;

beforeAll(async () => {
  tier = await startSimTier(new ShellExecutor(), ["shell-test"]);
  const project = await tier.api.Projects.create({ name: "shell-project", initializeWithReadme: true });
  projectId = project.id;
  await tier.api.Commits.create(projectId, "main", "CI config [skip ci]", [
    { action: "create", filePath: ".gitlab-ci.yml", content: CONFIG },
  ]);
});
afterAll(() => tier.stop());

async function pipeline(
  testCase: string,
  extra: { key: string; value: string; variable_type?: "file" | "env_var" }[] = [],
) {
  const created = await tier.api.Pipelines.create(projectId, "main", {
    variables: [{ key: "CASE", value: testCase }, ...extra],
  });
  return firstJob(tier, projectId, created.id);
}

describe("runner with the shell executor on the sim tier", () => {
  it("fetches the sources, runs the script with expanded and raw variables, masks the job token, keeps the cache", async () => {
    const job = await pipeline("ok", [
      { key: "SECRET_FILE", value: "file-content-42", variable_type: "file" },
    ]);
    const done = await waitForJobStatus(tier, projectId, job.id, ["success", "failed"]);
    const log = await tier.api.Jobs.showLog(projectId, job.id);
    expect(done.status, log as string).toBe("success");
    expect(log).toContain("greeting=hello literal=$GREETING combined=hello world");
    expect(log).toContain("# shell-project");
    expect(log).toContain("file-content-42");
    expect(log).toContain("token=[MASKED]");
    expect(log).toContain("The shell executor ignores image ignored/by-shell:1");
    expect(log).toMatch(/\$ echo "greeting=/);
    const second = await pipeline("ok", [{ key: "SECRET_FILE", value: "x", variable_type: "file" }]);
    await waitForJobStatus(tier, projectId, second.id, ["success"]);
    const secondLog = await tier.api.Jobs.showLog(projectId, second.id);
    expect(secondLog).toMatch(/run \d+\nrun \d+/);
    expect(readdirSync(tier.dirs.builds)).toEqual([]);
  });

  it("reports a failing script as failed with its exit code", async () => {
    const job = await pipeline("fails");
    const done = await waitForJobStatus(tier, projectId, job.id, ["success", "failed"]);
    expect([done.status, done.failure_reason]).toEqual(["failed", "script_failure"]);
    expect(await tier.api.Jobs.showLog(projectId, job.id)).toContain("exit code 7");
  });

  it("cancels a running job: the script and its background processes stop, after_script runs", async () => {
    const job = await pipeline("slow");
    await waitFor(
      "the script to start",
      async () =>
        ((await tier.api.Jobs.showLog(projectId, job.id)) as string).includes("started") || undefined,
    );
    await tier.api.Jobs.cancel(projectId, job.id);
    await waitForJobStatus(tier, projectId, job.id, ["canceled"]);
    expect(await tier.api.Jobs.showLog(projectId, job.id)).toContain(`after_script ran for ${job.id}`);
    await waitFor("the build folder to go", async () =>
      existsSync(`${tier.dirs.builds}/${job.id}`) ? undefined : true,
    );
    const leftover = spawnSync("pgrep", ["-f", "sleep 3001"], { encoding: "utf8" });
    expect(leftover.stdout).toBe("");
  });

  it("enforces the job timeout", async () => {
    const job = await pipeline("timeout");
    const done = await waitForJobStatus(tier, projectId, job.id, ["failed", "success"]);
    expect([done.status, done.failure_reason]).toEqual(["failed", "job_execution_timeout"]);
  });
});
