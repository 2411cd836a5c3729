// The GitLab simulator against GitLab's documented behaviour, through clients nobody here wrote:
// python-gitlab (Debian's python3-gitlab) and @gitbeaker/rest for REST, plain HTTP as gitlab-runner and
// Workhorse speak it for the runner API, and gitlab-ci-local (npm) as a second reading of every CI YAML
// case. Every expected value cites the GitLab doc or source it comes from. Prints passing/tried per area;
// passes when each area reaches 95%.
// Run: npm run test:conformance:gitlab

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Gitlab } from "@gitbeaker/rest";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { INCLUDED_FILES, INVALID, VALID } from "./ci-cases.ts";

type Area = "REST" | "runner API" | "CI YAML valid" | "CI YAML invalid" | "gitlab-ci-local agrees";
interface Result {
  area: Area;
  name: string;
  source: string;
  ok: boolean;
  detail?: string;
}
const results: Result[] = [];
const here = dirname(fileURLToPath(import.meta.url));
const LONG_POLL_MS = 1500;

let sim: GitLabSimulator;
let api: InstanceType<typeof Gitlab>;

async function check(
  area: Area,
  name: string,
  source: string,
  body: () => Promise<true | string> | true | string,
) {
  try {
    const outcome = await body();
    results.push({
      area,
      name,
      source,
      ok: outcome === true,
      ...(outcome === true ? {} : { detail: outcome }),
    });
  } catch (err) {
    results.push({ area, name, source, ok: false, detail: err instanceof Error ? err.message : String(err) });
  }
}

const same = (actual: unknown, expected: unknown) =>
  JSON.stringify(actual) === JSON.stringify(expected)
    ? (true as const)
    : `got ${JSON.stringify(actual)}, GitLab: ${JSON.stringify(expected)}`;

function run(command: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
    child.on("error", () => resolve({ code: -1, stdout: "", stderr: `${command} could not be started` }));
  });
}

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: LONG_POLL_MS, traceUpdateIntervalSeconds: 2 }).start();
  api = new Gitlab({ host: sim.url, token: sim.rootToken });
});
afterAll(async () => {
  await sim?.stop();
  const areas: Area[] = ["REST", "runner API", "CI YAML valid", "CI YAML invalid", "gitlab-ci-local agrees"];
  const lines = areas.map((area) => {
    const mine = results.filter((r) => r.area === area);
    return `  ${area.padEnd(24)} ${mine.filter((r) => r.ok).length}/${mine.length}`;
  });
  const failures = results
    .filter((r) => !r.ok)
    .map((r) => `  ✗ [${r.area}] ${r.name} (${r.source}): ${r.detail}`);
  process.stdout.write(
    `\nGitLab simulator conformance (passing/tried)\n${lines.join("\n")}\n${failures.join("\n")}\n`,
  );
});

