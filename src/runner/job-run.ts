// One job from pickup to the final update: prepare, get sources, restore cache, script, after_script,
// archive cache, cleanup — with the trace streamed throughout, cancel (Job-Status: canceling) running
// after_script, abort (canceled/403) stopping at once, and the job timeout enforced.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { JobApiClient, JobPayload } from "./api-client.ts";
import { artifactRoots, downloadDependencies, uploadArtifacts } from "./artifacts.ts";
import { archiveCaches, cachePaths, restoreCaches } from "./cache.ts";
import type { Executor, JobContext, StageRun } from "./executor.ts";
import { ShellExecutor } from "./executors/shell.ts";
import { getSourcesScript, userScript } from "./scripts.ts";
import { JobTrace } from "./trace.ts";
import { jobEnvironment } from "./variables.ts";

export interface JobRunSettings {
  runnerName: string;
  runnerVersion: string;
  buildsRoot: string;
  cacheDir: string;
  /** Runner config `environment` plus, for the shell executor, the runner's own environment. */
  baseEnv: Record<string, string>;
  /** How long a stopped stage gets between SIGTERM and SIGKILL. */
  stopGraceMs: number;
  traceIntervalMs: number;
  log(line: string): void;
}

export type JobOutcome =
  | { state: "success" }
  | { state: "failed"; reason: string; exitCode?: number }
  | { state: "aborted" };

const section = (name: string, text: string) =>
  `\x1b[0Ksection_start:${Math.floor(Date.now() / 1000)}:${name}\r\x1b[0K${text}\n`;

export class JobRun {
  private current: StageRun | undefined;
  private cancelRequested = false;
  private aborted = false;
  private timedOut = false;
  private shutdown = false;
  private readonly trace: JobTrace;
  private readonly hostShell = new ShellExecutor();

  constructor(
    private readonly job: JobPayload,
    private readonly client: JobApiClient,
    private readonly executor: Executor,
    private readonly settings: JobRunSettings,
  ) {
    this.trace = new JobTrace(
      client,
      job,
      { onCancelRequested: () => this.requestCancel(), onAborted: () => this.abort() },
      settings.traceIntervalMs,
    );
  }

  /** Job-Status: canceling: stop the script, then after_script runs. */
  requestCancel(): void {
    if (this.cancelRequested || this.aborted) return;
    this.cancelRequested = true;
    this.trace.write("\nwsparity-runner: the job was canceled; stopping the script\n");
    this.current?.stop(this.settings.stopGraceMs);
  }

  /** Canceled for good (GitLab said so), or the runner shuts down (`shutdown`: report the job failed). */
  abort(shutdown = false): void {
    this.shutdown ||= shutdown;
    if (this.aborted) return;
    this.aborted = true;
    this.current?.stop(Math.min(this.settings.stopGraceMs, 2000));
  }

