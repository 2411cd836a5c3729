// The simulator's state, in memory: users and tokens, projects with git repositories, pipelines, jobs
// and runners, with the job life cycle GitLab applies (created → pending → running → success/failed,
// canceling → canceled) and the queue runners take jobs from.

import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { type CiJobDefinition, evaluateCiConfig } from "./ci-config.ts";
import { ApiError, notFound } from "./errors.ts";
import { GitRepository } from "./git.ts";

export type JobStatus =
  | "created"
  | "pending"
  | "running"
  | "success"
  | "failed"
  | "canceling"
  | "canceled"
  | "skipped";
const FINISHED: JobStatus[] = ["success", "failed", "canceled", "skipped"];

export interface User {
  id: number;
  username: string;
  name: string;
  email: string;
}

export interface Project {
  id: number;
  name: string;
  path: string;
  description: string;
  createdAt: Date;
  repo: GitRepository;
}

export interface PipelineVariable {
  key: string;
  value: string;
  variable_type: "env_var" | "file";
}

export interface Pipeline {
  id: number;
  iid: number;
  projectId: number;
  sha: string;
  ref: string;
  source: string;
  status: JobStatus;
  userId: number;
  variables: PipelineVariable[];
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  jobIds: number[];
}

export interface Job {
  id: number;
  pipelineId: number;
  projectId: number;
  definition: CiJobDefinition;
  status: JobStatus;
  token: string;
  runnerId: number | null;
  trace: Buffer;
  createdAt: Date;
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  failureReason: string | null;
  exitCode: number | null;
  runnerFeatures: Record<string, boolean>;
}

export interface Runner {
  id: number;
  token: string;
  description: string;
  tags: string[];
  runUntagged: boolean;
  paused: boolean;
  runnerType: string;
  projectId: number | null;
  maximumTimeout: number | null;
  contactedAt: Date | null;
  createdAt: Date;
}

/** GitLab's default job timeout for a project: one hour. */
export const DEFAULT_JOB_TIMEOUT_SECONDS = 3600;

export class Store extends EventEmitter {
  readonly users = new Map<number, User>();
  readonly tokens = new Map<string, number>();
  readonly projects = new Map<number, Project>();
  readonly pipelines = new Map<number, Pipeline>();
  readonly jobs = new Map<number, Job>();
  readonly runners = new Map<number, Runner>();
  /** Bumped whenever a job is queued; sent to runners as X-GitLab-Last-Update. */
  queueVersion = 0;
  // Job ids start at a random offset (ids are opaque on GitLab too), so that several simulators sharing one
  // Docker engine never label two jobs' containers alike.
  private nextId = {
    user: 1,
    project: 1,
    pipeline: 1,
    job: 1 + Math.floor(Math.random() * 1_000_000),
    runner: 1,
  };

  createUser(username: string): User {
    const user = { id: this.nextId.user++, username, name: username, email: `${username}@example.test` };
    this.users.set(user.id, user);
    return user;
  }

  createToken(userId: number): string {
    const token = `glpat-${randomBytes(15).toString("base64url")}`;
    this.tokens.set(token, userId);
    return token;
  }

  createProject(name: string, path: string, description: string, author: User): Project {
    if ([...this.projects.values()].some((p) => p.path === path)) {
      throw new ApiError(400, {
        message: { path: ["has already been taken"], name: ["has already been taken"] },
      });
    }
    const project: Project = {
      id: this.nextId.project++,
      name,
      path,
      description,
      createdAt: new Date(),
      repo: new GitRepository(),
    };
    project.repo.commit(
      "main",
      new Map([["README.md", Buffer.from(`# ${name}\n`)]]),
      "Initial commit",
      { name: author.name, email: author.email },
      null,
    );
    this.projects.set(project.id, project);
    return project;
  }

  project(id: string | number): Project {
    const byId = this.projects.get(Number(id));
    const project =
      byId ??
      [...this.projects.values()].find(
        (p) =>
          `root/${p.path}` === decodeURIComponent(String(id)) || p.path === decodeURIComponent(String(id)),
      );
    if (!project) throw notFound("Project");
    return project;
  }

