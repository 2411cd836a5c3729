// Starts, watches and stops CI-path workspaces through GitLab's API (@gitbeaker/rest), the way a real
// GitLab accepts it: the generated .gitlab-ci.yml is committed to a per-workspace branch, then a pipeline
// is created on that branch with the workspace's secrets as pipeline variables (the token as a file
// variable, never in the repository). Stop asks the workspace agent to stop when the caller can (the job
// script then ends by itself, so after_script runs and the runner saves the volumes' cache) and cancels the
// job when the agent cannot be asked or the job does not end in time; restart creates a new pipeline.

import type { Gitlab } from "@gitbeaker/rest";
import type { WorkspaceSpec } from "../devfile/spec.ts";
import { generatePipeline } from "./pipeline.ts";
import type { GeneratedPipeline, PipelineOptions } from "./types.ts";

type GitlabApi = InstanceType<typeof Gitlab>;

export interface LaunchOptions extends PipelineOptions {
  /** The workspace id: a DNS label, unique among workspaces (the tunnel routes by it). */
  workspace: string;
  /** Where the agent dials: tcp://, tls://, ws:// or wss:// of the tunnel server. */
  tunnelUrl: string;
  /** The agent's secret; travels as a file variable. */
  agentToken: string;
  /** More pipeline variables, e.g. user variables of the workspace (env or file). */
  variables?: { key: string; value: string; variable_type?: "env_var" | "file" }[];
}

export interface LaunchedWorkspace {
  workspace: string;
  ref: string;
  pipelineId: number;
  jobId: number;
  pipeline: GeneratedPipeline;
}

export type JobState =
  | "created"
  | "pending"
  | "running"
  | "success"
  | "failed"
  | "canceling"
  | "canceled"
  | "skipped"
  | "manual";
const FINISHED = ["success", "failed", "canceled", "skipped"];
const ENDED: JobState[] = ["canceled", "failed", "success"];
/** How long a job told to stop gets to end by itself before it is canceled. */
const GRACEFUL_WAIT_MS = 30_000;

/** Asks the workspace's agent to stop; true when it agreed (e.g. `AgentRoute.requestStop`). */
export type GracefulStop = () => Promise<boolean>;

export const workspaceRef = (workspace: string) => `wsparity/workspace/${workspace}`;

export class WorkspaceLauncher {
  constructor(
    private readonly api: GitlabApi,
    private readonly projectId: number | string,
  ) {}

  /** Commits the workspace's pipeline and creates a pipeline for it; resolves once its job exists. */
  async start(spec: WorkspaceSpec, options: LaunchOptions): Promise<LaunchedWorkspace> {
    const pipeline = generatePipeline(spec, options);
    const ref = workspaceRef(options.workspace);
    await this.commitConfig(ref, pipeline.yaml, options.workspace);
    const created = await this.api.Pipelines.create(this.projectId, ref, {
      variables: [
        { key: "WSPARITY_WORKSPACE", value: options.workspace },
        { key: "WSPARITY_TUNNEL_URL", value: options.tunnelUrl },
        { key: "WSPARITY_TOKEN_FILE", value: options.agentToken, variable_type: "file" },
        ...(options.variables ?? []),
      ],
    });
    const [job] = await this.api.Jobs.all(this.projectId, { pipelineId: created.id });
    if (!job) throw new Error(`pipeline ${created.id} for workspace ${options.workspace} has no job`);
    return { workspace: options.workspace, ref, pipelineId: created.id, jobId: job.id, pipeline };
  }

  private async commitConfig(ref: string, yaml: string, workspace: string): Promise<void> {
    let exists = true;
    try {
      await this.api.Branches.show(this.projectId, ref);
    } catch {
      exists = false;
    }
    const project = await this.api.Projects.show(this.projectId);
    await this.api.Commits.create(
      this.projectId,
      ref,
      `wsparity: workspace ${workspace} pipeline`,
      [{ action: exists ? "update" : "create", filePath: ".gitlab-ci.yml", content: yaml }],
      exists ? {} : { startBranch: project.default_branch as string },
    );
  }

  async jobState(launched: LaunchedWorkspace): Promise<JobState> {
    return (await this.api.Jobs.show(this.projectId, launched.jobId)).status as JobState;
  }

  /** Waits until the job reaches one of `states`; throws if it finishes otherwise or time runs out. */
  async waitFor(launched: LaunchedWorkspace, states: JobState[], timeoutMs = 60_000): Promise<JobState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.jobState(launched);
      if (states.includes(state)) return state;
      if (FINISHED.includes(state)) {
        const log = await this.api.Jobs.showLog(this.projectId, launched.jobId);
        throw new Error(
          `workspace ${launched.workspace}: job ${launched.jobId} ended ${state}, not ${states.join("/")}\n${String(log).slice(-2000)}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(
          `workspace ${launched.workspace}: job ${launched.jobId} still ${state} after ${timeoutMs} ms`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Stops the workspace's job and waits until GitLab records it finished. With a `graceful` step (one that
   * asks the job's agent to stop and resolves true when the agent agreed), the job is first given
   * min(timeoutMs, 30 s) to end by itself — `success`, with after_script run and the cache saved; it is
   * canceled when the agent could not be asked or the job is still running then.
   */
  async stop(launched: LaunchedWorkspace, timeoutMs = 60_000, graceful?: GracefulStop): Promise<JobState> {
    if (graceful && (await graceful().catch(() => false))) {
      try {
        return await this.waitFor(launched, ENDED, Math.min(timeoutMs, GRACEFUL_WAIT_MS));
      } catch {
        // Still running (or GitLab did not answer): cancel, as without the graceful step.
      }
    }
    await this.api.Jobs.cancel(this.projectId, launched.jobId);
    return this.waitFor(launched, ENDED, timeoutMs);
  }

  /** Stops the workspace if it runs, then starts it again with a new pipeline. */
  async restart(
    previous: LaunchedWorkspace,
    spec: WorkspaceSpec,
    options: LaunchOptions,
    graceful?: GracefulStop,
  ): Promise<LaunchedWorkspace> {
    if (!FINISHED.includes(await this.jobState(previous))) await this.stop(previous, 60_000, graceful);
    return this.start(spec, options);
  }
}
