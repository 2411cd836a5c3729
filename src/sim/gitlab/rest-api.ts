// The REST API v4 endpoints the CI path and its tests use: user and tokens, projects, repository files,
// commits and branches, pipelines, jobs, and runner creation (POST /user/runners).

import { createHash } from "node:crypto";
import { structuredPatch } from "diff";
import { ApiError, badRequest, missing, notFound, unauthorized } from "./errors.ts";
import { type CommitInfo, GitRepository } from "./git.ts";
import { projectNamespace } from "./groups-api.ts";
import type { Reply, RequestContext, Router } from "./http.ts";
import { SERVER_VERSION } from "./job-payload.ts";
import { commitJson, jobJson, pipelineJson, projectJson, runnerJson, userJson } from "./serialize.ts";
import type { PipelineVariable, Project, Runner, Store, User } from "./store.ts";

const API = "/api/v4";

export function authenticate(store: Store, ctx: RequestContext): User {
  const header =
    ctx.req.headers["private-token"] ?? ctx.req.headers.authorization?.replace(/^Bearer\s+/i, "");
  const token =
    (Array.isArray(header) ? header[0] : header) ?? (ctx.url.searchParams.get("private_token") || undefined);
  if (!token) throw unauthorized();
  const userId = store.tokens.get(token);
  if (userId === undefined) throw unauthorized();
  return store.users.get(userId)!;
}

export function paginate<T>(ctx: RequestContext, items: T[]): Reply {
  const perPage = Math.min(Math.max(integerParam(ctx, "per_page") ?? 20, 1), 100);
  const totalPages = Math.max(Math.ceil(items.length / perPage), 1);
  const page = Math.min(Math.max(integerParam(ctx, "page") ?? 1, 1), totalPages);
  const headers: Record<string, string> = {
    "X-Total": String(items.length),
    "X-Total-Pages": String(totalPages),
    "X-Per-Page": String(perPage),
    "X-Page": String(page),
    "X-Next-Page": page < totalPages ? String(page + 1) : "",
    "X-Prev-Page": page > 1 ? String(page - 1) : "",
  };
  const link = (rel: string, n: number) => {
    const url = new URL(ctx.url.toString());
    url.searchParams.set("page", String(n));
    url.searchParams.set("per_page", String(perPage));
    return `<${ctx.baseUrl}${url.pathname}${url.search}>; rel="${rel}"`;
  };
  // Kaminari's headers as GitLab sends them: prev/next where they exist, first and last always.
  headers.Link = [
    ...(page > 1 ? [link("prev", page - 1)] : []),
    ...(page < totalPages ? [link("next", page + 1)] : []),
    link("first", 1),
    link("last", totalPages),
  ].join(", ");
  return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers };
}

function str(ctx: RequestContext, name: string, required = true): string {
  const value = ctx.input[name];
  if (value === undefined || value === null || value === "") {
    if (required) throw missing(name);
    return "";
  }
  if (typeof value !== "string") throw badRequest(`${name} is invalid`);
  return value;
}

function decodeContent(content: unknown, encoding: unknown, where: string): Buffer {
  if (typeof content !== "string") throw badRequest(`${where} is missing`);
  if (encoding === "base64") return Buffer.from(content, "base64");
  if (encoding !== undefined && encoding !== "text")
    throw badRequest(`${where.replace("content", "encoding")} does not have a valid value`);
  return Buffer.from(content, "utf8");
}

