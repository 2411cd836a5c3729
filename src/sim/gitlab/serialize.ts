// Entities in the JSON shapes GitLab's REST API v4 answers with (the fields clients read).

import type { CommitInfo } from "./git.ts";
import { namespaceJson, nameWithNamespace } from "./groups-api.ts";
import type { Job, Pipeline, Project, Runner, Store, User } from "./store.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const seconds = (from: Date | null, to: Date | null) =>
  from ? ((to ?? new Date()).getTime() - from.getTime()) / 1000 : null;

export function userJson(user: User, baseUrl: string) {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: "active",
    locked: false,
    avatar_url: null,
    web_url: `${baseUrl}/${user.username}`,
    email: user.email,
  };
}

export function projectJson(project: Project, store: Store, baseUrl: string) {
  const path = project.fullPath;
  const web = `${baseUrl}/${path}`;
  const api = `${baseUrl}/api/v4/projects/${project.id}`;
  const lastPipeline = [...store.pipelines.values()].filter((p) => p.projectId === project.id).at(-1);
  const lastCommit = [...project.repo.commits.values()].at(-1);
  const lastActivity = [project.createdAt, lastCommit?.createdAt, lastPipeline?.updatedAt]
    .filter((d): d is Date => d instanceof Date)
    .sort((a, b) => b.getTime() - a.getTime())[0]!;
  const owner = store.users.get(project.creatorId);
  return {
    id: project.id,
    description: project.description,
    name: project.name,
    name_with_namespace: nameWithNamespace(store, project.namespace, project.name),
    path: project.path,
    path_with_namespace: path,
    created_at: iso(project.createdAt),
    default_branch: project.repo.defaultBranch,
    tag_list: [],
    topics: [],
    ssh_url_to_repo: null,
    http_url_to_repo: `${web}.git`,
    web_url: web,
    readme_url: project.repo.head(project.repo.defaultBranch)?.files.has("README.md")
      ? `${web}/-/blob/${project.repo.defaultBranch}/README.md`
      : null,
    avatar_url: null,
    forks_count: 0,
    star_count: 0,
    last_activity_at: iso(lastActivity),
    namespace: namespaceJson(store, project.namespace, baseUrl),
    _links: {
      self: api,
      issues: `${api}/issues`,
      merge_requests: `${api}/merge_requests`,
      repo_branches: `${api}/repository/branches`,
      labels: `${api}/labels`,
      events: `${api}/events`,
      members: `${api}/members`,
      cluster_agents: `${api}/cluster_agents`,
    },
    empty_repo: project.repo.branches.size === 0,
    archived: false,
    visibility: "private",
    owner: owner
      ? {
          id: owner.id,
          username: owner.username,
          name: owner.name,
          state: "active",
          locked: false,
          avatar_url: null,
          web_url: `${baseUrl}/${owner.username}`,
        }
      : null,
    creator_id: project.creatorId,
    jobs_enabled: true,
    builds_access_level: "enabled",
    repository_access_level: "enabled",
    ci_config_path: null,
    ci_default_git_depth: 20,
    shared_runners_enabled: true,
    permissions: { project_access: { access_level: 50, notification_level: 3 }, group_access: null },
  };
}

export function commitJson(commit: CommitInfo, project: Project, baseUrl: string) {
  return {
    id: commit.sha,
    short_id: commit.sha.slice(0, 8),
    created_at: iso(commit.createdAt),
    parent_ids: commit.parent ? [commit.parent] : [],
    title: commit.message.split("\n")[0],
    message: commit.message,
    author_name: commit.authorName,
    author_email: commit.authorEmail,
    authored_date: iso(commit.createdAt),
    committer_name: commit.authorName,
    committer_email: commit.authorEmail,
    committed_date: iso(commit.createdAt),
    web_url: `${baseUrl}/${project.fullPath}/-/commit/${commit.sha}`,
  };
}

export function pipelineJson(pipeline: Pipeline, store: Store, baseUrl: string) {
  const project = store.projects.get(pipeline.projectId)!;
  return {
    id: pipeline.id,
    iid: pipeline.iid,
    project_id: pipeline.projectId,
    sha: pipeline.sha,
    ref: pipeline.ref,
    status: pipeline.status,
    source: pipeline.source,
    created_at: iso(pipeline.createdAt),
    updated_at: iso(pipeline.updatedAt),
    started_at: iso(pipeline.startedAt),
    finished_at: iso(pipeline.finishedAt),
    duration:
      pipeline.startedAt && pipeline.finishedAt
        ? Math.round(seconds(pipeline.startedAt, pipeline.finishedAt)!)
        : null,
    web_url: `${baseUrl}/${project.fullPath}/-/pipelines/${pipeline.id}`,
    user: userJson(store.users.get(pipeline.userId)!, baseUrl),
    tag: false,
    yaml_errors: null,
  };
}

export function runnerJson(runner: Runner) {
  return {
    id: runner.id,
    description: runner.description,
    active: !runner.paused,
    paused: runner.paused,
    is_shared: runner.runnerType === "instance_type",
    runner_type: runner.runnerType,
    name: "wsparity-runner",
    online: runner.contactedAt !== null && Date.now() - runner.contactedAt.getTime() < 2 * 3600_000,
    status: runner.contactedAt ? "online" : "never_contacted",
    tag_list: runner.tags,
    run_untagged: runner.runUntagged,
    contacted_at: iso(runner.contactedAt),
    created_at: iso(runner.createdAt),
  };
}

export function jobJson(job: Job, store: Store, baseUrl: string) {
  const pipeline = store.pipelines.get(job.pipelineId)!;
  const project = store.projects.get(job.projectId)!;
  const runner = job.runnerId ? store.runners.get(job.runnerId) : undefined;
  const commit = project.repo.commits.get(pipeline.sha)!;
  const archive = job.artifacts.find((a) => a.fileType === "archive");
  return {
    id: job.id,
    status: job.status,
    stage: job.definition.stage,
    name: job.definition.name,
    ref: pipeline.ref,
    tag: false,
    coverage: null,
    allow_failure: false,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    erased_at: null,
    duration: seconds(job.startedAt, job.finishedAt),
    queued_duration: seconds(job.queuedAt, job.startedAt),
    user: userJson(store.users.get(pipeline.userId)!, baseUrl),
    commit: commitJson(commit, project, baseUrl),
    pipeline: {
      id: pipeline.id,
      project_id: pipeline.projectId,
      ref: pipeline.ref,
      sha: pipeline.sha,
      status: pipeline.status,
    },
    web_url: `${baseUrl}/${project.fullPath}/-/jobs/${job.id}`,
    project: { ci_job_token_scope_enabled: false },
    // Entities::Ci::JobArtifact per stored file (the archive and each report), and the archive as artifacts_file.
    artifacts: job.artifacts.map((a) => ({
      file_type: a.fileType,
      size: a.data.length,
      filename: a.filename,
      file_format: a.format,
    })),
    ...(archive ? { artifacts_file: { filename: archive.filename, size: archive.data.length } } : {}),
    artifacts_expire_at: archive?.expireAt ? iso(archive.expireAt) : null,
    runner: runner ? runnerJson(runner) : null,
    tag_list: job.definition.tags,
    failure_reason: job.failureReason ?? undefined,
    archived: false,
  };
}
