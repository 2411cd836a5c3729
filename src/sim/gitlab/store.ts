// The simulator's state, in memory: users and tokens, projects with git repositories, pipelines, jobs
// and runners, with the job life cycle GitLab applies (created → pending → running → success/failed,
// canceling → canceled) and the queue runners take jobs from.

import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  CiConfigError,
  type CiJobDefinition,
  parseDuration,
  readCiConfig,
  seedPipeline,
} from "./ci/index.ts";
import { ApiError, notFound } from "./errors.ts";
import { GitRepository } from "./git.ts";
import type { Group } from "./groups-api.ts";
import { compositeStatus, type JobStatus, processJobs } from "./processing.ts";

export type { JobStatus } from "./processing.ts";

const FINISHED: JobStatus[] = ["success", "failed", "canceled", "skipped"];

export interface User {
  id: number;
  username: string;
  name: string;
  email: string;
}

/** Where a project lives: root's user namespace (id 1) or a group; ids share one space, as in GitLab. */
export interface ProjectNamespace {
  id: number;
  kind: "user" | "group";
  fullPath: string;
}

export const ROOT_NAMESPACE: ProjectNamespace = { id: 1, kind: "user", fullPath: "root" };

export interface Project {
  id: number;
  name: string;
  path: string;
  namespace: ProjectNamespace;
  /** `<namespace full path>/<path>` */
  fullPath: string;
  description: string;
  createdAt: Date;
  creatorId: number;
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
  beforeSha: string;
  ref: string;
  tag: boolean;
  source: string;
  status: JobStatus;
  userId: number;
  variables: PipelineVariable[];
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  jobIds: number[];
  scheduleId: number | null;
}

export interface JobArtifact {
  fileType: "archive" | "metadata" | "trace" | string;
  filename: string;
  format: string;
  data: Buffer;
  expireAt: Date | null;
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
  /** Starts as the config's allow_failure; becomes true when the job fails with an allowed exit code. */
  allowFailure: boolean;
  /** A retried job stays in the project's job list but no longer counts in its pipeline. */
  retried: boolean;
  /** How many automatic retries (retry:max) led to this job. */
  retryCount: number;
  scheduledAt: Date | null;
  userId: number;
  artifacts: JobArtifact[];
}

