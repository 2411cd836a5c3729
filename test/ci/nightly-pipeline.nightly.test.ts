// The nightly on GitLab CI, end to end (issue 17): the project's tree, its own .gitlab-ci.yml unchanged,
// committed to the GitLab simulator; a pipeline schedule with WSPARITY_NIGHTLY_TIER=sim and one small
// scenario played twice; the project's runner (two `wsparity runner run` processes, shell executor) running
// every job, two at once. Checked: the merged report in nightly:report's artifacts equals a
// local `wsparity run` over the same cells, the junit report is registered on the job, the first night
// says it has nothing to compare with, and the second night compares with the first.
// Minutes of wall time: `npm run test:nightly`.

import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Report } from "../../src/report/model.ts";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { processKubeletUnavailable } from "../../src/sim/kubernetes/kubelet/process-backend.ts";
import { describeUnless } from "../support/skip.ts";

const PROJECT_ROOT = resolve(import.meta.dirname, "../..");
const SCENARIO = "scenarios/minimal.yaml";
const RUNNER_TAGS = ["wsparity", "tier-sim", "arch-amd64"];
const NIGHT_TIMEOUT_MS = 12 * 60_000;

let sim: GitLabSimulator;
let api: InstanceType<typeof Gitlab>;
let projectId: number;
let scheduleId: number;
let root: string;
const runners: { child: ChildProcess; output: string[] }[] = [];

/** Every tracked file of the working tree as a Commits API action (what a push of it would carry). */
function treeActions() {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: PROJECT_ROOT, encoding: "utf8" })
    .split("\0")
    .filter((f) => f !== "");
  return files.flatMap((filePath) => {
    const full = join(PROJECT_ROOT, filePath);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat?.isFile()) return []; // deleted in the working tree
    return [
      {
        action: "create" as const,
        filePath,
        content: readFileSync(full).toString("base64"),
        encoding: "base64" as const,
        execute_filemode: (stat.mode & 0o111) !== 0,
      },
    ];
  });
}

function startRunner(name: string, token: string): void {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o755 });
  const config = join(dir, "config.toml");
  // The runner machine holds the project's packages already (the pipeline's documented WSPARITY_NODE_MODULES).
  writeFileSync(
    config,
    [
      "concurrent = 1",
      "[[runners]]",
      `  name = "${name}"`,
      '  executor = "shell"',
      '  shell = "bash"',
      `  builds_dir = "${dir}/builds"`,
      `  cache_dir = "${dir}/cache"`,
      `  environment = ["WSPARITY_NODE_MODULES=${join(PROJECT_ROOT, "node_modules")}"]`,
      "",
    ].join("\n"),
  );
  const child = spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, "bin/wsparity.js"),
      "runner",
      "run",
      "--config",
      config,
      "--url",
      sim.url,
      "--token",
      token,
    ],
    {
      cwd: dir,
      // A runner machine's environment, not the test runner's.
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, LANG: "C.UTF-8" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  child.stdout!.on("data", (c: Buffer) => output.push(c.toString()));
  child.stderr!.on("data", (c: Buffer) => output.push(c.toString()));
  runners.push({ child, output });
}

interface JobInfo {
  id: number;
  name: string;
  status: string;
  tag_list: string[];
  started_at: string | null;
  finished_at: string | null;
  runner: { id: number } | null;
  artifacts: { file_type: string; filename: string; size: number }[];
}

/** Plays the schedule (as "Run pipeline schedule" does) and waits for the pipeline it made to finish. */
async function playNight() {
  const before = new Set(
    (await api.PipelineSchedules.allTriggeredPipelines(projectId, scheduleId)).map((p) => p.id),
  );
  await api.PipelineSchedules.run(projectId, scheduleId);
  const started = Date.now();
  let pipeline: { id: number; status: string } | undefined;
  for (;;) {
    const made = (await api.PipelineSchedules.allTriggeredPipelines(projectId, scheduleId)).find(
      (p) => !before.has(p.id),
    );
    if (made) {
      pipeline = (await api.Pipelines.show(projectId, made.id)) as unknown as { id: number; status: string };
      if (["success", "failed", "canceled"].includes(pipeline.status)) break;
    }
    if (Date.now() - started > NIGHT_TIMEOUT_MS)
      throw new Error(
        `the nightly pipeline did not finish in ${NIGHT_TIMEOUT_MS / 60_000} min; runners said:\n${runners.map((r) => r.output.join("")).join("\n")}`,
      );
    await new Promise((r) => setTimeout(r, 2000));
  }
  const jobs = (await api.Jobs.all(projectId, { pipelineId: pipeline.id })) as unknown as JobInfo[];
  const log = async (name: string) =>
    String(await api.Jobs.showLog(projectId, jobs.find((j) => j.name === name)!.id));
  // Every job's log kept where a failure can be read afterwards (reports/ is not tracked).
  const logs = join(PROJECT_ROOT, "reports", "nightly-pipeline-test", `pipeline-${pipeline.id}`);
  mkdirSync(logs, { recursive: true });
  for (const job of jobs)
    writeFileSync(join(logs, `${job.name.replace(/[^\w.-]+/g, "_")}.log`), await log(job.name));
  return { pipeline, jobs, log, seconds: (Date.now() - started) / 1000 };
}