describe("GitLab simulator conformance", () => {
  it("REST through python-gitlab (python3-gitlab)", async (ctx) => {
    const probe = await run("/usr/bin/python3", ["-c", "import gitlab"]);
    if (probe.code !== 0) ctx.skip("python3-gitlab is not installed: bash scripts/install-ci-path-tools.sh");
    const out = await run(
      "/usr/bin/python3",
      [join(here, "python_gitlab_cases.py"), sim.url, sim.rootToken],
      { timeoutMs: 120_000 },
    );
    const lines = out.stdout.split("\n").filter((l) => l.startsWith("{"));
    expect(lines.length, out.stderr).toBeGreaterThan(0);
    for (const line of lines) {
      const r = JSON.parse(line) as { name: string; source: string; ok: boolean; detail: string | null };
      results.push({
        area: "REST",
        name: `python-gitlab: ${r.name}`,
        source: r.source,
        ok: r.ok,
        ...(r.detail ? { detail: r.detail } : {}),
      });
    }
  }, 150_000);

  it("REST through @gitbeaker/rest", async () => {
    const project = await api.Projects.create({ name: "gb", initializeWithReadme: true });
    await check(
      "REST",
      "gitbeaker: Projects.show path_with_namespace",
      "doc/api/projects.md#get-a-single-project",
      async () => same((await api.Projects.show(project.id)).path_with_namespace, "root/gb"),
    );
    await check("REST", "gitbeaker: Branches.create and all", "doc/api/branches.md", async () => {
      await api.Branches.create(project.id, "feature", "main");
      return same((await api.Branches.all(project.id)).map((b) => b.name).sort(), ["feature", "main"]);
    });
    await check(
      "REST",
      "gitbeaker: RepositoryFiles.show of a missing file is 404",
      "doc/api/repository_files.md",
      async () => {
        try {
          await api.RepositoryFiles.show(project.id, "nope.txt", "main");
          return "no error";
        } catch (err) {
          return same((err as { cause?: { response?: { status?: number } } }).cause?.response?.status, 404);
        }
      },
    );
    await check(
      "REST",
      "gitbeaker: Commits.all lists newest first",
      "doc/api/commits.md#list-repository-commits",
      async () => {
        await api.Commits.create(project.id, "main", "second", [
          { action: "create", filePath: "a.txt", content: "a" },
        ]);
        return same(
          (await api.Commits.all(project.id, { refName: "main" })).map((c) => c.title),
          ["second", "Initial commit"],
        );
      },
    );
    await check(
      "REST",
      "gitbeaker: Runners.all for admins",
      "doc/api/runners.md#list-all-runners",
      async () => {
        await api.Users.createCIRunner("instance_type", { tagList: ["gb"] });
        return same((await api.Runners.all({ tagList: ["gb"] })).length, 1);
      },
    );
    await check(
      "REST",
      "gitbeaker: unauthenticated is 401",
      "doc/api/rest/troubleshooting.md#status-codes",
      async () => {
        const res = await fetch(`${sim.url}/api/v4/projects`);
        return same([res.status, await res.json()], [401, { message: "401 Unauthorized" }]);
      },
    );
  }, 60_000);

  it("the runner job API as gitlab-runner and Workhorse speak it", async () => {
    const project = await api.Projects.create({ name: "runner-conformance", initializeWithReadme: true });
    const registered = await api.Users.createCIRunner("instance_type", { tagList: ["conf"] });
    const token = registered.token as string;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${sim.url}/api/v4/${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const FACTS =
      "gitlab-facts §4.1 (gitlab-runner network/gitlab.go; Rails lib/api/ci/runner.rb; Workhorse internal/builds/register.go)";
    await check(
      "runner API",
      "runners/verify answers 200 with the id",
      "doc/api/runners.md#verify-authentication-for-a-registered-runner",
      async () => {
        const res = await post("runners/verify", { token });
        return same([res.status, (await res.json()).id], [200, registered.id]);
      },
    );
    await check("runner API", "jobs/request with an unknown token: 403", FACTS, async () =>
      same((await post("jobs/request", { token: "glrt-nope" })).status, 403),
    );
    let lastUpdate = "";
    await check(
      "runner API",
      "jobs/request without last_update: 204 at once with X-GitLab-Last-Update",
      FACTS,
      async () => {
        const started = Date.now();
        const res = await post("jobs/request", { token });
        lastUpdate = res.headers.get("x-gitlab-last-update") ?? "";
        return same(
          [res.status, Date.now() - started < LONG_POLL_MS, /^\d+$/.test(lastUpdate)],
          [204, true, true],
        );
      },
    );
    await check(
      "runner API",
      "jobs/request with the current last_update is held (long polling)",
      FACTS,
      async () => {
        const started = Date.now();
        const res = await post("jobs/request", { token, last_update: lastUpdate });
        return same([res.status, Date.now() - started >= LONG_POLL_MS - 50], [204, true]);
      },
    );
    await api.Commits.create(project.id, "main", "ci [skip ci]", [
      {
        action: "create",
        filePath: ".gitlab-ci.yml",
        content:
          "stages: [build, test]\nbuild:\n  stage: build\n  tags: [conf]\n  hooks:\n    pre_get_sources_script: [echo hook]\n  script: [make]\n  artifacts:\n    paths: [out/]\n    reports: {junit: junit.xml}\ntest:\n  stage: test\n  tags: [conf]\n  script: [check]\n",
      },
    ]);
    const pipeline = await api.Pipelines.create(project.id, "main");
    const res = await post("jobs/request", { token });
    const job = (await res.json()) as Record<string, any>;
    const variable = (key: string) =>
      (job.variables as { key: string; value: string; masked?: boolean }[]).find((v) => v.key === key);
    await check("runner API", "a pending job is handed out with 201", FACTS, () => same(res.status, 201));
    await check(
      "runner API",
      "git_info: depth 20 and +refs/pipelines/<id> first",
      "app/presenters/ci/build_runner_presenter.rb#refspecs; doc/ci/pipelines/settings.md#limit-the-number-of-changes-fetched-during-clone (default 20)",
      () =>
        same(
          [job.git_info.depth, job.git_info.refspecs],
          [
            20,
            [
              `+refs/pipelines/${pipeline.id}:refs/pipelines/${pipeline.id}`,
              "+refs/heads/main:refs/remotes/origin/main",
            ],
          ],
        ),
    );
    for (const key of [
      "CI_COMMIT_TITLE",
      "CI_COMMIT_BEFORE_SHA",
      "GITLAB_USER_LOGIN",
      "GITLAB_USER_EMAIL",
      "CI_PIPELINE_URL",
      "CI_JOB_STARTED_AT",
      "CI_PROJECT_PATH_SLUG",
      "CI_SERVER_FQDN",
      "CI_API_GRAPHQL_URL",
      "CI_COMMIT_TIMESTAMP",
      "CI_REGISTRY_USER",
      "CI_NODE_TOTAL",
    ])
      await check(
        "runner API",
        `payload has predefined ${key}`,
        "doc/ci/variables/predefined_variables.md",
        () => (variable(key) ? true : "missing"),
      );
    await check("runner API", "CI_JOB_TOKEN is masked", "doc/ci/jobs/ci_job_token.md", () =>
      same(variable("CI_JOB_TOKEN")?.masked, true),
    );
    await check(
      "runner API",
      "hooks: pre_get_sources_script",
      "doc/ci/yaml/_index.md#hookspre_get_sources_script; lib/api/entities/ci/job_request/hook.rb",
      () => same(job.hooks, [{ name: "pre_get_sources_script", script: ["echo hook"] }]),
    );
    await check(
      "runner API",
      "artifacts: archive (zip) and junit report (gzip)",
      "lib/api/entities/ci/job_request/artifacts.rb; doc/ci/yaml/artifacts_reports.md",
      () =>
        same(
          (job.artifacts as { artifact_type: string; artifact_format: string }[]).map((a) => [
            a.artifact_type,
            a.artifact_format,
          ]),
          [
            ["archive", "zip"],
            ["junit", "gzip"],
          ],
        ),
    );
    await check(
      "runner API",
      "features carry failure_reasons",
      "lib/api/entities/ci/job_request/response.rb (features)",
      () =>
        Array.isArray(job.features?.failure_reasons) &&
        job.features.failure_reasons.includes("script_failure")
          ? true
          : "missing",
    );
    await check(
      "runner API",
      "PUT /jobs/<unknown>: 403",
      "lib/api/ci/runner.rb (authenticate_job!)",
      async () =>
        same(
          (
            await fetch(`${sim.url}/api/v4/jobs/999999999`, {
              method: "PUT",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ token: "x", state: "success" }),
            })
          ).status,
          403,
        ),
    );
    await check("runner API", "PATCH trace without Content-Range: 400", "gitlab-facts §4.3", async () =>
      same(
        (
          await fetch(`${sim.url}/api/v4/jobs/${job.id}/trace`, {
            method: "PATCH",
            headers: { "JOB-TOKEN": job.token },
            body: "x",
          })
        ).status,
        400,
      ),
    );
    await check("runner API", "PATCH trace with a gap: 416 and Range", "gitlab-facts §4.3", async () => {
      const gap = await fetch(`${sim.url}/api/v4/jobs/${job.id}/trace`, {
        method: "PATCH",
        headers: { "JOB-TOKEN": job.token, "Content-Range": "10-12" },
        body: "abc",
      });
      return same([gap.status, gap.headers.get("range")], [416, "0-0"]);
    });
    await check(
      "runner API",
      "PATCH trace: 202 with Range and X-GitLab-Trace-Update-Interval",
      "gitlab-facts §4.3",
      async () => {
        const ok = await fetch(`${sim.url}/api/v4/jobs/${job.id}/trace`, {
          method: "PATCH",
          headers: { "JOB-TOKEN": job.token, "Content-Range": "0-4" },
          body: "hello",
        });
        return same(
          [ok.status, ok.headers.get("range"), ok.headers.get("x-gitlab-trace-update-interval")],
          [202, "0-5", "2"],
        );
      },
    );
    await check(
      "runner API",
      "artifacts upload: multipart with the job token → 201",
      "lib/api/ci/runner.rb (POST /jobs/:id/artifacts)",
      async () => {
        const form = new FormData();
        form.set(
          "file",
          new Blob([zipSync({ "out/result.txt": new TextEncoder().encode("built\n") })]),
          "artifacts.zip",
        );
        const up = await fetch(
          `${sim.url}/api/v4/jobs/${job.id}/artifacts?artifact_type=archive&artifact_format=zip`,
          { method: "POST", headers: { "JOB-TOKEN": job.token }, body: form },
        );
        return same(up.status, 201);
      },
    );
    await check(
      "runner API",
      "PUT state success: 200, Job-Status and X-GitLab-Trace-Update-Interval",
      "gitlab-facts §4.2",
      async () => {
        const put = await fetch(`${sim.url}/api/v4/jobs/${job.id}`, {
          method: "PUT",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ token: job.token, state: "success" }),
        });
        return same(
          [put.status, put.headers.get("job-status"), put.headers.get("x-gitlab-trace-update-interval")],
          [200, "success", "2"],
        );
      },
    );
    const next = (await (await post("jobs/request", { token })).json()) as Record<string, any>;
    await check(
      "runner API",
      "the next job lists its dependency with artifacts_file",
      "lib/api/entities/ci/job_request/dependency.rb",
      () =>
        same(
          (next.dependencies as { name: string; artifacts_file?: { filename: string } }[]).map((d) => [
            d.name,
            d.artifacts_file?.filename,
          ]),
          [["build", "artifacts.zip"]],
        ),
    );
    await check(
      "runner API",
      "GET /jobs/:id/artifacts with the dependent job's token: 200",
      "lib/api/ci/runner.rb (GET /jobs/:id/artifacts)",
      async () =>
        same(
          (
            await fetch(`${sim.url}/api/v4/jobs/${job.id}/artifacts`, {
              headers: { "JOB-TOKEN": next.token },
            })
          ).status,
          200,
        ),
    );
    await check(
      "runner API",
      "GET /jobs/:id/artifacts with an unrelated token: 403",
      "lib/api/ci/runner.rb (authenticate_job_via_dependent_job!)",
      async () =>
        same(
          (
            await fetch(`${sim.url}/api/v4/jobs/${job.id}/artifacts`, {
              headers: { "JOB-TOKEN": "glcbt-unrelated" },
            })
          ).status,
          403,
        ),
    );
    await check(
      "runner API",
      "job artifacts API by ref and job name (raw file)",
      "doc/api/job_artifacts.md#download-a-single-artifact-file-from-specific-tag-or-branch",
      async () => {
        const raw = await fetch(
          `${sim.url}/api/v4/projects/${project.id}/jobs/artifacts/main/raw/out/result.txt?job=build`,
          { headers: { "PRIVATE-TOKEN": sim.rootToken } },
        );
        return same([raw.status, await raw.text()], [200, "built\n"]);
      },
    );
    await check(
      "runner API",
      "a failed job that may not fail fails the pipeline",
      "doc/ci/yaml/_index.md#allow_failure; lib/gitlab/ci/status/composite.rb",
      async () => {
        await fetch(`${sim.url}/api/v4/jobs/${next.id}`, {
          method: "PUT",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ token: next.token, state: "failed", failure_reason: "script_failure" }),
        });
        return same((await api.Pipelines.show(project.id, pipeline.id)).status, "failed");
      },
    );
    await check(
      "runner API",
      "DELETE /runners with the runner token: 204",
      "doc/api/runners.md#delete-a-runner-by-authentication-token",
      async () =>
        same(
          (
            await fetch(`${sim.url}/api/v4/runners`, {
              method: "DELETE",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ token }),
            })
          ).status,
          204,
        ),
    );
  }, 60_000);

  it("valid CI YAML: GitLab's jobs, stages, needs and statuses (and gitlab-ci-local's reading)", async () => {
    const project = await api.Projects.create({ name: "ci-valid", initializeWithReadme: true });
    const workdir = mkdtempSync(join(tmpdir(), "gitlab-ci-local-"));
    for (const [i, c] of VALID.entries()) {
      await api.Commits.create(project.id, "main", `case ${i} [skip ci]`, [
        { action: i === 0 ? "create" : "update", filePath: ".gitlab-ci.yml", content: c.yaml },
        ...(i === 0
          ? Object.entries(INCLUDED_FILES).map(([filePath, content]) => ({
              action: "create" as const,
              filePath,
              content,
            }))
          : []),
      ]);
      const variables = Object.entries(c.variables ?? {}).map(([key, value]) => ({ key, value }));
      let created: Record<string, [string, string]> = {};
      await check("CI YAML valid", c.name, c.source, async () => {
        const pipeline = await api.Pipelines.create(project.id, "main", { variables });
        const jobs = await api.Jobs.all(project.id, { pipelineId: pipeline.id });
        created = Object.fromEntries(jobs.map((j) => [j.name, [j.stage, j.status]])) as Record<
          string,
          [string, string]
        >;
        const sorted = (o: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
        const jobsOk = same(sorted(created), sorted(c.jobs));
        if (jobsOk !== true || !c.needs) return jobsOk;
        const lint = (await (
          await fetch(`${sim.url}/api/v4/projects/${project.id}/ci/lint`, {
            method: "POST",
            headers: { "PRIVATE-TOKEN": sim.rootToken, "Content-Type": "application/json" },
            body: JSON.stringify({ content: c.yaml, include_jobs: true }),
          })
        ).json()) as { jobs: { name: string; needs?: { name: string }[] }[] };
        const needs = Object.fromEntries(
          Object.keys(c.needs).map((name) => [
            name,
            lint.jobs.find((j) => j.name === name)?.needs?.map((n) => n.name),
          ]),
        );
        return same(needs, c.needs);
      });
      // gitlab-ci-local's reading of the same file: the same job names and stages (its rules evaluation is its own).
      const dir = join(workdir, String(i));
      mkdirSync(join(dir, "ci"), { recursive: true });
      writeFileSync(join(dir, ".gitlab-ci.yml"), c.yaml);
      for (const [path, content] of Object.entries(INCLUDED_FILES)) writeFileSync(join(dir, path), content);
      await run("git", ["init", "-q"], { cwd: dir });
      await run("git", ["add", "-A"], { cwd: dir });
      await check("gitlab-ci-local agrees", `valid: ${c.name}`, "gitlab-ci-local --list-json", async () => {
        const out = await run(
          process.execPath,
          [
            "--import",
            join(here, "node22-polyfill.mjs"),
            join(here, "../../node_modules/gitlab-ci-local/dist/index.js"),
            "--list-json",
            ...Object.entries(c.variables ?? {}).flatMap(([k, v]) => ["--variable", `${k}=${v}`]),
            "--variable",
            "CI_PIPELINE_SOURCE=api",
          ],
          { cwd: dir, timeoutMs: 90_000 },
        );
        const start = out.stdout.search(/^\[\s*(\{|\])/m);
        if (out.code !== 0 || start < 0)
          return `gitlab-ci-local failed: ${(out.stderr || out.stdout).slice(-300)}`;
        const listed = JSON.parse(out.stdout.slice(start)) as { name: string; stage: string; when: string }[];
        const theirs = Object.fromEntries(
          listed.filter((j) => j.when !== "never").map((j) => [j.name, j.stage]),
        );
        const ours = Object.fromEntries(Object.entries(c.jobs).map(([n, [stage]]) => [n, stage]));
        const sorted = (o: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
        return same(sorted(theirs), sorted(ours));
      });
    }
    rmSync(workdir, { recursive: true, force: true });
  }, 600_000);

  it("invalid CI YAML: GitLab's first error through POST /projects/:id/ci/lint", async () => {
    const project = await api.Projects.create({ name: "ci-invalid", initializeWithReadme: true });
    for (const c of INVALID) {
      await check("CI YAML invalid", c.name, c.source, async () => {
        const res = await fetch(`${sim.url}/api/v4/projects/${project.id}/ci/lint`, {
          method: "POST",
          headers: { "PRIVATE-TOKEN": sim.rootToken, "Content-Type": "application/json" },
          body: JSON.stringify({ content: c.yaml }),
        });
        const body = (await res.json()) as { valid: boolean; errors: string[] };
        return same([body.valid, body.errors[0]], [false, c.error]);
      });
    }
  }, 60_000);

  it("reaches 95% in every area", () => {
    for (const area of ["REST", "runner API", "CI YAML valid", "CI YAML invalid"] as Area[]) {
      const mine = results.filter((r) => r.area === area);
      if (mine.length === 0) continue;
      expect(
        mine.filter((r) => r.ok).length / mine.length,
        `${area}: ${mine
          .filter((r) => !r.ok)
          .map((r) => r.name)
          .join("; ")}`,
      ).toBeGreaterThanOrEqual(0.95);
    }
  });
});