export function registerRestApi(router: Router, store: Store): void {
  const user = (ctx: RequestContext) => authenticate(store, ctx);
  const project = (ctx: RequestContext): Project => {
    user(ctx);
    return store.project(ctx.params.id!);
  };

  /** Applies file actions on top of a branch and commits; a push pipeline follows as on GitLab. */
  const commitActions = (
    ctx: RequestContext,
    p: Project,
    author: User,
    actions: unknown[],
    message: string,
    branch: string,
    startBranch?: string,
  ) => {
    const empty = p.repo.branches.size === 0;
    const base = p.repo.head(branch) ?? (startBranch ? p.repo.head(startBranch) : undefined);
    // The first commit of an empty repository creates its branch; otherwise the branch (or start_branch) must exist.
    if (!base && !empty)
      throw badRequest(
        startBranch ? `You can only create or edit files when you are on a branch` : "branch is invalid",
      );
    const files = new Map(base?.files ?? []);
    const executable = new Set(base?.executable ?? []);
    for (const [i, action] of actions.entries()) {
      const a = action as Record<string, unknown>;
      const path = a.file_path;
      if (typeof path !== "string" || path === "" || path.startsWith("/") || path.split("/").includes("..")) {
        throw badRequest(`actions[${i}][file_path] is invalid`);
      }
      switch (a.action) {
        case "create":
          if (files.has(path)) throw new ApiError(400, { message: `A file with this name already exists` });
          files.set(path, decodeContent(a.content, a.encoding, `actions[${i}][content]`));
          break;
        case "update":
          if (!files.has(path)) throw new ApiError(400, { message: `A file with this name doesn't exist` });
          files.set(path, decodeContent(a.content, a.encoding, `actions[${i}][content]`));
          break;
        case "move": {
          const previous = a.previous_path;
          if (typeof previous !== "string" || !files.has(previous))
            throw new ApiError(400, { message: `A file with this name doesn't exist` });
          if (files.has(path)) throw new ApiError(400, { message: `A file with this name already exists` });
          files.set(
            path,
            a.content === undefined || a.content === null
              ? files.get(previous)!
              : decodeContent(a.content, a.encoding, `actions[${i}][content]`),
          );
          files.delete(previous);
          if (executable.delete(previous)) executable.add(path);
          break;
        }
        case "chmod":
          if (!files.has(path)) throw new ApiError(400, { message: `A file with this name doesn't exist` });
          if (a.execute_filemode === true || a.execute_filemode === "true") executable.add(path);
          else executable.delete(path);
          break;
        case "delete":
          executable.delete(path);
          if (!files.delete(path))
            throw new ApiError(400, { message: `A file with this name doesn't exist` });
          break;
        default:
          throw badRequest(`actions[${i}][action] does not have a valid value`);
      }
    }
    const commit = p.repo.commit(
      branch,
      files,
      message,
      { name: author.name, email: author.email },
      base?.sha ?? null,
      executable,
    );
    if (!/\[(ci skip|skip ci)\]/i.test(message)) {
      try {
        store.createPipeline(p, branch, "push", author, [], {
          beforeSha: base?.sha ?? "0000000000000000000000000000000000000000",
        });
      } catch (err) {
        // A push whose config yields no job (rules) or no config at all creates no pipeline on GitLab either.
        if (!(err instanceof ApiError)) throw err;
      }
    }
    return commitJson(commit, p, ctx.baseUrl);
  };

  router
    .on("GET", `${API}/user`, (ctx) => ({ status: 200, body: userJson(user(ctx), ctx.baseUrl) }))
    .on("GET", `${API}/version`, (ctx) => {
      user(ctx);
      return { status: 200, body: { version: `${SERVER_VERSION}-wsparity-sim`, revision: "sim" } };
    })
    .on("GET", `${API}/personal_access_tokens/self`, (ctx) => {
      const u = user(ctx);
      return {
        status: 200,
        body: {
          id: 1,
          name: "root",
          revoked: false,
          scopes: ["api"],
          user_id: u.id,
          active: true,
          expires_at: null,
        },
      };
    })
    .on("POST", `${API}/users/:user_id/personal_access_tokens`, (ctx) => {
      user(ctx);
      const target = store.users.get(Number(ctx.params.user_id));
      if (!target) throw notFound("User");
      const name = str(ctx, "name");
      if (!ctx.input.scopes) throw missing("scopes");
      const token = store.createToken(target.id);
      return {
        status: 201,
        body: {
          id: store.tokens.size,
          name,
          revoked: false,
          scopes: ctx.input.scopes,
          user_id: target.id,
          active: true,
          token,
        },
      };
    })
    .on("POST", `${API}/projects`, (ctx) => {
      const u = user(ctx);
      const name = str(ctx, "name", false) || str(ctx, "path", false);
      if (!name) throw badRequest("name, path are missing, at least one parameter must be provided");
      const path = str(ctx, "path", false) || name.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-");
      const withReadme =
        ctx.input.initialize_with_readme === true || ctx.input.initialize_with_readme === "true";
      const namespace = projectNamespace(store, ctx.input.namespace_id);
      const p = store.createProject(name, path, str(ctx, "description", false), u, withReadme, namespace);
      return { status: 201, body: projectJson(p, store, ctx.baseUrl) };
    })
    .on("GET", `${API}/projects`, (ctx) => {
      user(ctx);
      const search = typeof ctx.input.search === "string" ? ctx.input.search.toLowerCase() : "";
      const list = [...store.projects.values()]
        .filter(
          (p) => !search || [p.name, p.path, p.description].some((f) => f.toLowerCase().includes(search)),
        )
        .sort((a, b) => b.id - a.id);
      return paginate(
        ctx,
        list.map((p) => projectJson(p, store, ctx.baseUrl)),
      );
    })
    .on("GET", `${API}/projects/:id`, (ctx) => ({
      status: 200,
      body: projectJson(project(ctx), store, ctx.baseUrl),
    }))
    .on("DELETE", `${API}/projects/:id`, (ctx) => {
      store.deleteProject(project(ctx));
      return { status: 202, body: { message: "202 Accepted" } };
    })
    .on("GET", `${API}/projects/:id/repository/branches`, (ctx) => {
      const p = project(ctx);
      return paginate(
        ctx,
        [...p.repo.branches].map(([name, sha]) => ({
          name,
          merged: false,
          protected: false,
          default: name === p.repo.defaultBranch,
          commit: commitJson(p.repo.commits.get(sha)!, p, ctx.baseUrl),
        })),
      );
    })
    .on("GET", `${API}/projects/:id/repository/branches/:branch`, (ctx) => {
      const p = project(ctx);
      const sha = p.repo.branches.get(ctx.params.branch!);
      if (!sha) throw notFound("Branch");
      return {
        status: 200,
        body: {
          name: ctx.params.branch,
          merged: false,
          protected: false,
          default: ctx.params.branch === p.repo.defaultBranch,
          commit: commitJson(p.repo.commits.get(sha)!, p, ctx.baseUrl),
        },
      };
    })
    .on("POST", `${API}/projects/:id/repository/branches`, (ctx) => {
      const p = project(ctx);
      const branch = str(ctx, "branch");
      const base = p.repo.head(str(ctx, "ref"));
      if (!base) throw new ApiError(400, { message: `Invalid reference name: ${String(ctx.input.ref)}` });
      if (p.repo.branches.has(branch)) throw new ApiError(400, { message: "Branch already exists" });
      p.repo.branches.set(branch, base.sha);
      return {
        status: 201,
        body: {
          name: branch,
          merged: false,
          protected: false,
          default: false,
          commit: commitJson(base, p, ctx.baseUrl),
        },
      };
    })
    .on("DELETE", `${API}/projects/:id/repository/branches/:branch`, (ctx) => {
      const p = project(ctx);
      if (ctx.params.branch === p.repo.defaultBranch)
        throw new ApiError(400, { message: "Cannot remove the default branch" });
      if (!p.repo.branches.delete(ctx.params.branch!)) throw notFound("Branch");
      return { status: 204 };
    })
    .on("POST", `${API}/projects/:id/repository/commits`, (ctx) => {
      const p = project(ctx);
      const u = user(ctx);
      const actions = ctx.input.actions;
      if (!Array.isArray(actions) || actions.length === 0) throw missing("actions");
      const body = commitActions(
        ctx,
        p,
        u,
        actions,
        str(ctx, "commit_message"),
        str(ctx, "branch"),
        str(ctx, "start_branch", false) || undefined,
      );
      return { status: 201, body };
    })
    .on("GET", `${API}/projects/:id/repository/commits`, (ctx) => {
      const p = project(ctx);
      const head = p.repo.head(str(ctx, "ref_name", false) || p.repo.defaultBranch);
      const list = [];
      for (let c = head; c; c = c.parent ? p.repo.commits.get(c.parent) : undefined)
        list.push(commitJson(c, p, ctx.baseUrl));
      return paginate(ctx, list);
    })
    .on("GET", `${API}/projects/:id/repository/commits/:sha/diff`, (ctx) => {
      const p = project(ctx);
      const commit = p.repo.head(ctx.params.sha!);
      if (!commit) throw notFound("Commit");
      const parent = commit.parent ? p.repo.commits.get(commit.parent) : undefined;
      return paginate(ctx, commitDiff(parent, commit));
    })
    .on("GET", `${API}/projects/:id/repository/commits/:sha`, (ctx) => {
      const p = project(ctx);
      const commit = p.repo.head(ctx.params.sha!);
      if (!commit) throw notFound("Commit");
      return { status: 200, body: commitJson(commit, p, ctx.baseUrl) };
    })
    .on("GET", `${API}/projects/:id/repository/files/:file_path/raw`, (ctx) => {
      const p = project(ctx);
      const commit = p.repo.head(str(ctx, "ref", false) || p.repo.defaultBranch);
      const content = commit?.files.get(ctx.params.file_path!);
      if (!content) throw notFound("File");
      return { status: 200, raw: content, contentType: "text/plain; charset=utf-8" };
    })
    .on("GET", `${API}/projects/:id/repository/files/:file_path`, (ctx) => {
      const p = project(ctx);
      const ref = str(ctx, "ref");
      const commit = p.repo.head(ref);
      const content = commit?.files.get(ctx.params.file_path!);
      if (!commit || !content) throw notFound("File");
      const path = ctx.params.file_path!;
      return {
        status: 200,
        body: {
          file_name: path.split("/").pop(),
          file_path: path,
          size: content.length,
          encoding: "base64",
          content: content.toString("base64"),
          content_sha256: createHash("sha256").update(content).digest("hex"),
          ref,
          blob_id: GitRepository.blobId(content),
          commit_id: commit.sha,
          last_commit_id: lastCommitTouching(p, commit, path),
          execute_filemode: commit.executable.has(path),
        },
      };
    })
    .on("POST", `${API}/projects/:id/repository/files/:file_path`, (ctx) => fileWrite(ctx, "create"))
    .on("PUT", `${API}/projects/:id/repository/files/:file_path`, (ctx) => fileWrite(ctx, "update"))
    .on("DELETE", `${API}/projects/:id/repository/files/:file_path`, (ctx) => {
      fileWrite(ctx, "delete");
      return { status: 204 };
    })
    .on("POST", `${API}/projects/:id/pipeline`, (ctx) => {
      const p = project(ctx);
      const u = user(ctx);
      const ref = str(ctx, "ref");
      const variables = pipelineVariables(ctx.input.variables);
      const pipeline = store.createPipeline(p, ref, "api", u, variables);
      return { status: 201, body: pipelineJson(pipeline, store, ctx.baseUrl) };
    })
    .on("GET", `${API}/projects/:id/pipelines`, (ctx) => {
      const p = project(ctx);
      const list = [...store.pipelines.values()]
        .filter((pl) => pl.projectId === p.id)
        .filter((pl) => !ctx.input.ref || pl.ref === ctx.input.ref)
        .filter((pl) => !ctx.input.status || pl.status === ctx.input.status)
        .filter((pl) => !ctx.input.source || pl.source === ctx.input.source)
        .sort((a, b) => b.id - a.id)
        .map((pl) => {
          const { user: _user, yaml_errors: _errors, ...brief } = pipelineJson(pl, store, ctx.baseUrl);
          return brief;
        });
      return paginate(ctx, list);
    })
    .on("GET", `${API}/projects/:id/pipelines/:pipeline_id`, (ctx) => {
      const p = project(ctx);
      return {
        status: 200,
        body: pipelineJson(store.pipeline(p.id, ctx.params.pipeline_id!), store, ctx.baseUrl),
      };
    })
    .on("DELETE", `${API}/projects/:id/pipelines/:pipeline_id`, (ctx) => {
      const p = project(ctx);
      store.deletePipeline(store.pipeline(p.id, ctx.params.pipeline_id!));
      return { status: 204 };
    })
    .on("GET", `${API}/projects/:id/pipelines/:pipeline_id/variables`, (ctx) => {
      const p = project(ctx);
      return { status: 200, body: store.pipeline(p.id, ctx.params.pipeline_id!).variables };
    })
    .on("POST", `${API}/projects/:id/pipelines/:pipeline_id/cancel`, (ctx) => {
      const p = project(ctx);
      const pipeline = store.pipeline(p.id, ctx.params.pipeline_id!);
      store.cancelPipeline(pipeline);
      return { status: 201, body: pipelineJson(pipeline, store, ctx.baseUrl) };
    })
    .on("POST", `${API}/projects/:id/pipelines/:pipeline_id/retry`, (ctx) => {
      const p = project(ctx);
      const pipeline = store.pipeline(p.id, ctx.params.pipeline_id!);
      store.retryPipeline(pipeline);
      return { status: 201, body: pipelineJson(pipeline, store, ctx.baseUrl) };
    })
    .on("GET", `${API}/projects/:id/pipelines/:pipeline_id/jobs`, (ctx) => {
      const p = project(ctx);
      const pipeline = store.pipeline(p.id, ctx.params.pipeline_id!);
      return paginate(
        ctx,
        store
          .pipelineJobs(pipeline)
          .filter(scopeFilter(ctx))
          .map((j) => jobJson(j, store, ctx.baseUrl)),
      );
    })
    .on("GET", `${API}/projects/:id/jobs`, (ctx) => {
      const p = project(ctx);
      const jobs = [...store.jobs.values()]
        .filter((j) => j.projectId === p.id)
        .filter(scopeFilter(ctx))
        .sort((a, b) => b.id - a.id);
      return paginate(
        ctx,
        jobs.map((j) => jobJson(j, store, ctx.baseUrl)),
      );
    })
    .on("GET", `${API}/projects/:id/jobs/:job_id`, (ctx) => {
      const p = project(ctx);
      return { status: 200, body: jobJson(store.job(p.id, ctx.params.job_id!), store, ctx.baseUrl) };
    })
    .on("GET", `${API}/projects/:id/jobs/:job_id/trace`, (ctx) => {
      const p = project(ctx);
      return { status: 200, raw: store.job(p.id, ctx.params.job_id!).trace, contentType: "text/plain" };
    })
    .on("POST", `${API}/projects/:id/jobs/:job_id/cancel`, (ctx) => {
      const p = project(ctx);
      const job = store.job(p.id, ctx.params.job_id!);
      store.cancelJob(job);
      return { status: 201, body: jobJson(job, store, ctx.baseUrl) };
    })
    .on("POST", `${API}/projects/:id/jobs/:job_id/retry`, (ctx) => {
      const p = project(ctx);
      const retried = store.retryJob(store.job(p.id, ctx.params.job_id!));
      return { status: 201, body: jobJson(retried, store, ctx.baseUrl) };
    })
    .on("POST", `${API}/user/runners`, (ctx) => {
      user(ctx);
      const runnerType = str(ctx, "runner_type");
      if (!["instance_type", "group_type", "project_type"].includes(runnerType))
        throw badRequest("runner_type does not have a valid value");
      let projectId: number | null = null;
      if (runnerType === "project_type") projectId = store.project(String(ctx.input.project_id ?? "")).id;
      const tagList = ctx.input.tag_list;
      const tags = Array.isArray(tagList)
        ? tagList.map(String)
        : typeof tagList === "string"
          ? tagList
              .split(",")
              .map((t) => t.trim())
              .filter(Boolean)
          : [];
      const runner = store.createRunner({
        description: str(ctx, "description", false),
        tags,
        runUntagged: ctx.input.run_untagged === true || ctx.input.run_untagged === "true",
        paused: ctx.input.paused === true || ctx.input.paused === "true",
        runnerType,
        projectId,
        maximumTimeout: ctx.input.maximum_timeout ? Number(ctx.input.maximum_timeout) : null,
      });
      return { status: 201, body: { id: runner.id, token: runner.token, token_expires_at: null } };
    })
    .on("GET", `${API}/runners/all`, (ctx) => {
      user(ctx);
      return paginate(ctx, runnersMatching(ctx, [...store.runners.values()]).map(runnerJson));
    })
    .on("GET", `${API}/runners`, (ctx) => {
      user(ctx);
      // The user's own runners: the simulator's only user owns every project and group runner.
      const owned = [...store.runners.values()].filter((r) => r.runnerType !== "instance_type");
      return paginate(ctx, runnersMatching(ctx, owned).map(runnerJson));
    })
    .on("DELETE", `${API}/runners/:runner_id`, (ctx) => {
      user(ctx);
      if (!store.runners.delete(Number(ctx.params.runner_id))) throw notFound("Runner");
      return { status: 204 };
    })
    .on("GET", `${API}/runners/:runner_id`, (ctx) => {
      user(ctx);
      const runner = store.runners.get(Number(ctx.params.runner_id));
      if (!runner) throw notFound("Runner");
      return { status: 200, body: runnerJson(runner) };
    });

  function fileWrite(ctx: RequestContext, action: "create" | "update" | "delete"): Reply {
    const p = project(ctx);
    const u = user(ctx);
    const branch = str(ctx, "branch");
    commitActions(
      ctx,
      p,
      u,
      [{ action, file_path: ctx.params.file_path, content: ctx.input.content, encoding: ctx.input.encoding }],
      str(ctx, "commit_message"),
      branch,
      str(ctx, "start_branch", false) || undefined,
    );
    return { status: action === "create" ? 201 : 200, body: { file_path: ctx.params.file_path, branch } };
  }
}

