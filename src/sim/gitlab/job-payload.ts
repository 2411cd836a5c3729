// The job JSON POST /jobs/request answers with (lib/api/entities/ci/job_request/response.rb and the
// runner's common/spec): predefined variables as GitLab sends them (doc/ci/variables/predefined_variables.md),
// git_info with the project's default depth (20) and the pipeline's persistent ref first in the refspecs
// (Ci::BuildRunnerPresenter#refspecs), hooks, artifacts (archive and reports), cache, and the jobs whose
// artifacts this one downloads, with their tokens.

import { FAILURE_REASONS } from "./failure-reasons.ts";
import {
  DEFAULT_JOB_TIMEOUT_SECONDS,
  type Job,
  type ProjectNamespace,
  type Runner,
  type Store,
} from "./store.ts";

/** GitLab's default "Git shallow clone" depth for new projects. */
export const DEFAULT_GIT_DEPTH = 20;
// The GitLab release whose APIs the simulator speaks: GraphQL workspaceCreate with projectRef and workspaceVariables is 18.0's.
export const SERVER_VERSION = "18.0.0";

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 63)
    .replace(/^-+|-+$/g, "");

interface Variable {
  key: string;
  value: string;
  public: boolean;
  masked: boolean;
  raw?: boolean;
  file?: boolean;
}

