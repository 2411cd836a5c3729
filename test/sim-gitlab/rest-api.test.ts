import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePipeline } from "../../src/ci/index.ts";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { nodejsMongo } from "../ci/spec-fixtures.ts";

let sim: GitLabSimulator;
let api: InstanceType<typeof Gitlab>;

const CONFIG = `stages: [build, deploy]
variables:
  GLOBAL: g
build:
  stage: build
  image: alpine:3
  script: [echo build]
  tags: [t1]
deploy:
  stage: deploy
  script: echo deploy
  tags: [t1]
`;

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: 300 }).start();
  api = new Gitlab({ host: sim.url, token: sim.rootToken });
});
afterAll(() => sim.stop());

// The simulator runs in this process: child tools must run asynchronously or they would wait on us forever.
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { encoding: "utf8", timeout: 20_000, env }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function curl(...args: string[]) {
  const r = await run("curl", ["-s", "-i", ...args]);
  const [head = "", body = ""] = r.stdout.split(/\r\n\r\n/);
  return { status: Number(/HTTP\/1.1 (\d+)/.exec(head)?.[1]), head, body };
}

async function projectWithConfig(name: string, config: string, branch = "main") {
  const project = await api.Projects.create({ name });
  await api.Commits.create(
    project.id,
    branch,
    "add CI config",
    [{ action: "create", filePath: ".gitlab-ci.yml", content: config }],
    {
      startBranch: "main",
    },
  );
  return project;
}