/** lib/api/ci/runners.rb filters: type, status, paused, tag_list (every tag), search on description. */
function runnersMatching(ctx: RequestContext, runners: Runner[]): Runner[] {
  const tags = Array.isArray(ctx.input.tag_list)
    ? ctx.input.tag_list.map(String)
    : typeof ctx.input.tag_list === "string"
      ? ctx.input.tag_list
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean)
      : [];
  const type = ctx.input.type;
  const paused = ctx.input.paused;
  const status = ctx.input.status;
  const search = typeof ctx.input.search === "string" ? ctx.input.search.toLowerCase() : "";
  return runners
    .filter((r) => tags.every((t) => r.tags.includes(t)))
    .filter((r) => type === undefined || r.runnerType === type)
    .filter((r) => paused === undefined || r.paused === (paused === true || paused === "true"))
    .filter(
      (r) =>
        status === undefined ||
        (status === "paused"
          ? r.paused
          : status === "online"
            ? r.contactedAt !== null
            : status === "never_contacted"
              ? r.contactedAt === null
              : status === "offline"
                ? false
                : true),
    )
    .filter((r) => !search || r.description.toLowerCase().includes(search));
}

/** GitLab's diff entities for a commit against its parent (lib/api/entities/diff.rb), unified hunks without file headers. */
function commitDiff(parent: CommitInfo | undefined, commit: CommitInfo) {
  const paths = [...new Set([...(parent?.files.keys() ?? []), ...commit.files.keys()])].sort();
  const mode = (c: CommitInfo | undefined, path: string) =>
    !c?.files.has(path) ? "0" : c.executable.has(path) ? "100755" : "100644";
  return paths.flatMap((path) => {
    const before = parent?.files.get(path);
    const after = commit.files.get(path);
    if (before && after && before.equals(after) && mode(parent, path) === mode(commit, path)) return [];
    const patch = structuredPatch(
      path,
      path,
      before?.toString("utf8") ?? "",
      after?.toString("utf8") ?? "",
      "",
      "",
      {
        context: 3,
      },
    );
    const diff = patch.hunks
      .map((h) => `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@\n${h.lines.join("\n")}\n`)
      .join("");
    return [
      {
        diff,
        new_path: path,
        old_path: path,
        a_mode: mode(parent, path),
        b_mode: mode(commit, path),
        new_file: !before,
        renamed_file: false,
        deleted_file: !after,
        generated_file: false,
      },
    ];
  });
}