function predefinedVariables(
  store: Store,
  job: Job,
  runner: Runner,
  baseUrl: string,
  timeout: number,
): Variable[] {
  const pipeline = store.pipelines.get(job.pipelineId)!;
  const project = store.projects.get(job.projectId)!;
  const user = store.users.get(job.userId) ?? store.users.get(pipeline.userId)!;
  const commit = project.repo.commits.get(pipeline.sha)!;
  const def = job.definition;
  const host = new URL(baseUrl);
  const projectUrl = `${baseUrl}/${project.fullPath}`;
  const [major, minor, patch] = SERVER_VERSION.split(".");
  const [title = "", ...rest] = commit.message.split("\n");
  const vars: [string, string, boolean?][] = [
    ["CI_PIPELINE_ID", String(pipeline.id)],
    ["CI_PIPELINE_URL", `${projectUrl}/-/pipelines/${pipeline.id}`],
    ["CI_JOB_ID", String(job.id)],
    ["CI_JOB_URL", `${projectUrl}/-/jobs/${job.id}`],
    ["CI_JOB_TOKEN", job.token, false],
    ["CI_JOB_STARTED_AT", (job.startedAt ?? new Date()).toISOString().replace(/\.\d+Z$/, "Z")],
    ["CI_REGISTRY_USER", "gitlab-ci-token"],
    ["CI_REGISTRY_PASSWORD", job.token, false],
    [
      "CI_REPOSITORY_URL",
      `${host.protocol}//gitlab-ci-token:${job.token}@${host.host}/${project.fullPath}.git`,
      false,
    ],
    ["CI_DEPENDENCY_PROXY_USER", "gitlab-ci-token"],
    ["CI_DEPENDENCY_PROXY_PASSWORD", job.token, false],
    ["CI_JOB_NAME", def.name],
    ["CI_JOB_NAME_SLUG", slug(def.name)],
    ["CI_JOB_GROUP_NAME", def.parallel ? def.name.replace(/( \d+\/\d+|: \[.*\])$/, "") : def.name],
    ["CI_JOB_STAGE", def.stage],
    ["CI_JOB_TIMEOUT", String(timeout)],
    ...(job.status === "running" && def.when === "manual"
      ? ([["CI_JOB_MANUAL", "true"]] as [string, string][])
      : []),
    ...(def.parallel
      ? ([
          ["CI_NODE_INDEX", String(def.parallel.index)],
          ["CI_NODE_TOTAL", String(def.parallel.total)],
        ] as [string, string][])
      : ([["CI_NODE_TOTAL", "1"]] as [string, string][])),
    ...(def.environment ? ([["CI_ENVIRONMENT_NAME", def.environment]] as [string, string][]) : []),
    ...(def.image ? ([["CI_JOB_IMAGE", def.image.name]] as [string, string][]) : []),
    ["CI_COMMIT_SHA", pipeline.sha],
    ["CI_COMMIT_SHORT_SHA", pipeline.sha.slice(0, 8)],
    ["CI_COMMIT_BEFORE_SHA", pipeline.beforeSha],
    ["CI_COMMIT_REF_NAME", pipeline.ref],
    ["CI_COMMIT_REF_SLUG", slug(pipeline.ref)],
    ...(pipeline.tag
      ? ([
          ["CI_COMMIT_TAG", pipeline.ref],
          ["CI_COMMIT_TAG_MESSAGE", ""],
        ] as [string, string][])
      : ([["CI_COMMIT_BRANCH", pipeline.ref]] as [string, string][])),
    ["CI_COMMIT_REF_PROTECTED", String(pipeline.ref === project.repo.defaultBranch)],
    ["CI_COMMIT_MESSAGE", commit.message],
    ["CI_COMMIT_TITLE", title],
    ["CI_COMMIT_DESCRIPTION", rest.join("\n").replace(/^\n/, "")],
    ["CI_COMMIT_TIMESTAMP", commit.createdAt.toISOString().replace(/\.\d+Z$/, "+00:00")],
    ["CI_COMMIT_AUTHOR", `${commit.authorName} <${commit.authorEmail}>`],
    ["CI_PIPELINE_IID", String(pipeline.iid)],
    ["CI_PIPELINE_SOURCE", pipeline.source],
    ["CI_PIPELINE_CREATED_AT", pipeline.createdAt.toISOString().replace(/\.\d+Z$/, "Z")],
    ["CI_PIPELINE_TRIGGERED", String(pipeline.source === "trigger")],
    ["CI_CONFIG_PATH", ".gitlab-ci.yml"],
    ["CI_DEFAULT_BRANCH", project.repo.defaultBranch],
    ["CI_PROJECT_ID", String(project.id)],
    ["CI_PROJECT_NAME", project.path],
    ["CI_PROJECT_TITLE", project.name],
    ["CI_PROJECT_DESCRIPTION", project.description],
    ["CI_PROJECT_PATH", project.fullPath],
    ["CI_PROJECT_PATH_SLUG", slug(project.fullPath)],
    ["CI_PROJECT_NAMESPACE", project.namespace.fullPath],
    ["CI_PROJECT_NAMESPACE_SLUG", slug(project.namespace.fullPath)],
    ["CI_PROJECT_ROOT_NAMESPACE", project.fullPath.split("/")[0]!],
    ["CI_PROJECT_URL", projectUrl],
    ["CI_PROJECT_VISIBILITY", "private"],
    ["CI_PROJECT_REPOSITORY_LANGUAGES", ""],
    ["CI_PROJECT_CLASSIFICATION_LABEL", ""],
    ["CI_PAGES_DOMAIN", "example.test"],
    ["CI_PAGES_URL", `http://root.example.test/${project.path}`],
    ["CI_REGISTRY", `${host.hostname}:5050`],
    ["CI_REGISTRY_IMAGE", `${host.hostname}:5050/${project.fullPath}`],
    ["CI_DEPENDENCY_PROXY_SERVER", `${host.hostname}:${host.port || 80}`],
    [
      "CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX",
      `${host.hostname}:${host.port || 80}/root/dependency_proxy/containers`,
    ],
    [
      "CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX",
      `${host.hostname}:${host.port || 80}/root/dependency_proxy/containers`,
    ],
    ["CI_API_V4_URL", `${baseUrl}/api/v4`],
    ["CI_API_GRAPHQL_URL", `${baseUrl}/api/graphql`],
    ["CI_SERVER_URL", baseUrl],
    ["CI_SERVER_HOST", host.hostname],
    ["CI_SERVER_PORT", host.port || (host.protocol === "https:" ? "443" : "80")],
    ["CI_SERVER_PROTOCOL", host.protocol.replace(":", "")],
    ["CI_SERVER_FQDN", host.host],
    ["CI_SERVER_SHELL_SSH_HOST", host.hostname],
    ["CI_SERVER_SHELL_SSH_PORT", "22"],
    ["CI_SERVER_NAME", "GitLab"],
    ["CI_SERVER_VERSION", SERVER_VERSION],
    ["CI_SERVER_VERSION_MAJOR", major!],
    ["CI_SERVER_VERSION_MINOR", minor!],
    ["CI_SERVER_VERSION_PATCH", patch!],
    ["CI_SERVER_REVISION", "0000000000"],
    ["CI_RUNNER_ID", String(runner.id)],
    ["CI_RUNNER_DESCRIPTION", runner.description],
    ["CI_RUNNER_TAGS", JSON.stringify(runner.tags)],
    ["CI", "true"],
    ["GITLAB_CI", "true"],
    ["CI_SERVER", "yes"],
    ["GITLAB_FEATURES", ""],
    ["GITLAB_USER_ID", String(user.id)],
    ["GITLAB_USER_EMAIL", user.email],
    ["GITLAB_USER_LOGIN", user.username],
    ["GITLAB_USER_NAME", user.name],
  ];
  return vars.map(([key, value, pub = true]) => ({
    key,
    value,
    public: pub,
    masked:
      key === "CI_JOB_TOKEN" || key === "CI_REGISTRY_PASSWORD" || key === "CI_DEPENDENCY_PROXY_PASSWORD",
  }));
}