const raw = async (path: string, job: string) => {
  const res = await fetch(
    `${sim.url}/api/v4/projects/${projectId}/jobs/artifacts/main/raw/${path}?job=${encodeURIComponent(job)}`,
    { headers: { "PRIVATE-TOKEN": sim.rootToken } },
  );
  if (res.status !== 200)
    throw new Error(`GET artifacts ${path} of ${job}: ${res.status} ${await res.text()}`);
  return res.text();
};

/**
 * What two runs over the same cells must agree on: every verdict (cell status, each feature's status,
 * reason and payload outcome), the gaps, the scenarios and the summary. Left out, as merge's own
 * property test leaves out run ids and times: what the probes measured (durations, ports, pids and
 * timings in the evidence, tunnel figures), which differ from one run to the next.
 */
const verdicts = (r: Report) => ({
  schemaVersion: r.schemaVersion,
  tier: r.tier,
  cells: r.cells.map((c) => ({
    scenario: c.scenario,
    path: c.path,
    executor: c.executor,
    arch: c.arch,
    status: c.status,
    reason: c.reason,
    features: c.features.map((f) => ({ id: f.id, status: f.status, reason: f.reason, outcome: f.outcome })),
  })),
  gaps: r.gaps,
  scenarios: r.scenarios,
  summary: r.summary,
});

/** The most jobs that ran at the same moment. */
function mostAtOnce(jobs: JobInfo[]): number {
  const edges = jobs.flatMap((j) => [
    [Date.parse(j.started_at!), 1] as const,
    [Date.parse(j.finished_at!), -1] as const,
  ]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) {
    now += step;
    most = Math.max(most, now);
  }
  return most;
}

const PARTS = [
  "nightly:part: [sim, reference, amd64]",
  "nightly:part: [sim, shell, amd64]",
  "nightly:part: [sim, kubernetes, amd64]",
];

// The sim tier's process kubelet (namespaces) needs root; the report job fetches last night's report with curl.
const missing =
  processKubeletUnavailable() ??
  (spawnSync("sh", ["-c", "command -v curl && command -v git"]).status !== 0
    ? "needs curl and git"
    : undefined);

