// The runner job API exactly as GitLab serves it: POST /jobs/request (long polling, 201 job / 204 none),
// PUT /jobs/:id (state, failure_reason, exit_code), PATCH /jobs/:id/trace (Content-Range, 416 on a gap,
// Range in the answer), runner verification and unregistration, Job-Status on every job answer.

import { ApiError, forbidden, missing, notFound } from "./errors.ts";
import { FAILURE_REASONS } from "./failure-reasons.ts";
import type { Reply, RequestContext, Router } from "./http.ts";
import { DEFAULT_JOB_TIMEOUT_SECONDS, type Job, type Runner, type Store } from "./store.ts";

const API = "/api/v4";

export interface RunnerApiOptions {
  /** How long POST /jobs/request holds a request when no job is waiting (Workhorse's long polling). */
  longPollMs: number;
  /** X-GitLab-Trace-Update-Interval: how often, in seconds, runners should send the trace. */
  traceUpdateIntervalSeconds: number;
}

export function registerRunnerApi(router: Router, store: Store, options: RunnerApiOptions): void {
  const runnerFrom = (ctx: RequestContext): Runner => {
    if (ctx.input.token === undefined) throw missing("token");
    const runner = store.runnerByToken(ctx.input.token);
    if (!runner) throw forbidden();
    runner.contactedAt = new Date();
    return runner;
  };
  const jobHeaders = (job: Job) => ({ "Job-Status": job.status });

  router
    .on("POST", `${API}/runners/verify`, (ctx) => {
      const runner = runnerFrom(ctx);
      return { status: 200, body: { id: runner.id, token: runner.token, token_expires_at: null } };
    })
    .on("DELETE", `${API}/runners`, (ctx) => {
      const runner = runnerFrom(ctx);
      store.runners.delete(runner.id);
      return { status: 204 };
    })
    .on("DELETE", `${API}/runners/managers`, (ctx) => {
      runnerFrom(ctx);
      return { status: 204 };
    })
    .on("POST", `${API}/jobs/request`, async (ctx) => {
      const runner = runnerFrom(ctx);
      const info = (ctx.input.info ?? {}) as { features?: Record<string, boolean> };
      const deadline = Date.now() + options.longPollMs;
      for (;;) {
        // A runner that hung up must not be handed a job: nobody would run it.
        if (ctx.res.destroyed || ctx.req.socket.destroyed) break;
        const job = store.assign(runner, info.features ?? {});
        if (job)
          return { status: 201, body: jobPayload(store, job, runner, ctx.baseUrl), headers: jobHeaders(job) };
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        await waitForQueue(store, remaining, ctx);
      }
      return { status: 204, headers: { "X-GitLab-Last-Update": String(store.queueVersion) } };
    })
    .on("PUT", `${API}/jobs/:job_id`, (ctx) => {
      const job = store.jobs.get(Number(ctx.params.job_id));
      if (!job) throw notFound("");
      if (store.jobByToken(job.id, ctx.input.token) === undefined) throw forbidden();
      if (job.status !== "running" && job.status !== "canceling") {
        throw new ApiError(403, { message: "403 Forbidden  - Job is not running" }, jobHeaders(job));
      }
      const state = ctx.input.state;
      if (state === "success" || state === "failed") {
        const reason = typeof ctx.input.failure_reason === "string" ? ctx.input.failure_reason : null;
        const exitCode = typeof ctx.input.exit_code === "number" ? ctx.input.exit_code : null;
        store.complete(
          job,
          state,
          state === "failed" ? (FAILURE_REASONS.includes(reason ?? "") ? reason : "unknown_failure") : null,
          exitCode,
        );
      } else if (state !== undefined && state !== "running" && state !== "pending") {
        throw new ApiError(400, { error: "state does not have a valid value" });
      }
      return { status: 200, body: {}, headers: jobHeaders(job) };
    })
    .on("PATCH", `${API}/jobs/:job_id/trace`, (ctx): Reply => {
      const job = store.jobs.get(Number(ctx.params.job_id));
      if (!job) throw notFound("");
      const token = ctx.req.headers["job-token"] ?? ctx.input.token;
      if (store.jobByToken(job.id, token) === undefined) throw forbidden();
      if (job.status !== "running" && job.status !== "canceling") {
        throw new ApiError(403, { message: "403 Forbidden  - Job is not running" }, jobHeaders(job));
      }
      const range = ctx.req.headers["content-range"];
      if (!range) throw new ApiError(400, { message: "400 Missing header Content-Range" });
      const match = /^(\d+)-(\d+)$/.exec(String(range).trim());
      if (!match) throw new ApiError(400, { message: "400 Bad Request - Content-Range header is invalid" });
      const start = Number(match[1]);
      if (start !== job.trace.length) {
        return {
          status: 416,
          body: { message: "416 Range Not Satisfiable" },
          headers: { ...jobHeaders(job), Range: `0-${job.trace.length}` },
        };
      }
      job.trace = Buffer.concat([job.trace, ctx.rawBody]);
      return {
        status: 202,
        headers: {
          ...jobHeaders(job),
          Range: `0-${job.trace.length}`,
          "X-GitLab-Trace-Update-Interval": String(options.traceUpdateIntervalSeconds),
        },
      };
    });
}

