// Artifacts end to end on the sim tier: the project's runner (shell executor) uploads a job's artifacts
// and downloads them into the job that needs it, as gitlab-runner does; GitLab's job artifacts API then
// serves a file of them by ref and job name (doc/api/job_artifacts.md).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShellExecutor } from "../../src/runner/index.ts";
import { type SimTier, startSimTier, waitFor } from "./helpers.ts";

let tier: SimTier;
let projectId: number;

const CONFIG = `stages: [build, test]
build:
  stage: build
  tags: [artifacts-test]
  parallel:
    matrix:
      - ARCH: [amd64, arm64]
  script:
    - mkdir -p out && echo "built for $ARCH at $CI_COMMIT_SHORT_SHA" > out/result-$ARCH.txt
    - echo '<testsuite name="s"/>' > junit.xml
  artifacts:
    paths: [out/]
    reports:
      junit: junit.xml
report:
  stage: test
  tags: [artifacts-test]
  needs: ["build"]
  script:
    - cat out/result-amd64.txt out/result-arm64.txt
    - git cat-file -t "refs/pipelines/$CI_PIPELINE_ID"
`;

beforeAll(async () => {
  tier = await startSimTier(new ShellExecutor(), ["artifacts-test"]);
  const project = await tier.api.Projects.create({ name: "artifacts-project" });
  projectId = project.id;
  await tier.api.Commits.create(projectId, "main", "CI config [skip ci]", [
    { action: "create", filePath: ".gitlab-ci.yml", content: CONFIG },
  ]);
});
afterAll(() => tier.stop());

describe("job artifacts through the project's runner", () => {
  it("uploads, hands them to the job that needs them, and serves a file by ref and job name", async () => {
    const pipeline = await tier.api.Pipelines.create(projectId, "main");
    const done = await waitFor(
      "the pipeline to finish",
      async () => {
        const p = await tier.api.Pipelines.show(projectId, pipeline.id);
        return ["success", "failed"].includes(p.status as string) ? p : undefined;
      },
      60_000,
    );
    const jobs = await tier.api.Jobs.all(projectId, { pipelineId: pipeline.id });
    const report = jobs.find((j) => j.name === "report")!;
    // Entities::Ci::JobArtifact: the archive and the junit report each registered on the job.
    const build = jobs.find((j) => j.name === "build: [amd64]") as unknown as {
      artifacts: { file_type: string; file_format: string }[];
    };
    expect(build.artifacts.map((a) => `${a.file_type}/${a.file_format}`).sort()).toEqual([
      "archive/zip",
      "junit/gzip",
    ]);
    const log = (await tier.api.Jobs.showLog(projectId, report.id)) as string;
    expect(done.status, log).toBe("success");
    expect(log).toContain("Fetching changes with git depth set to 20...");
    expect(log).toMatch(/built for amd64 at [0-9a-f]{8}\nbuilt for arm64 at [0-9a-f]{8}/);
    // The runner fetched refs/pipelines/<id> (the first refspec GitLab sends) over smart HTTP, shallow.
    expect(log).toContain("\ncommit\n");
    const raw = await fetch(
      `${tier.sim.url}/api/v4/projects/${projectId}/jobs/artifacts/main/raw/out/result-arm64.txt?job=${encodeURIComponent("build: [arm64]")}`,
      { headers: { "PRIVATE-TOKEN": tier.sim.rootToken } },
    );
    expect(raw.status).toBe(200);
    expect(await raw.text()).toMatch(/^built for arm64 at [0-9a-f]{8}\n$/);
    const missing = await fetch(
      `${tier.sim.url}/api/v4/projects/${projectId}/jobs/artifacts/main/raw/out/nope.txt?job=report`,
      {
        headers: { "PRIVATE-TOKEN": tier.sim.rootToken },
      },
    );
    expect(missing.status).toBe(404);
  });

  it("serves the newest successful pipeline's job, even one allowed to fail, and not the running pipeline's own", async () => {
    const nightly = await tier.api.Projects.create({ name: "artifacts-nightly" });
    // Each night reads the last night's file through the API, as the nightly's report job does, then fails allowed.
    const config = `night:
  tags: [artifacts-test]
  allow_failure: {exit_codes: [1]}
  artifacts: {when: always, paths: [out/]}
  script:
    - mkdir -p out && echo "night $CI_PIPELINE_ID" > out/night.txt
    - |
      curl --fail --silent --header "JOB-TOKEN: $CI_JOB_TOKEN" --output out/last.txt "$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/main/raw/out/night.txt?job=night" || echo none > out/last.txt
    - exit 1
`;
    await tier.api.Commits.create(nightly.id, "main", "nightly [skip ci]", [
      { action: "create", filePath: ".gitlab-ci.yml", content: config },
    ]);
    const night = async () => {
      const { id } = await tier.api.Pipelines.create(nightly.id, "main");
      const done = await waitFor(
        `pipeline ${id} to finish`,
        async () => {
          const p = await tier.api.Pipelines.show(nightly.id, id);
          return ["success", "failed"].includes(p.status as string) ? p : undefined;
        },
        60_000,
      );
      const [job] = await tier.api.Jobs.all(nightly.id, { pipelineId: id });
      expect([done.status, job!.status]).toEqual(["success", "failed"]);
      const raw = (path: string) =>
        fetch(`${tier.sim.url}/api/v4/projects/${nightly.id}/jobs/artifacts/main/raw/${path}?job=night`, {
          headers: { "PRIVATE-TOKEN": tier.sim.rootToken },
        }).then((r) => r.text());
      return { id, last: await raw("out/last.txt"), served: await raw("out/night.txt") };
    };
    const first = await night();
    expect([first.last, first.served]).toEqual(["none\n", `night ${first.id}\n`]);
    const second = await night();
    expect([second.last, second.served]).toEqual([`night ${first.id}\n`, `night ${second.id}\n`]);
  });
});