  createPipeline(
    project: Project,
    ref: string,
    source: string,
    user: User,
    variables: PipelineVariable[],
  ): Pipeline {
    const commit = project.repo.head(ref);
    if (!commit) throw new ApiError(400, { message: { base: ["Reference not found"] } });
    const configText = commit.files.get(".gitlab-ci.yml");
    if (!configText) throw new ApiError(400, { message: { base: ["Missing CI config file"] } });
    const context: Record<string, string> = {
      ...Object.fromEntries(variables.map((v) => [v.key, v.value])),
      CI_PIPELINE_SOURCE: source,
      CI_COMMIT_REF_NAME: ref,
      CI_COMMIT_BRANCH: ref,
      CI_COMMIT_SHA: commit.sha,
      CI_DEFAULT_BRANCH: project.repo.defaultBranch,
      CI_PROJECT_PATH: `root/${project.path}`,
    };
    let evaluated: ReturnType<typeof evaluateCiConfig>;
    try {
      evaluated = evaluateCiConfig(configText.toString("utf8"), context);
    } catch (err) {
      if (err instanceof Error && "errors" in err)
        throw new ApiError(400, { message: { base: (err as { errors: string[] }).errors } });
      throw err;
    }
    if (evaluated.jobs.length === 0) {
      throw new ApiError(400, {
        message: {
          base: [
            "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.",
          ],
        },
      });
    }
    const now = new Date();
    const pipeline: Pipeline = {
      id: this.nextId.pipeline++,
      iid: [...this.pipelines.values()].filter((p) => p.projectId === project.id).length + 1,
      projectId: project.id,
      sha: commit.sha,
      ref,
      source,
      status: "created",
      userId: user.id,
      variables,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
      jobIds: [],
    };
    this.pipelines.set(pipeline.id, pipeline);
    for (const definition of evaluated.jobs) {
      definition.variables = [...evaluated.globalVariables, ...definition.variables];
      pipeline.jobIds.push(this.addJob(pipeline, definition).id);
    }
    this.advance(pipeline);
    return pipeline;
  }

  private addJob(pipeline: Pipeline, definition: CiJobDefinition): Job {
    const job: Job = {
      id: this.nextId.job++,
      pipelineId: pipeline.id,
      projectId: pipeline.projectId,
      definition,
      status: "created",
      token: `glcbt-${randomBytes(15).toString("base64url")}`,
      runnerId: null,
      trace: Buffer.alloc(0),
      createdAt: new Date(),
      queuedAt: null,
      startedAt: null,
      finishedAt: null,
      failureReason: null,
      exitCode: null,
      runnerFeatures: {},
    };
    this.jobs.set(job.id, job);
    return job;
  }

  pipeline(projectId: number, id: string | number): Pipeline {
    const pipeline = this.pipelines.get(Number(id));
    if (!pipeline || pipeline.projectId !== projectId) throw notFound("");
    return pipeline;
  }

  job(projectId: number, id: string | number): Job {
    const job = this.jobs.get(Number(id));
    if (!job || job.projectId !== projectId) throw notFound("");
    return job;
  }

  pipelineJobs(pipeline: Pipeline): Job[] {
    return pipeline.jobIds.map((id) => this.jobs.get(id)!);
  }

  /** Moves a pipeline on: the next stage's jobs queue once every earlier job has finished. */
  advance(pipeline: Pipeline): void {
    const jobs = this.pipelineJobs(pipeline);
    const stages = [...new Set(jobs.map((j) => j.definition.stageIndex))].sort((a, b) => a - b);
    let earlierFailed = false;
    for (const stage of stages) {
      const inStage = jobs.filter((j) => j.definition.stageIndex === stage);
      for (const job of inStage) {
        if (job.status !== "created") continue;
        const runs =
          job.definition.when === "always" ||
          (earlierFailed ? job.definition.when === "on_failure" : job.definition.when !== "on_failure");
        if (!runs) this.finish(job, "skipped");
        else if (job.definition.when === "manual") continue;
        else {
          job.status = "pending";
          job.queuedAt = new Date();
          this.queueVersion++;
          this.emit("queued", job);
        }
      }
      if (!inStage.every((j) => FINISHED.includes(j.status) || j.definition.when === "manual")) break;
      if (inStage.some((j) => j.status === "failed" || j.status === "canceled")) earlierFailed = true;
    }
    this.updatePipelineStatus(pipeline);
  }

  private updatePipelineStatus(pipeline: Pipeline): void {
    const statuses = this.pipelineJobs(pipeline).map((j) => j.status);
    const previous = pipeline.status;
    const has = (s: JobStatus) => statuses.includes(s);
    if (has("running") || has("canceling"))
      pipeline.status = has("canceling") && !has("running") ? "canceling" : "running";
    else if (has("pending"))
      pipeline.status = statuses.some((s) => FINISHED.includes(s) && s !== "skipped") ? "running" : "pending";
    else if (has("created")) pipeline.status = "created";
    else if (has("failed")) pipeline.status = "failed";
    else if (has("canceled")) pipeline.status = "canceled";
    else if (statuses.every((s) => s === "skipped")) pipeline.status = "skipped";
    else pipeline.status = "success";
    if (pipeline.status === "running" && !pipeline.startedAt) pipeline.startedAt = new Date();
    pipeline.finishedAt = FINISHED.includes(pipeline.status) ? (pipeline.finishedAt ?? new Date()) : null;
    if (previous !== pipeline.status) pipeline.updatedAt = new Date();
  }