describe("GitLab simulator REST API through @gitbeaker/rest", () => {
  it("knows the token's user and answers 401 in GitLab's shape without one", async () => {
    const me = await api.Users.showCurrentUser();
    expect(me.username).toBe("root");
    const r = await curl(`${sim.url}/api/v4/user`);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toEqual({ message: "401 Unauthorized" });
  });

  it("creates projects, commits files, reads them back and clones them with git", async () => {
    const project = await api.Projects.create({ name: "files" });
    expect(project.path_with_namespace).toBe("root/files");
    const commit = await api.Commits.create(
      project.id,
      "feature",
      "two files",
      [
        { action: "create", filePath: "a.txt", content: "alpha\n" },
        {
          action: "create",
          filePath: "dir/b.bin",
          content: Buffer.from([0, 1, 2]).toString("base64"),
          encoding: "base64",
        },
      ],
      { startBranch: "main" },
    );
    expect(commit.id).toMatch(/^[0-9a-f]{40}$/);
    const file = await api.RepositoryFiles.show(project.id, "dir/b.bin", "feature");
    expect(Buffer.from(file.content as string, "base64")).toEqual(Buffer.from([0, 1, 2]));
    const dir = mkdtempSync(join(tmpdir(), "wsparity-clone-"));
    const url = `${sim.url.replace("http://", `http://root:${sim.rootToken}@`)}/root/files.git`;
    const clone = await run("git", ["clone", "-q", "-b", "feature", url, join(dir, "c")]);
    expect(clone.stderr).toBe("");
    expect(readFileSync(join(dir, "c/a.txt"), "utf8")).toBe("alpha\n");
    expect((await run("git", ["-C", join(dir, "c"), "rev-parse", "HEAD"])).stdout.trim()).toBe(commit.id);
  });

  it("refuses a git clone without valid credentials", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsparity-clone-"));
    const url = `${sim.url.replace("http://", "http://root:wrong@")}/root/files.git`;
    const clone = await run("git", ["clone", "-q", url, join(dir, "c")], {
      ...process.env,
      GIT_TERMINAL_PROMPT: "0",
    });
    expect(clone.status).not.toBe(0);
    expect(clone.stderr).toMatch(/Authentication failed|Access denied|401/);
  });

  it("creates, lists, shows, cancels and retries pipelines; stages run in order", async () => {
    const project = await projectWithConfig("pipes", CONFIG);
    const pushed = await api.Pipelines.all(project.id);
    expect(pushed.map((p) => p.source)).toEqual(["push"]);
    const pipeline = await api.Pipelines.create(project.id, "main", {
      variables: [{ key: "FROM_API", value: "1" }],
    });
    expect(pipeline.status).toBe("pending");
    expect((await api.Pipelines.show(project.id, pipeline.id)).source).toBe("api");
    const jobs = await api.Jobs.all(project.id, { pipelineId: pipeline.id });
    expect(jobs.map((j) => [j.name, j.status])).toEqual([
      ["build", "pending"],
      ["deploy", "created"],
    ]);
    const canceled = await api.Pipelines.cancel(project.id, pipeline.id);
    expect(canceled.status).toBe("canceled");
    const retried = await api.Pipelines.retry(project.id, pipeline.id);
    expect(retried.status).toBe("pending");
    const after = await api.Jobs.all(project.id, { pipelineId: pipeline.id });
    expect(after.map((j) => j.status)).toEqual(["pending", "created"]);
    expect(after[0]!.id).not.toBe(jobs[0]!.id);
    const job = await api.Jobs.show(project.id, after[0]!.id);
    expect(job.pipeline.id).toBe(pipeline.id);
    await api.Jobs.cancel(project.id, job.id);
    expect((await api.Jobs.show(project.id, job.id)).status).toBe("canceled");
    expect((await api.Jobs.retry(project.id, job.id)).status).toBe("pending");
  });

  it("creates runners with glrt- tokens and verifies them", async () => {
    const runner = await api.Users.createCIRunner("instance_type", { tagList: ["a", "b"], description: "r" });
    expect(runner.token).toMatch(/^glrt-/);
    // gitbeaker's types omit the token that POST /runners/verify takes in its body.
    const verify = (token: string) =>
      api.Runners.verify({ token } as never) as unknown as Promise<{ id: number }>;
    expect((await verify(runner.token as string)).id).toBe(runner.id);
    await expect(verify("glrt-nope")).rejects.toThrow("403 Forbidden");
  });

  it("rejects unknown keywords the way GitLab's lint does", async () => {
    const project = await projectWithConfig("lint", "job:\n  script: x\n  imagee: alpine\n", "lint-branch");
    const r = await curl(
      "-X",
      "POST",
      "-H",
      `PRIVATE-TOKEN: ${sim.rootToken}`,
      `${sim.url}/api/v4/projects/${project.id}/pipeline?ref=lint-branch`,
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toEqual({
      message: { base: ["jobs:job config contains unknown keys: imagee"] },
    });
  });

  it("says when rules leave no job, and when a stage does not exist", async () => {
    const project = await projectWithConfig(
      "rules",
      'job:\n  script: x\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "web"\n',
    );
    await expect(api.Pipelines.create(project.id, "main")).rejects.toThrow(
      /rules configuration prevented any jobs/,
    );
    const staged = await projectWithConfig("staged", "job:\n  stage: nowhere\n  script: x\n", "s");
    await expect(api.Pipelines.create(staged.id, "s")).rejects.toThrow(/chosen stage nowhere does not exist/);
  });

  it("answers malformed requests with GitLab-shaped 4xx", async () => {
    const token = ["-H", `PRIVATE-TOKEN: ${sim.rootToken}`];
    const noRef = await curl("-X", "POST", ...token, `${sim.url}/api/v4/projects/1/pipeline`);
    expect([noRef.status, JSON.parse(noRef.body)]).toEqual([400, { error: "ref is missing" }]);
    const badJson = await curl(
      "-X",
      "POST",
      ...token,
      "-H",
      "Content-Type: application/json",
      "-d",
      "{not json",
      `${sim.url}/api/v4/projects`,
    );
    // GitLab's HandleMalformedStrings middleware answers before the API sees the body.
    expect([badJson.status, badJson.body]).toEqual([400, "Bad Request"]);
    const noProject = await curl(...token, `${sim.url}/api/v4/projects/999`);
    expect([noProject.status, JSON.parse(noProject.body)]).toEqual([
      404,
      { message: "404 Project Not Found" },
    ]);
    const badVar = await curl(
      "-X",
      "POST",
      ...token,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"ref":"main","variables":[{"key":"a-b","value":"x"}]}',
      `${sim.url}/api/v4/projects/1/pipeline`,
    );
    expect(badVar.status).toBe(400);
  });

  it("accepts what the CI path generates, and only pipelines started through the API run it", async () => {
    const generated = generatePipeline(nodejsMongo(), { executor: "docker", arch: "amd64" });
    const project = await projectWithConfig("generated", generated.yaml, "workspace-1");
    expect(await api.Pipelines.all(project.id)).toEqual([]);
    const pipeline = await api.Pipelines.create(project.id, "workspace-1");
    const [job] = await api.Jobs.all(project.id, { pipelineId: pipeline.id });
    expect(job).toMatchObject({
      name: "workspace",
      stage: "workspace",
      status: "pending",
      tag_list: ["wsparity", "executor-docker", "arch-amd64"],
    });
  });
});
