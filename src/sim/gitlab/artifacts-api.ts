// Job artifacts as GitLab serves them (lib/api/ci/runner.rb, lib/api/ci/job_artifacts.rb):
// - runners upload with POST /jobs/:id/artifacts (multipart `file`, artifact_type, artifact_format,
//   expire_in; the job's own token) and download a dependency's archive with GET /jobs/:id/artifacts and
//   the token of the job that depends on it;
// - users (or a job token) download a job's archive or one file of it, by job id or as the latest
//   successful job of that name on a ref (GET /projects/:id/jobs/artifacts/:ref/raw/*path?job=NAME).

import { unzipSync } from "fflate";
import { parseDuration } from "./ci/index.ts";
import { ApiError, forbidden, notFound, unauthorized } from "./errors.ts";
import type { Reply, RequestContext, Router } from "./http.ts";
import { dependencyJobs } from "./job-payload.ts";
import { authenticate } from "./rest-api.ts";
import type { Job, JobArtifact, Store } from "./store.ts";

const API = "/api/v4";

function jobToken(ctx: RequestContext): string | undefined {
  const header = ctx.req.headers["job-token"];
  const value = (Array.isArray(header) ? header[0] : header) ?? ctx.input.token ?? ctx.input.job_token;
  return typeof value === "string" ? value : undefined;
}

function archiveReply(job: Job): Reply {
  const archive = job.artifacts.find((a) => a.fileType === "archive");
  if (!archive) throw notFound("");
  return {
    status: 200,
    raw: archive.data,
    contentType: "application/octet-stream",
    headers: {
      "Content-Disposition": `attachment; filename="${archive.filename}"; filename*=UTF-8''${encodeURIComponent(archive.filename)}`,
    },
  };
}

function fileReply(job: Job, path: string): Reply {
  const archive = job.artifacts.find((a) => a.fileType === "archive");
  if (!archive) throw notFound("");
  const wanted = path.replace(/^\/+/, "");
  const files = unzipSync(new Uint8Array(archive.data), { filter: (f) => f.name === wanted });
  const file = files[wanted];
  if (!file) throw notFound("");
  return { status: 200, raw: Buffer.from(file), contentType: "text/plain; charset=utf-8" };
}