  /** The oldest pending job this runner may take, now marked running; undefined when there is none. */
  assign(runner: Runner, features: Record<string, boolean>): Job | undefined {
    if (runner.paused) return undefined;
    for (const job of [...this.jobs.values()].sort((a, b) => a.id - b.id)) {
      if (job.status !== "pending") continue;
      if (runner.projectId !== null && runner.projectId !== job.projectId) continue;
      const tags = job.definition.tags;
      if (tags.length === 0 ? !runner.runUntagged : !tags.every((t) => runner.tags.includes(t))) continue;
      job.status = "running";
      job.runnerId = runner.id;
      job.startedAt = new Date();
      job.runnerFeatures = features;
      this.updatePipelineStatus(this.pipelines.get(job.pipelineId)!);
      return job;
    }
    return undefined;
  }

  finish(
    job: Job,
    status: JobStatus,
    failureReason: string | null = null,
    exitCode: number | null = null,
  ): void {
    job.status = status;
    job.failureReason = status === "failed" ? (failureReason ?? "unknown_failure") : null;
    job.exitCode = exitCode;
    job.finishedAt = new Date();
    this.emit("finished", job);
  }

  /** Cancels a job as GitLab does: a running job on a runner that cancels gracefully goes through canceling. */
  cancelJob(job: Job): void {
    if (FINISHED.includes(job.status) || job.status === "canceling") return;
    if (job.status === "running" && job.runnerFeatures.cancel_gracefully) job.status = "canceling";
    else this.finish(job, "canceled");
    this.advance(this.pipelines.get(job.pipelineId)!);
  }

  cancelPipeline(pipeline: Pipeline): void {
    for (const job of this.pipelineJobs(pipeline)) this.cancelJob(job);
    this.advance(pipeline);
  }

  /** Retries a pipeline: each failed or canceled job gets a new job in its place, queued again. */
  retryPipeline(pipeline: Pipeline): void {
    pipeline.jobIds = pipeline.jobIds.map((id) => {
      const old = this.jobs.get(id)!;
      if (old.status !== "failed" && old.status !== "canceled") return id;
      return this.addJob(pipeline, old.definition).id;
    });
    for (const job of this.pipelineJobs(pipeline)) if (job.status === "skipped") job.status = "created";
    pipeline.finishedAt = null;
    this.advance(pipeline);
  }

  /** Retries one finished job: a new job with the same definition takes its place in the pipeline. */
  retryJob(job: Job): Job {
    if (!this.isFinished(job)) throw new ApiError(403, { message: "403 Forbidden - Job is not retryable" });
    const pipeline = this.pipelines.get(job.pipelineId)!;
    const retried = this.addJob(pipeline, job.definition);
    pipeline.jobIds = pipeline.jobIds.map((id) => (id === job.id ? retried.id : id));
    pipeline.finishedAt = null;
    this.advance(pipeline);
    return retried;
  }

  /** The runner's final word on a job (PUT /jobs/:id). */
  complete(
    job: Job,
    state: "success" | "failed",
    failureReason: string | null,
    exitCode: number | null,
  ): void {
    if (job.status === "canceling") this.finish(job, "canceled");
    else this.finish(job, state, failureReason, exitCode);
    this.advance(this.pipelines.get(job.pipelineId)!);
  }

  createRunner(options: Omit<Runner, "id" | "token" | "contactedAt" | "createdAt">): Runner {
    const runner: Runner = {
      ...options,
      id: this.nextId.runner++,
      token: `glrt-${randomBytes(15).toString("base64url")}`,
      contactedAt: null,
      createdAt: new Date(),
    };
    this.runners.set(runner.id, runner);
    return runner;
  }

  runnerByToken(token: unknown): Runner | undefined {
    return typeof token === "string" ? [...this.runners.values()].find((r) => r.token === token) : undefined;
  }

  jobByToken(id: string | number, token: unknown): Job | undefined {
    const job = this.jobs.get(Number(id));
    return job && typeof token === "string" && job.token === token ? job : undefined;
  }

  isFinished(job: Job): boolean {
    return FINISHED.includes(job.status);
  }
}