describeUnless(missing)("the nightly pipeline on the GitLab simulator (sim tier)", () => {
  let firstReport: Report;

  beforeAll(async () => {
    sim = await new GitLabSimulator({ longPollMs: 1000, traceUpdateIntervalSeconds: 1 }).start();
    api = new Gitlab({ host: sim.url, token: sim.rootToken });
    const project = await api.Projects.create({ name: "wsparity" });
    projectId = project.id;
    await api.Commits.create(projectId, "main", "wsparity [skip ci]", treeActions());
    // Pods of the inner sim tier run as UID 5001 and read the job's checkout: the folders must be traversable.
    root = mkdtempSync(join(tmpdir(), "wsparity-nightly-"));
    chmodSync(root, 0o755);
    for (const name of ["nightly-runner-1", "nightly-runner-2"]) {
      const registered = await api.Users.createCIRunner("instance_type", {
        tagList: RUNNER_TAGS,
        runUntagged: true,
      });
      startRunner(name, registered.token as string);
    }
    const schedule = await api.PipelineSchedules.create(projectId, "nightly", "main", "0 2 * * *");
    scheduleId = schedule.id;
    await api.PipelineScheduleVariables.create(projectId, scheduleId, "WSPARITY_NIGHTLY_TIER", "sim");
    await api.PipelineScheduleVariables.create(projectId, scheduleId, "WSPARITY_NIGHTLY_SCENARIOS", SCENARIO);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      runners.map(
        ({ child }) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            // A runner stops within its grace after SIGTERM (the hang once seen here, a job's trace timer left
            // running, is fixed and guarded by test/runner/runner-shutdown.test.ts); one that does not is
            // ended (by pid) so the cleanup finishes, and says so in the test's output.
            const kill = setTimeout(() => {
              process.stderr.write(`runner pid ${child.pid} did not stop within 20 s of SIGTERM: SIGKILL\n`);
              child.kill("SIGKILL");
            }, 20_000);
            child.once("exit", () => {
              clearTimeout(kill);
              done();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
    await sim?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it(
    "first night: runs every job on the project's runners, several at once, and the merged report equals a local run",
    async () => {
      const night = await playNight();
      const summary = night.jobs.map((j) => `${j.name}: ${j.status}`).join("\n");
      const report = night.jobs.find((j) => j.name === "nightly:report")!;
      expect(night.pipeline.status, `${summary}\n${await night.log("nightly:report")}`).toBe("success");
      expect(night.jobs.map((j) => j.name).sort()).toEqual([...PARTS, "nightly:report"].sort());
      const parts = night.jobs.filter((j) => PARTS.includes(j.name));
      for (const part of parts) {
        expect(part.status, await night.log(part.name)).toBe("success");
        // The matrix's $TIER and $ARCH in the tags, expanded by GitLab when it made the job.
        expect(part.tag_list).toEqual(RUNNER_TAGS);
      }
      expect(mostAtOnce(parts)).toBeGreaterThanOrEqual(2);
      expect(new Set(night.jobs.map((j) => j.runner?.id)).size).toBe(2);
      // Exit 1 (allowed) only when the gate's stage is not reached; anything else fails the pipeline.
      expect(["success", "failed"]).toContain(report.status);

      const reportLog = await night.log("nightly:report");
      expect(reportLog).toContain("using the runner's packages");
      expect(reportLog).toContain("first night: no earlier nightly report on main to compare with");
      for (const part of PARTS) expect(reportLog).toContain(`Downloading artifacts for ${part}`);

      // The merged report, through the job artifacts API, against a local run over the same cells.
      firstReport = JSON.parse(await raw("reports/nightly/report.json", "nightly:report")) as Report;
      expect(firstReport.environment.merged).toHaveLength(3);
      const localOut = join(root, "local");
      // Not execFileSync: the simulator serves the runners from this process meanwhile.
      await promisify(execFile)(
        process.execPath,
        [
          "bin/wsparity.js",
          "run",
          "--tier",
          "sim",
          "--arch",
          "amd64",
          "--progress",
          "quiet",
          "--out",
          localOut,
          SCENARIO,
        ],
        { cwd: PROJECT_ROOT, timeout: 300_000 },
      );
      const local = JSON.parse(readFileSync(join(localOut, "report.json"), "utf8")) as Report;
      expect(firstReport.cells.map((c) => `${c.scenario} ${c.path} ${c.executor} ${c.arch}`)).toEqual(
        local.cells.map((c) => `${c.scenario} ${c.path} ${c.executor} ${c.arch}`),
      );
      // On a difference, what each side's probes saw, to tell a real difference from a starved machine.
      const evidence = (r: Report) =>
        r.cells
          .flatMap((c) =>
            c.features.map((f) => `${c.path} ${c.executor ?? ""} ${f.id} ${f.status}: ${f.evidence}`),
          )
          .join("\n");
      expect(
        verdicts(firstReport),
        `pipeline:\n${evidence(firstReport)}\nlocal:\n${evidence(local)}`,
      ).toEqual(verdicts(local));

      // The junit report is registered on the job as its artifacts:reports:junit (gzip, as the runner uploads it).
      const junit = report.artifacts.find((a) => a.file_type === "junit");
      expect(junit, JSON.stringify(report.artifacts)).toMatchObject({ filename: "junit.gz" });
      const stored = sim.store.jobs.get(report.id)!.artifacts.find((a) => a.fileType === "junit")!;
      const xml = gunzipSync(stored.data).toString("utf8");
      expect(xml).toMatch(/<testsuites [^>]*tests="30"/);
      for (const cell of firstReport.cells)
        expect(xml).toContain(
          `<testsuite name="${cell.scenario} ${cell.path === "kubernetes" ? "kubernetes" : `ci ${cell.executor}`}/${cell.arch}"`,
        );
    },
    NIGHT_TIMEOUT_MS + 360_000,
  );

  it(
    "second night: fetches the first night's report through the job artifacts API and compares with it",
    async () => {
      expect(firstReport, "the first night ran").toBeDefined();
      const night = await playNight();
      expect(night.pipeline.status).toBe("success");
      const reportLog = await night.log("nightly:report");
      expect(reportLog).not.toContain("first night");
      expect(reportLog).not.toContain("not compared");
      const compare = await raw("reports/nightly/compare.txt", "nightly:report");
      expect(compare).not.toMatch(/first night|not compared/);
      expect(compare).toMatch(/^parity: [\d.]+% → [\d.]+%/m);
      expect(compare).toMatch(/^verdict: /m);
    },
    NIGHT_TIMEOUT_MS + 60_000,
  );
});