export interface PipelineSchedule {
  id: number;
  projectId: number;
  description: string;
  ref: string;
  cron: string;
  cronTimezone: string;
  active: boolean;
  ownerId: number;
  variables: PipelineVariable[];
  lastPipelineId: number | null;
  createdAt: Date;
  updatedAt: Date;
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
  readonly schedules = new Map<number, PipelineSchedule>();
  readonly groups = new Map<number, Group>();
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
    schedule: 1,
    // Namespace 1 is root's user namespace; groups take the ids after it.
    namespace: 2,
  };

  nextNamespaceId(): number {
    return this.nextId.namespace++;
  }

  nextScheduleId(): number {
    return this.nextId.schedule++;
  }

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

  /** A project; with a README commit on main unless `withReadme` is false (GitLab's API creates it empty by default). */
  createProject(
    name: string,
    path: string,
    description: string,
    author: User,
    withReadme = true,
    namespace: ProjectNamespace = ROOT_NAMESPACE,
  ): Project {
    const fullPath = `${namespace.fullPath}/${path}`;
    if ([...this.projects.values()].some((p) => p.fullPath === fullPath)) {
      throw new ApiError(400, {
        message: { path: ["has already been taken"], name: ["has already been taken"] },
      });
    }
    const project: Project = {
      id: this.nextId.project++,
      name,
      path,
      namespace,
      fullPath,
      description,
      createdAt: new Date(),
      creatorId: author.id,
      repo: new GitRepository(),
    };
    if (withReadme)
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
        (p) => p.fullPath === decodeURIComponent(String(id)) || p.path === decodeURIComponent(String(id)),
      );
    if (!project) throw notFound("Project");
    return project;
  }

  deleteProject(project: Project): void {
    for (const pipeline of [...this.pipelines.values()].filter((p) => p.projectId === project.id))
      this.deletePipeline(pipeline);
    this.projects.delete(project.id);
  }

  /** Deletes a pipeline and its jobs; running jobs are canceled first, as GitLab does. */
  deletePipeline(pipeline: Pipeline): void {
    this.cancelPipeline(pipeline);
    for (const job of [...this.jobs.values()].filter((j) => j.pipelineId === pipeline.id))
      this.jobs.delete(job.id);
    this.pipelines.delete(pipeline.id);
  }

  createPipeline(
    project: Project,
    ref: string,
    source: string,
    user: User,
    variables: PipelineVariable[],
    options: { beforeSha?: string; scheduleId?: number } = {},
  ): Pipeline {
    const tag = !project.repo.branches.has(ref) && project.repo.tags.has(ref);
    const commit = project.repo.head(ref);
    if (!commit) throw new ApiError(400, { message: { base: ["Reference not found"] } });
    const configText = commit.files.get(".gitlab-ci.yml");
    if (!configText) throw new ApiError(400, { message: { base: ["Missing CI config file"] } });
    const beforeSha = options.beforeSha ?? "0000000000000000000000000000000000000000";
    const predefined: Record<string, string> = {
      CI_PIPELINE_SOURCE: source,
      CI_COMMIT_REF_NAME: ref,
      ...(tag ? { CI_COMMIT_TAG: ref } : { CI_COMMIT_BRANCH: ref }),
      CI_COMMIT_SHA: commit.sha,
      CI_COMMIT_BEFORE_SHA: beforeSha,
      CI_COMMIT_TITLE: commit.message.split("\n")[0]!,
      CI_COMMIT_MESSAGE: commit.message,
      CI_DEFAULT_BRANCH: project.repo.defaultBranch,
      CI_PROJECT_PATH: project.fullPath,
      CI_PROJECT_NAME: project.path,
      CI_PROJECT_NAMESPACE: project.namespace.fullPath,
      CI_PROJECT_ID: String(project.id),
      GITLAB_USER_LOGIN: user.username,
      CI_SERVER_HOST: "gitlab.example.test",
      CI: "true",
      GITLAB_CI: "true",
    };
    const parent = commit.parent ? project.repo.commits.get(commit.parent) : undefined;
    // GitLab compares a push with the commit before it; other sources (and new branches) make `changes` true.
    const changedFiles =
      source === "push" && parent
        ? [...new Set([...commit.files.keys(), ...parent.files.keys()])].filter(
            (path) =>
              !commit.files.get(path)?.equals(parent.files.get(path) ?? Buffer.alloc(0)) ||
              !parent.files.has(path),
          )
        : undefined;
    let seeded: ReturnType<typeof seedPipeline>;
    try {
      const config = readCiConfig(configText.toString("utf8"), (path) =>
        commit.files.get(path)?.toString("utf8"),
      );
      seeded = seedPipeline(config, {
        variables: { ...predefined, ...Object.fromEntries(variables.map((v) => [v.key, v.value])) },
        source,
        ref,
        tag,
        ...(changedFiles ? { changedFiles } : {}),
        files: [...commit.files.keys()],
      });
    } catch (err) {
      if (err instanceof CiConfigError) throw new ApiError(400, { message: { base: [err.errors[0]!] } });
      throw err;
    }
    const now = new Date();
    const pipeline: Pipeline = {
      id: this.nextId.pipeline++,
      iid: [...this.pipelines.values()].filter((p) => p.projectId === project.id).length + 1,
      projectId: project.id,
      sha: commit.sha,
      beforeSha,
      ref,
      tag,
      source,
      status: "created",
      userId: user.id,
      variables,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
      jobIds: [],
      scheduleId: options.scheduleId ?? null,
    };
    this.pipelines.set(pipeline.id, pipeline);
    project.repo.setRef(`refs/pipelines/${pipeline.id}`, commit.sha);
    for (const definition of seeded.jobs) pipeline.jobIds.push(this.addJob(pipeline, definition, user.id).id);
    this.advance(pipeline);
    return pipeline;
  }

  private addJob(pipeline: Pipeline, definition: CiJobDefinition, userId: number, retryCount = 0): Job {
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
      allowFailure: definition.allowFailure,
      retried: false,
      retryCount,
      scheduledAt: null,
      userId,
      artifacts: [],
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

  /** Moves a pipeline on as GitLab's atomic processing does, then recomputes its status. */
  advance(pipeline: Pipeline): void {
    const jobs = this.pipelineJobs(pipeline);
    const view = jobs.map((job) => ({
      job,
      name: job.definition.name,
      get status() {
        return job.status;
      },
      get allowFailure() {
        return job.allowFailure;
      },
      stageIndex: job.definition.stageIndex,
      when: job.definition.when,
      needs: job.definition.needs?.map((n) => n.name) ?? null,
    }));
    processJobs(view, ({ job }, decision) => {
      if (decision === "skip") this.finish(job, "skipped");
      else if (decision === "manual") job.status = "manual";
      else if (decision === "schedule") this.schedule(job);
      else this.enqueue(job);
    });
    this.updatePipelineStatus(pipeline);
  }

  /** when: delayed — the job waits start_in, then queues (unless played or canceled meanwhile). */
  private schedule(job: Job): void {
    const seconds = parseDuration(job.definition.startIn ?? "") ?? 0;
    job.status = "scheduled";
    job.scheduledAt = new Date(Date.now() + seconds * 1000);
    setTimeout(() => {
      if (job.status !== "scheduled") return;
      this.enqueue(job);
      this.advance(this.pipelines.get(job.pipelineId)!);
    }, seconds * 1000).unref();
  }

  /** Queues a job; a job of a busy resource_group waits for it (waiting_for_resource). */
  private enqueue(job: Job): void {
    const group = job.definition.resourceGroup;
    const busy =
      group !== undefined &&
      [...this.jobs.values()].some(
        (other) =>
          other !== job &&
          other.projectId === job.projectId &&
          other.definition.resourceGroup === group &&
          ["pending", "running", "canceling"].includes(other.status),
      );
    if (busy) {
      job.status = "waiting_for_resource";
      return;
    }
    job.status = "pending";
    job.queuedAt = new Date();
    this.queueVersion++;
    this.emit("queued", job);
  }

  /** The job that waited longest for this resource group gets it. */
  private releaseResource(job: Job): void {
    const group = job.definition.resourceGroup;
    if (group === undefined) return;
    const next = [...this.jobs.values()]
      .filter(
        (j) =>
          j.projectId === job.projectId &&
          j.definition.resourceGroup === group &&
          j.status === "waiting_for_resource",
      )
      .sort((a, b) => a.id - b.id)[0];
    if (next) {
      this.enqueue(next);
      this.updatePipelineStatus(this.pipelines.get(next.pipelineId)!);
    }
  }

  /** Plays a manual (or scheduled) job; jobs skipped because it had not run are reconsidered (ResetSkippedJobsService). */
  playJob(job: Job, user: User): Job {
    if (job.status !== "manual" && job.status !== "scheduled")
      throw new ApiError(400, { message: "Unplayable Job" });
    const pipeline = this.pipelines.get(job.pipelineId)!;
    job.userId = user.id;
    this.enqueue(job);
    for (const other of this.pipelineJobs(pipeline)) {
      if (other.status !== "skipped") continue;
      const needsIt = other.definition.needs?.some((n) => n.name === job.definition.name);
      if (
        needsIt ||
        (other.definition.needs === null && other.definition.stageIndex > job.definition.stageIndex)
      ) {
        other.status = "created";
        other.finishedAt = null;
      }
    }
    pipeline.finishedAt = null;
    this.advance(pipeline);
    return job;
  }

  private updatePipelineStatus(pipeline: Pipeline): void {
    const previous = pipeline.status;
    pipeline.status = (compositeStatus(this.pipelineJobs(pipeline)) ?? "skipped") as JobStatus;
    if (pipeline.status === "running" && !pipeline.startedAt) pipeline.startedAt = new Date();
    pipeline.finishedAt = FINISHED.includes(pipeline.status) ? (pipeline.finishedAt ?? new Date()) : null;
    if (previous !== pipeline.status) {
      pipeline.updatedAt = new Date();
      this.emit("pipeline", pipeline);
    }
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
    this.releaseResource(job);
  }

  /** Cancels a job as GitLab does: a running job on a runner that cancels gracefully goes through canceling. */
  cancelJob(job: Job): void {
    if (FINISHED.includes(job.status) || job.status === "canceling" || job.status === "manual") return;
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
      old.retried = true;
      return this.addJob(pipeline, old.definition, old.userId).id;
    });
    for (const job of this.pipelineJobs(pipeline)) if (job.status === "skipped") job.status = "created";
    pipeline.finishedAt = null;
    this.advance(pipeline);
  }

  /** Retries one finished job: a new job with the same definition takes its place in the pipeline. */
  retryJob(job: Job): Job {
    if (!this.isFinished(job)) throw new ApiError(403, { message: "403 Forbidden - Job is not retryable" });
    const pipeline = this.pipelines.get(job.pipelineId)!;
    job.retried = true;
    const retried = this.addJob(pipeline, job.definition, job.userId);
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
    else {
      const criteria = job.definition.allowFailureExitCodes;
      if (state === "failed" && exitCode !== null && criteria.includes(exitCode)) job.allowFailure = true;
      this.finish(job, state, failureReason, exitCode);
      if (state === "failed" && this.autoRetries(job)) {
        const pipeline = this.pipelines.get(job.pipelineId)!;
        job.retried = true;
        const again = this.addJob(pipeline, job.definition, job.userId, job.retryCount + 1);
        pipeline.jobIds = pipeline.jobIds.map((id) => (id === job.id ? again.id : id));
        this.enqueue(again);
      }
    }
    this.advance(this.pipelines.get(job.pipelineId)!);
  }

  /** retry: a failed job runs again up to max times, when its failure reason (and exit code) qualify. */
  private autoRetries(job: Job): boolean {
    const { max, when, exitCodes } = job.definition.retry;
    if (job.retryCount >= max) return false;
    if (!when.includes("always") && !when.includes(job.failureReason ?? "")) return false;
    return exitCodes.length === 0 || (job.exitCode !== null && exitCodes.includes(job.exitCode));
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