function waitForQueue(store: Store, ms: number, ctx: RequestContext): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      store.off("queued", done);
      ctx.res.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    store.on("queued", done);
    ctx.res.on("close", done);
  });
}

function jobPayload(store: Store, job: Job, runner: Runner, baseUrl: string) {
  const pipeline = store.pipelines.get(job.pipelineId)!;
  const project = store.projects.get(job.projectId)!;
  const def = job.definition;
  const host = new URL(baseUrl);
  const repoUrl = `${host.protocol}//gitlab-ci-token:${job.token}@${host.host}/root/${project.path}.git`;
  let timeout = def.timeoutSeconds ?? DEFAULT_JOB_TIMEOUT_SECONDS;
  if (runner.maximumTimeout) timeout = Math.min(timeout, runner.maximumTimeout);
  const pub = (key: string, value: string) => ({ key, value, public: true, masked: false });
  const predefined = [
    pub("CI_PIPELINE_ID", String(pipeline.id)),
    pub("CI_PIPELINE_IID", String(pipeline.iid)),
    pub("CI_PIPELINE_SOURCE", pipeline.source),
    pub("CI_JOB_ID", String(job.id)),
    pub("CI_JOB_URL", `${baseUrl}/root/${project.path}/-/jobs/${job.id}`),
    { key: "CI_JOB_TOKEN", value: job.token, public: false, masked: true },
    pub("CI_JOB_NAME", def.name),
    pub("CI_JOB_STAGE", def.stage),
    pub("CI_JOB_TIMEOUT", String(timeout)),
    pub("CI_COMMIT_SHA", pipeline.sha),
    pub("CI_COMMIT_SHORT_SHA", pipeline.sha.slice(0, 8)),
    pub("CI_COMMIT_REF_NAME", pipeline.ref),
    pub("CI_COMMIT_BRANCH", pipeline.ref),
    pub(
      "CI_COMMIT_REF_SLUG",
      pipeline.ref
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .slice(0, 63)
        .replace(/^-|-$/g, ""),
    ),
    pub("CI_DEFAULT_BRANCH", project.repo.defaultBranch),
    pub("CI_PROJECT_ID", String(project.id)),
    pub("CI_PROJECT_NAME", project.path),
    pub("CI_PROJECT_PATH", `root/${project.path}`),
    pub("CI_PROJECT_NAMESPACE", "root"),
    pub("CI_PROJECT_URL", `${baseUrl}/root/${project.path}`),
    { key: "CI_REPOSITORY_URL", value: repoUrl, public: false, masked: false },
    pub("CI_RUNNER_ID", String(runner.id)),
    pub("CI_RUNNER_TAGS", JSON.stringify(runner.tags)),
    pub("CI_SERVER_URL", baseUrl),
    pub("CI_SERVER_HOST", host.hostname),
    pub("CI_SERVER_PORT", host.port),
    pub("CI_SERVER_PROTOCOL", host.protocol.replace(":", "")),
    pub("CI_API_V4_URL", `${baseUrl}/api/v4`),
    pub("CI_SERVER_NAME", "GitLab"),
    pub("CI_SERVER_VERSION", "17.11.0"),
    pub("CI", "true"),
    pub("GITLAB_CI", "true"),
    pub("GITLAB_USER_ID", String(pipeline.userId)),
  ];
  const yamlVariables = def.variables.map((v) => ({
    key: v.key,
    value: v.value,
    public: true,
    masked: false,
    ...(v.raw ? { raw: true } : {}),
  }));
  const pipelineVariables = pipeline.variables.map((v) => ({
    key: v.key,
    value: v.value,
    public: false,
    masked: false,
    ...(v.variable_type === "file" ? { file: true } : {}),
  }));
  const image = (i: NonNullable<typeof def.image>) => ({
    name: i.name,
    ...(i.alias ? { alias: i.alias } : {}),
    ...(i.entrypoint ? { entrypoint: i.entrypoint } : {}),
    ...(i.command ? { command: i.command } : {}),
    ports: [],
    ...(i.variables
      ? {
          variables: i.variables.map((v) => ({
            key: v.key,
            value: v.value,
            public: true,
            masked: false,
            ...(v.raw ? { raw: true } : {}),
          })),
        }
      : {}),
    ...(i.platform || i.user
      ? {
          executor_opts: {
            docker: { ...(i.platform ? { platform: i.platform } : {}), ...(i.user ? { user: i.user } : {}) },
          },
        }
      : {}),
    pull_policy: null,
  });
  return {
    id: job.id,
    token: job.token,
    allow_git_fetch: true,
    job_info: {
      id: job.id,
      name: def.name,
      stage: def.stage,
      project_id: project.id,
      project_name: project.path,
      time_in_queue_seconds:
        job.queuedAt && job.startedAt ? (job.startedAt.getTime() - job.queuedAt.getTime()) / 1000 : 0,
      project_jobs_running_on_instance_runners_count: "0",
    },
    git_info: {
      repo_url: repoUrl,
      repo_object_format: "sha1",
      ref: pipeline.ref,
      sha: pipeline.sha,
      before_sha: "0000000000000000000000000000000000000000",
      ref_type: "branch",
      refspecs: [`+refs/heads/${pipeline.ref}:refs/remotes/origin/${pipeline.ref}`],
      // 0 = full clone: the dumb HTTP protocol the simulator serves has no shallow fetch.
      depth: 0,
    },
    runner_info: { timeout, runner_session_url: null },
    variables: [...predefined, ...yamlVariables, ...pipelineVariables],
    steps: [
      {
        name: "script",
        script: [...def.beforeScript, ...def.script],
        timeout,
        when: "on_success",
        allow_failure: false,
      },
      ...(def.afterScript.length > 0
        ? [{ name: "after_script", script: def.afterScript, timeout, when: "always", allow_failure: true }]
        : []),
    ],
    image: def.image ? image(def.image) : null,
    services: def.services.map(image),
    artifacts: [],
    cache: def.cache.map((c) => ({
      key: c.key,
      untracked: c.untracked,
      policy: c.policy,
      paths: c.paths,
      when: c.when,
      fallback_keys: [],
    })),
    credentials: [],
    dependencies: [],
    features: {
      trace_sections: true,
      token_mask_prefixes: ["glpat-", "glcbt-", "glrt-"],
      failure_reasons: FAILURE_REASONS,
    },
  };
}