/** The newest commit reachable from `commit` whose change touched `path`. */
function lastCommitTouching(p: Project, commit: CommitInfo, path: string): string {
  let current: CommitInfo = commit;
  for (;;) {
    const parent = current.parent ? p.repo.commits.get(current.parent) : undefined;
    if (!parent) return current.sha;
    const before = parent.files.get(path);
    const after = current.files.get(path);
    if (!before || !after || !before.equals(after)) return current.sha;
    current = parent;
  }
}

/** An Integer parameter as Grape coerces it: absent is undefined, anything but an integer is a 400. */
function integerParam(ctx: RequestContext, name: string): number | undefined {
  const raw = ctx.input[name];
  if (raw === undefined || raw === "") return undefined;
  const value = typeof raw === "string" || typeof raw === "number" ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value)) throw badRequest(`${name} is invalid`);
  return value;
}

function scopeFilter(ctx: RequestContext) {
  const raw = ctx.input.scope;
  const valid = (v: unknown): v is string => typeof v === "string";
  if (raw !== undefined && !valid(raw) && !(Array.isArray(raw) && raw.every(valid)))
    throw badRequest("scope does not have a valid value");
  const scopes = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return (job: { status: string }) => scopes.length === 0 || scopes.includes(job.status);
}

function pipelineVariables(value: unknown): PipelineVariable[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw badRequest("variables is invalid");
  return value.map((v, i) => {
    // Grape validates each element against the declared hash before GitLab sees it.
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw badRequest("variables is invalid");
    const item = v as Record<string, unknown>;
    if (item.value !== undefined && typeof item.value === "object")
      throw badRequest(`variables[${i}][value] is invalid`);
    if (typeof item.key !== "string" || !/^[A-Za-z0-9_]+$/.test(item.key)) {
      throw new ApiError(400, {
        message: { base: [`variables[${i}] key can contain only letters, digits and '_'.`] },
      });
    }
    const type = item.variable_type ?? "env_var";
    if (type !== "env_var" && type !== "file")
      throw badRequest(`variables[${i}][variable_type] does not have a valid value`);
    return { key: item.key, value: String(item.value ?? ""), variable_type: type };
  });
}