export function registerArtifactsApi(router: Router, store: Store): void {
  /** A user's token or a running job's token of the same project. */
  const reader = (ctx: RequestContext, projectId: number) => {
    const token = jobToken(ctx);
    if (token) {
      const job = [...store.jobs.values()].find(
        (j) => j.token === token && (j.status === "running" || j.status === "canceling"),
      );
      if (!job) throw unauthorized();
      if (job.projectId !== projectId) throw forbidden();
      return;
    }
    authenticate(store, ctx);
  };

  router
    .on("POST", `${API}/jobs/:job_id/artifacts`, async (ctx) => {
      const job = store.jobs.get(Number(ctx.params.job_id));
      if (!job || job.token !== jobToken(ctx)) throw forbidden();
      if (job.status !== "running" && job.status !== "canceling")
        throw new ApiError(
          403,
          { message: "403 Forbidden  - Job is not running" },
          { "Job-Status": job.status },
        );
      const type = String(ctx.req.headers["content-type"] ?? "");
      if (!type.startsWith("multipart/form-data"))
        throw new ApiError(400, { message: "400 Bad request - Missing artifacts file!" });
      const form = await new Response(new Uint8Array(ctx.rawBody), {
        headers: { "content-type": type },
      }).formData();
      const file = form.get("file");
      if (!(file instanceof Blob))
        throw new ApiError(400, { message: "400 Bad request - Missing artifacts file!" });
      const field = (name: string) => {
        const value = form.get(name) ?? ctx.url.searchParams.get(name);
        return typeof value === "string" && value !== "" ? value : undefined;
      };
      const fileType = field("artifact_type") ?? "archive";
      const expireIn = field("expire_in");
      const seconds = expireIn && expireIn !== "never" ? parseDuration(expireIn) : undefined;
      const artifact: JobArtifact = {
        fileType,
        filename: (file as File).name || (fileType === "archive" ? "artifacts.zip" : `${fileType}.gz`),
        format: field("artifact_format") ?? "zip",
        data: Buffer.from(await file.arrayBuffer()),
        expireAt:
          seconds !== undefined
            ? new Date(Date.now() + seconds * 1000)
            : expireIn === "never"
              ? null
              : new Date(Date.now() + 30 * 86_400_000),
      };
      if (job.artifacts.some((a) => a.fileType === fileType))
        throw new ApiError(400, { message: "400 Bad request - Artifact already exists for this job" });
      job.artifacts.push(artifact);
      return { status: 201, body: "201" };
    })
    .on("GET", `${API}/jobs/:job_id/artifacts`, (ctx) => {
      const dependency = store.jobs.get(Number(ctx.params.job_id));
      const token = jobToken(ctx);
      const requester = [...store.jobs.values()].find((j) => j.token === token);
      if (!requester || !dependency) throw forbidden();
      const allowed = requester === dependency || dependencyJobs(store, requester).includes(dependency);
      if (!allowed) throw forbidden();
      return archiveReply(dependency);
    })
    .on("GET", `${API}/projects/:id/jobs/artifacts/:ref_name/download`, (ctx) => {
      const project = store.project(ctx.params.id!);
      reader(ctx, project.id);
      return archiveReply(latestSuccessful(store, project.id, ctx.params.ref_name!, ctx.input.job));
    })
    .on("GET", `${API}/projects/:id/jobs/artifacts/:ref_name/raw/:artifact_path*`, (ctx) => {
      const project = store.project(ctx.params.id!);
      reader(ctx, project.id);
      return fileReply(
        latestSuccessful(store, project.id, ctx.params.ref_name!, ctx.input.job),
        ctx.params.artifact_path!,
      );
    })
    .on("GET", `${API}/projects/:id/jobs/:job_id/artifacts`, (ctx) => {
      const project = store.project(ctx.params.id!);
      reader(ctx, project.id);
      return archiveReply(store.job(project.id, ctx.params.job_id!));
    })
    .on("GET", `${API}/projects/:id/jobs/:job_id/artifacts/:artifact_path*`, (ctx) => {
      const project = store.project(ctx.params.id!);
      reader(ctx, project.id);
      return fileReply(store.job(project.id, ctx.params.job_id!), ctx.params.artifact_path!);
    })
    .on("DELETE", `${API}/projects/:id/jobs/:job_id/artifacts`, (ctx) => {
      const project = store.project(ctx.params.id!);
      authenticate(store, ctx);
      const job = store.job(project.id, ctx.params.job_id!);
      job.artifacts = job.artifacts.filter((a) => a.fileType === "trace");
      return { status: 204 };
    });
}

/**
 * Project#latest_successful_build_for_ref: the newest successful pipeline of the ref (a pipeline whose
 * allowed-to-fail jobs failed is successful), then its newest job of that name with an archive, whatever
 * that job's own status. A pipeline still running, or one that failed, is passed over.
 */
function latestSuccessful(store: Store, projectId: number, ref: string, name: unknown): Job {
  if (typeof name !== "string" || name === "") throw new ApiError(400, { error: "job is missing" });
  const pipeline = [...store.pipelines.values()]
    .filter((p) => p.projectId === projectId && p.ref === ref && p.status === "success")
    .sort((a, b) => b.id - a.id)[0];
  const job = pipeline
    ? store
        .pipelineJobs(pipeline)
        .filter(
          (j) =>
            j.definition.name === name && !j.retried && j.artifacts.some((a) => a.fileType === "archive"),
        )
        .sort((a, b) => b.id - a.id)[0]
    : undefined;
  if (!job) throw notFound("");
  return job;
}
