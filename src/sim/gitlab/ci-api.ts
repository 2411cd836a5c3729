// REST endpoints for CI beyond pipelines and jobs: CI Lint (lib/api/lint.rb), playing a manual job
// (lib/api/ci/jobs.rb), and pipeline schedules with their variables and `play` (lib/api/ci/pipeline_schedules.rb).

import { lintCiConfig } from "./ci/index.ts";
import { ApiError, badRequest, forbidden, missing, notFound } from "./errors.ts";
import type { RequestContext, Router } from "./http.ts";
import { authenticate, paginate } from "./rest-api.ts";
import { jobJson, pipelineJson, userJson } from "./serialize.ts";
import type { PipelineSchedule, PipelineVariable, Project, Store } from "./store.ts";

const API = "/api/v4";
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function registerCiApi(router: Router, store: Store): void {
  const project = (ctx: RequestContext): Project => {
    authenticate(store, ctx);
    return store.project(ctx.params.id!);
  };
  const lintAnswer = (p: Project, content: string, ref: string, includeJobs: boolean) => {
    const commit = p.repo.head(ref);
    const result = lintCiConfig(content, (path) => commit?.files.get(path)?.toString("utf8"));
    return {
      valid: result.valid,
      errors: result.errors,
      warnings: result.warnings,
      merged_yaml: result.mergedYaml,
      includes: [],
      ...(includeJobs
        ? {
            jobs: (result.config?.jobs ?? []).map((j) => ({
              name: j.name,
              stage: j.stage,
              before_script: j.beforeScript,
              script: j.script,
              after_script: j.afterScript,
              tag_list: j.tags,
              only: j.only ?? (j.rules ? undefined : { refs: ["branches", "tags"] }),
              except: j.except,
              environment: j.environment ?? null,
              when: j.when,
              allow_failure: j.allowFailure,
              needs: j.needs?.map((n) => ({ name: n.name, artifacts: n.artifacts })),
            })),
          }
        : {}),
    };
  };
  const truthy = (v: unknown) => v === true || v === "true";

  const scheduleJson = (s: PipelineSchedule, baseUrl: string, detailed: boolean) => {
    const last = s.lastPipelineId ? store.pipelines.get(s.lastPipelineId) : undefined;
    return {
      id: s.id,
      description: s.description,
      ref: s.ref,
      cron: s.cron,
      cron_timezone: s.cronTimezone,
      next_run_at: null,
      active: s.active,
      created_at: iso(s.createdAt),
      updated_at: iso(s.updatedAt),
      owner: userJson(store.users.get(s.ownerId)!, baseUrl),
      ...(detailed
        ? {
            last_pipeline: last ? { id: last.id, sha: last.sha, ref: last.ref, status: last.status } : null,
            variables: s.variables,
          }
        : {}),
    };
  };
  const schedule = (ctx: RequestContext, p: Project) => {
    const s = store.schedules.get(Number(ctx.params.schedule_id));
    if (!s || s.projectId !== p.id) throw notFound("");
    return s;
  };
  const fullRef = (p: Project, ref: string) =>
    ref.startsWith("refs/")
      ? ref
      : p.repo.tags.has(ref) && !p.repo.branches.has(ref)
        ? `refs/tags/${ref}`
        : `refs/heads/${ref}`;
  const variableFrom = (ctx: RequestContext): PipelineVariable => {
    if (typeof ctx.input.key !== "string" || ctx.input.key === "") throw missing("key");
    if (typeof ctx.input.value !== "string") throw missing("value");
    const type = ctx.input.variable_type ?? "env_var";
    if (type !== "env_var" && type !== "file") throw badRequest("variable_type does not have a valid value");
    return { key: ctx.input.key, value: ctx.input.value, variable_type: type };
  };

  router
    .on("POST", `${API}/projects/:id/ci/lint`, (ctx) => {
      const p = project(ctx);
      if (typeof ctx.input.content !== "string") throw missing("content");
      const ref = typeof ctx.input.ref === "string" ? ctx.input.ref : p.repo.defaultBranch;
      return { status: 200, body: lintAnswer(p, ctx.input.content, ref, truthy(ctx.input.include_jobs)) };
    })
    .on("GET", `${API}/projects/:id/ci/lint`, (ctx) => {
      const p = project(ctx);
      const ref = typeof ctx.input.content_ref === "string" ? ctx.input.content_ref : p.repo.defaultBranch;
      const text = p.repo.head(ref)?.files.get(".gitlab-ci.yml");
      if (!text) throw notFound("");
      return { status: 200, body: lintAnswer(p, text.toString("utf8"), ref, truthy(ctx.input.include_jobs)) };
    })
    .on("POST", `${API}/projects/:id/jobs/:job_id/play`, (ctx) => {
      const user = authenticate(store, ctx);
      const p = store.project(ctx.params.id!);
      const job = store.job(p.id, ctx.params.job_id!);
      if (job.status !== "manual" && job.status !== "scheduled")
        throw new ApiError(400, { message: "400 Bad request - Unplayable Job" });
      store.playJob(job, user);
      return { status: 200, body: jobJson(job, store, ctx.baseUrl) };
    })
    .on("GET", `${API}/projects/:id/pipeline_schedules`, (ctx) => {
      const p = project(ctx);
      const scope = ctx.input.scope;
      const list = [...store.schedules.values()]
        .filter((s) => s.projectId === p.id)
        .filter((s) => scope !== "active" || s.active)
        .filter((s) => scope !== "inactive" || !s.active);
      return paginate(
        ctx,
        list.map((s) => scheduleJson(s, ctx.baseUrl, false)),
      );
    })
    .on("POST", `${API}/projects/:id/pipeline_schedules`, (ctx) => {
      const user = authenticate(store, ctx);
      const p = store.project(ctx.params.id!);
      for (const name of ["description", "ref", "cron"])
        if (typeof ctx.input[name] !== "string" || ctx.input[name] === "") throw missing(name);
      const cron = String(ctx.input.cron);
      if (cron.trim().split(/\s+/).length !== 5)
        throw new ApiError(400, { message: { cron: [" is invalid syntax"] } });
      const now = new Date();
      const s: PipelineSchedule = {
        id: store.nextScheduleId(),
        projectId: p.id,
        description: String(ctx.input.description),
        ref: fullRef(p, String(ctx.input.ref)),
        cron,
        cronTimezone: typeof ctx.input.cron_timezone === "string" ? ctx.input.cron_timezone : "UTC",
        active: ctx.input.active === undefined ? true : truthy(ctx.input.active),
        ownerId: user.id,
        variables: [],
        lastPipelineId: null,
        createdAt: now,
        updatedAt: now,
      };
      store.schedules.set(s.id, s);
      return { status: 201, body: scheduleJson(s, ctx.baseUrl, true) };
    })
    .on("GET", `${API}/projects/:id/pipeline_schedules/:schedule_id`, (ctx) => ({
      status: 200,
      body: scheduleJson(schedule(ctx, project(ctx)), ctx.baseUrl, true),
    }))
    .on("GET", `${API}/projects/:id/pipeline_schedules/:schedule_id/pipelines`, (ctx) => {
      const s = schedule(ctx, project(ctx));
      const list = [...store.pipelines.values()].filter((pl) => pl.scheduleId === s.id);
      return paginate(
        ctx,
        list.map((pl) => pipelineJson(pl, store, ctx.baseUrl)),
      );
    })
    .on("PUT", `${API}/projects/:id/pipeline_schedules/:schedule_id`, (ctx) => {
      const p = project(ctx);
      const s = schedule(ctx, p);
      if (typeof ctx.input.description === "string") s.description = ctx.input.description;
      if (typeof ctx.input.ref === "string") s.ref = fullRef(p, ctx.input.ref);
      if (typeof ctx.input.cron === "string") s.cron = ctx.input.cron;
      if (typeof ctx.input.cron_timezone === "string") s.cronTimezone = ctx.input.cron_timezone;
      if (ctx.input.active !== undefined) s.active = truthy(ctx.input.active);
      s.updatedAt = new Date();
      return { status: 200, body: scheduleJson(s, ctx.baseUrl, true) };
    })
    .on("POST", `${API}/projects/:id/pipeline_schedules/:schedule_id/take_ownership`, (ctx) => {
      const user = authenticate(store, ctx);
      const s = schedule(ctx, store.project(ctx.params.id!));
      s.ownerId = user.id;
      return { status: 201, body: scheduleJson(s, ctx.baseUrl, true) };
    })
    .on("DELETE", `${API}/projects/:id/pipeline_schedules/:schedule_id`, (ctx) => {
      const p = project(ctx);
      const s = schedule(ctx, p);
      store.schedules.delete(s.id);
      return { status: 200, body: scheduleJson(s, ctx.baseUrl, true) };
    })
    .on("POST", `${API}/projects/:id/pipeline_schedules/:schedule_id/play`, (ctx) => {
      const p = project(ctx);
      const s = schedule(ctx, p);
      const owner = store.users.get(s.ownerId);
      if (!owner) throw forbidden();
      const ref = s.ref.replace(/^refs\/(heads|tags)\//, "");
      // GitLab queues RunPipelineScheduleWorker and answers at once; a config that cannot run makes no pipeline.
      try {
        const pipeline = store.createPipeline(p, ref, "schedule", owner, s.variables, { scheduleId: s.id });
        s.lastPipelineId = pipeline.id;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
      }
      return { status: 201, body: { message: "201 Created" } };
    })
    .on("POST", `${API}/projects/:id/pipeline_schedules/:schedule_id/variables`, (ctx) => {
      const s = schedule(ctx, project(ctx));
      const variable = variableFrom(ctx);
      if (s.variables.some((v) => v.key === variable.key))
        throw new ApiError(400, { message: { key: ["(" + variable.key + ") has already been taken"] } });
      s.variables.push(variable);
      return { status: 201, body: variable };
    })
    .on("PUT", `${API}/projects/:id/pipeline_schedules/:schedule_id/variables/:key`, (ctx) => {
      const s = schedule(ctx, project(ctx));
      const variable = s.variables.find((v) => v.key === ctx.params.key);
      if (!variable) throw notFound("Variable");
      if (typeof ctx.input.value === "string") variable.value = ctx.input.value;
      if (ctx.input.variable_type === "file" || ctx.input.variable_type === "env_var")
        variable.variable_type = ctx.input.variable_type;
      return { status: 200, body: variable };
    })
    .on("DELETE", `${API}/projects/:id/pipeline_schedules/:schedule_id/variables/:key`, (ctx) => {
      const s = schedule(ctx, project(ctx));
      const variable = s.variables.find((v) => v.key === ctx.params.key);
      if (!variable) throw notFound("Variable");
      s.variables = s.variables.filter((v) => v !== variable);
      return { status: 202, body: variable };
    });
}