/** The jobs whose artifacts this job receives: `dependencies`, else `needs` with artifacts, else every job of earlier stages. */
export function dependencyJobs(store: Store, job: Job): Job[] {
  const pipeline = store.pipelines.get(job.pipelineId)!;
  const jobs = store.pipelineJobs(pipeline);
  const def = job.definition;
  let names: string[];
  if (def.dependencies) names = def.dependencies;
  else if (def.needs) names = def.needs.filter((n) => n.artifacts).map((n) => n.name);
  else names = jobs.filter((j) => j.definition.stageIndex < def.stageIndex).map((j) => j.definition.name);
  return jobs.filter((j) => j !== job && names.includes(j.definition.name));
}

function rootNamespaceId(store: Store, namespace: ProjectNamespace): number {
  let group = namespace.kind === "group" ? store.groups.get(namespace.id) : undefined;
  while (group?.parentId) group = store.groups.get(group.parentId);
  return group?.id ?? namespace.id;
}

export function jobPayload(store: Store, job: Job, runner: Runner, baseUrl: string) {
  const pipeline = store.pipelines.get(job.pipelineId)!;
  const project = store.projects.get(job.projectId)!;
  const def = job.definition;
  let timeout = def.timeoutSeconds ?? DEFAULT_JOB_TIMEOUT_SECONDS;
  if (runner.maximumTimeout) timeout = Math.min(timeout, runner.maximumTimeout);
  const repoUrl = new URL(baseUrl);
  const cloneUrl = `${repoUrl.protocol}//gitlab-ci-token:${job.token}@${repoUrl.host}/${project.fullPath}.git`;
  const variable = (v: { key: string; value: string; raw: boolean }, pub: boolean) => ({
    key: v.key,
    value: v.value,
    public: pub,
    masked: false,
    ...(v.raw ? { raw: true } : {}),
  });
  const image = (i: NonNullable<typeof def.image>) => ({
    name: i.name,
    ...(i.alias ? { alias: i.alias } : {}),
    ...(i.entrypoint ? { entrypoint: i.entrypoint } : {}),
    ...(i.command ? { command: i.command } : {}),
    ports: [],
    ...(i.variables ? { variables: i.variables.map((v) => variable(v, true)) } : {}),
    ...(i.platform || i.user
      ? {
          executor_opts: {
            docker: { ...(i.platform ? { platform: i.platform } : {}), ...(i.user ? { user: i.user } : {}) },
          },
        }
      : {}),
    pull_policy: i.pullPolicy ?? null,
  });
  const refspecs = [
    `+refs/pipelines/${pipeline.id}:refs/pipelines/${pipeline.id}`,
    pipeline.tag
      ? `+refs/tags/${pipeline.ref}:refs/tags/${pipeline.ref}`
      : `+refs/heads/${pipeline.ref}:refs/remotes/origin/${pipeline.ref}`,
  ];
  const artifacts = def.artifacts;
  const expireIn = artifacts?.expireIn ?? null;
  return {
    id: job.id,
    token: job.token,
    allow_git_fetch: true,
    job_info: {
      id: job.id,
      name: def.name,
      stage: def.stage,
      pipeline_id: pipeline.id,
      project_id: project.id,
      project_name: project.path,
      project_full_path: project.fullPath,
      namespace_id: project.namespace.id,
      root_namespace_id: rootNamespaceId(store, project.namespace),
      user_id: job.userId,
      time_in_queue_seconds:
        job.queuedAt && job.startedAt ? (job.startedAt.getTime() - job.queuedAt.getTime()) / 1000 : 0,
      project_jobs_running_on_instance_runners_count: "0",
      queue_size: 0,
      queue_depth: 0,
    },
    git_info: {
      repo_url: cloneUrl,
      repo_object_format: "sha1",
      ref: pipeline.ref,
      sha: pipeline.sha,
      before_sha: pipeline.beforeSha,
      ref_type: pipeline.tag ? "tag" : "branch",
      refspecs,
      depth: DEFAULT_GIT_DEPTH,
      protected: pipeline.ref === project.repo.defaultBranch,
    },
    runner_info: { timeout, runner_session_url: null },
    variables: [
      ...predefinedVariables(store, job, runner, baseUrl, timeout),
      ...def.variables.map((v) => variable(v, true)),
      ...pipeline.variables.map((v) => ({
        key: v.key,
        value: v.value,
        public: false,
        masked: false,
        ...(v.variable_type === "file" ? { file: true } : {}),
      })),
    ],
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
    hooks:
      def.preGetSourcesScript.length > 0
        ? [{ name: "pre_get_sources_script", script: def.preGetSourcesScript }]
        : [],
    image: def.image ? image(def.image) : null,
    services: def.services.map(image),
    artifacts: artifacts
      ? [
          ...(artifacts.paths.length > 0 || artifacts.untracked
            ? [
                {
                  name: artifacts.name ?? "artifacts",
                  untracked: artifacts.untracked,
                  paths: artifacts.paths,
                  exclude: artifacts.exclude,
                  when: artifacts.when,
                  artifact_type: "archive",
                  artifact_format: "zip",
                  expire_in: expireIn,
                },
              ]
            : []),
          ...Object.entries(artifacts.reports).map(([type, paths]) => ({
            name: type,
            untracked: false,
            paths,
            exclude: [],
            when: "always",
            artifact_type: type,
            artifact_format: "gzip",
            expire_in: expireIn,
          })),
        ]
      : [],
    cache: def.cache.map((c) => ({
      key: c.key,
      untracked: c.untracked,
      policy: c.policy,
      paths: c.paths,
      when: c.when,
      fallback_keys: c.fallbackKeys,
    })),
    credentials: [],
    dependencies: dependencyJobs(store, job).map((dep) => {
      const archive = dep.artifacts.find((a) => a.fileType === "archive");
      return {
        id: dep.id,
        name: dep.definition.name,
        token: job.token,
        ...(archive ? { artifacts_file: { filename: archive.filename, size: archive.data.length } } : {}),
      };
    }),
    features: {
      trace_sections: true,
      token_mask_prefixes: ["glpat-", "glcbt-", "glrt-"],
      failure_reasons: FAILURE_REASONS,
    },
  };
}
