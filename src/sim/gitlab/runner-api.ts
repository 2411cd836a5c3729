// The runner job API exactly as GitLab serves it: POST /jobs/request (long polling, 201 job / 204 none),
// PUT /jobs/:id (state, failure_reason, exit_code), PATCH /jobs/:id/trace (Content-Range, 416 on a gap,
// Range in the answer), runner verification and unregistration, Job-Status on every job answer.

import { ApiError, forbidden, missing, notFound } from "./errors.ts";
import { FAILURE_REASONS } from "./failure-reasons.ts";
import type { Reply, RequestContext, Router } from "./http.ts";
import { jobPayload } from "./job-payload.ts";
import type { Job, Runner, Store } from "./store.ts";

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
      // Workhorse holds a request only while the runner's last_update is current: a runner without one,
      // or with an older one, hears 204 at once and asks again with the value it was given.
      const current = () => String(store.queueVersion);
      const holds = ctx.input.last_update !== undefined && String(ctx.input.last_update) === current();
      const deadline = Date.now() + (holds ? options.longPollMs : 0);
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
      return { status: 204, headers: { "X-GitLab-Last-Update": current() } };
    })
    .on("PUT", `${API}/jobs/:job_id`, (ctx) => {
      const job = store.jobs.get(Number(ctx.params.job_id));
      // GitLab authenticates the job before anything else: an unknown job is 403, as a wrong token is.
      if (!job) throw forbidden();
      if (store.jobByToken(job.id, ctx.input.token ?? ctx.req.headers["job-token"]) === undefined)
        throw forbidden();
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
      return {
        status: 200,
        body: {},
        headers: {
          ...jobHeaders(job),
          "X-GitLab-Trace-Update-Interval": String(options.traceUpdateIntervalSeconds),
        },
      };
    })
    .on("PATCH", `${API}/jobs/:job_id/trace`, (ctx): Reply => {
      const job = store.jobs.get(Number(ctx.params.job_id));
      if (!job) throw forbidden();
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