  async run(): Promise<JobOutcome> {
    const { job, executor, settings } = this;
    const buildDir = join(settings.buildsRoot, String(job.id));
    mkdirSync(buildDir, { recursive: true });
    const buildsDirInJob = executor.buildsDirInJob(buildDir);
    const projectDirInJob = `${buildsDirInJob}/root/${job.job_info.project_name}`;
    const projectDirOnHost = join(buildDir, "root", job.job_info.project_name);
    const env = jobEnvironment(
      {
        ...settings.baseEnv,
        CI_BUILDS_DIR: buildsDirInJob,
        CI_PROJECT_DIR: projectDirInJob,
        CI_RUNNER_VERSION: settings.runnerVersion,
        CI_RUNNER_EXECUTABLE_ARCH: `linux/${executor.architecture}`,
        CI_RUNNER_SHORT_TOKEN: this.client.token.replace(/^glrt-/, "").slice(0, 8),
        CI_SERVER_TLS_CA_FILE: "",
      },
      job.variables,
      join(buildDir, ".variables"),
      `${buildsDirInJob}/.variables`,
    );
    const ctx: JobContext = {
      job,
      buildDir,
      buildsDirInJob,
      projectDirInJob,
      env,
      output: (c) => this.trace.write(c),
    };
    this.trace.start();
    this.trace.write(
      `Running with ${settings.runnerName} ${settings.runnerVersion}\n  on ${settings.runnerName}, executor ${executor.name}\n`,
    );
    const timeoutMs = job.runner_info.timeout * 1000;
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.trace.write(
        `\nwsparity-runner: ERROR: Job failed: execution took longer than ${job.runner_info.timeout} seconds\n`,
      );
      this.current?.stop(settings.stopGraceMs);
    }, timeoutMs);

    let outcome: JobOutcome;
    try {
      outcome = await this.stages(ctx, projectDirOnHost);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.trace.write(`\nwsparity-runner: ERROR: ${message}\n`);
      outcome = {
        state: "failed",
        reason: (err as { failureReason?: string }).failureReason ?? "runner_system_failure",
      };
    } finally {
      clearTimeout(timer);
      try {
        await executor.cleanup(ctx);
      } catch (err) {
        settings.log(`job ${job.id}: cleanup failed: ${(err as Error).message}`);
      }
    }
    if (this.aborted && this.shutdown) {
      this.trace.write("\nwsparity-runner: ERROR: the runner is shutting down; the job is stopped\n");
      await this.trace.finish();
      await this.client.updateJob(job, {
        state: "failed",
        failure_reason: "runner_system_failure",
        output: { bytesize: this.trace.size },
      });
      return { state: "failed", reason: "runner_system_failure" };
    }
    if (this.aborted) {
      this.trace.stop();
      return { state: "aborted" };
    }
    this.trace.write(
      outcome.state === "success"
        ? "\x1b[32;1mJob succeeded\x1b[0;m\n"
        : `\x1b[31;1mERROR: Job failed: ${describe(outcome)}\x1b[0;m\n`,
    );
    await this.trace.finish();
    await this.client.updateJob(job, {
      state: outcome.state === "success" ? "success" : "failed",
      ...(outcome.state === "failed"
        ? {
            failure_reason: outcome.reason,
            ...(outcome.exitCode !== undefined ? { exit_code: outcome.exitCode } : {}),
          }
        : {}),
      output: { bytesize: this.trace.size },
    });
    return outcome;
  }

  private async stage(
    ctx: JobContext,
    name: string,
    script: string,
    executor: Executor = this.executor,
  ): Promise<number> {
    this.trace.write(section(name, `\x1b[36;1m${stageTitle(name)}\x1b[0;m`));
    this.current = executor.runStage(ctx, name, script);
    const code = await this.current.done;
    this.current = undefined;
    return code;
  }

  private async stages(ctx: JobContext, projectDirOnHost: string): Promise<JobOutcome> {
    const { job, settings } = this;
    this.trace.write(section("prepare_executor", "Preparing the executor"));
    await this.executor.prepare(ctx);
    if (this.aborted) return { state: "aborted" };

    const sources = getSourcesScript(
      job,
      this.executor.sourcesOnHost ? projectDirOnHost : ctx.projectDirInJob,
      ctx.env,
    );
    if (sources) {
      const onHost = this.executor.sourcesOnHost && this.executor.name !== "shell";
      // git on the runner host needs the host's PATH, not the one the job's image has.
      const sourcesCtx = onHost
        ? { ...ctx, env: { ...ctx.env, PATH: process.env.PATH ?? "/usr/bin:/bin" } }
        : ctx;
      const code = await this.stage(
        sourcesCtx,
        "get_sources",
        sources,
        onHost ? this.hostShell : this.executor,
      );
      if (code !== 0) {
        if (this.aborted) return { state: "aborted" };
        // The job's timeout covers every stage: one that runs out while fetching is a timeout, as in gitlab-runner.
        if (this.timedOut) return { state: "failed", reason: "job_execution_timeout" };
        return { state: "failed", reason: "script_failure", exitCode: code };
      }
    } else mkdirSync(projectDirOnHost, { recursive: true });

    this.trace.write(section("restore_cache", "Restoring cache"));
    await restoreCaches(settings.cacheDir, job, projectDirOnHost, (l) => this.trace.write(`${l}\n`));
    if ((job.dependencies ?? []).some((d) => d.artifacts_file)) {
      this.trace.write(section("download_artifacts", "Downloading artifacts"));
      try {
        await downloadDependencies(this.client, job, projectDirOnHost, (l) => this.trace.write(`${l}\n`));
      } catch (err) {
        this.trace.write(`ERROR: ${(err as Error).message}\n`);
        return { state: "failed", reason: "missing_dependency_failure" };
      }
    }
    if (this.executor.syncIn) {
      this.trace.write("Copying the build folder into the job\n");
      await this.executor.syncIn(ctx);
    }

    const scriptStep = job.steps.find((s) => s.name === "script");
    let scriptCode = 0;
    if (scriptStep && !this.aborted && !this.cancelRequested) {
      scriptCode = await this.stage(ctx, "step_script", userScript(scriptStep.script, ctx.projectDirInJob));
    }
    if (this.aborted) return { state: "aborted" };

    const afterStep = job.steps.find((s) => s.name === "after_script");
    if (afterStep && afterStep.script.length > 0) {
      const after = this.executor.runStage(
        ctx,
        "after_script",
        userScript(afterStep.script, ctx.projectDirInJob),
      );
      this.trace.write(section("after_script", "\x1b[36;1mRunning after_script\x1b[0;m"));
      this.current = after;
      // after_script has its own 5-minute limit in GitLab; a canceled job gets it too.
      const limit = setTimeout(() => after.stop(settings.stopGraceMs), 300_000);
      const afterCode = await after.done;
      clearTimeout(limit);
      this.current = undefined;
      if (afterCode !== 0) this.trace.write(`WARNING: after_script failed with exit code ${afterCode}\n`);
    }
    if (this.aborted) return { state: "aborted" };
    if (this.timedOut) return { state: "failed", reason: "job_execution_timeout" };
    if (this.cancelRequested) return { state: "failed", reason: "script_failure" };

    const succeeded = scriptCode === 0;
    this.trace.write(section("archive_cache", "Saving cache"));
    try {
      const paths = cachePaths(job);
      if (this.executor.syncOut && paths.length > 0) await this.executor.syncOut(ctx, paths);
      await archiveCaches(settings.cacheDir, job, projectDirOnHost, succeeded, (l) =>
        this.trace.write(`${l}\n`),
      );
    } catch (err) {
      this.trace.write(`WARNING: Failed to create cache: ${(err as Error).message}\n`);
    }
    if ((job.artifacts ?? []).length > 0) {
      this.trace.write(section("upload_artifacts", "Uploading artifacts"));
      try {
        const roots = artifactRoots(job);
        if (this.executor.syncOut && roots.length > 0) await this.executor.syncOut(ctx, roots);
        await uploadArtifacts(this.client, job, projectDirOnHost, succeeded, (l) =>
          this.trace.write(`${l}\n`),
        );
      } catch (err) {
        this.trace.write(`ERROR: Uploading artifacts failed: ${(err as Error).message}\n`);
        if (succeeded) return { state: "failed", reason: "unknown_failure" };
      }
    }
    return succeeded
      ? { state: "success" }
      : { state: "failed", reason: "script_failure", exitCode: scriptCode };
  }
}

function stageTitle(name: string): string {
  return name === "get_sources"
    ? "Getting source from Git repository"
    : name === "step_script"
      ? 'Executing "step_script" stage of the job script'
      : name;
}

function describe(outcome: JobOutcome): string {
  if (outcome.state !== "failed") return outcome.state;
  return outcome.exitCode !== undefined
    ? `exit code ${outcome.exitCode} (${outcome.reason})`
    : outcome.reason;
}
