// The runner process: long-polls GitLab for jobs on `concurrent` slots, runs each with its executor,
// and on stop aborts what runs (reporting it failed) and leaves no process or container behind.

import { hostname } from "node:os";
import { JobApiClient, type RunnerInfo } from "./api-client.ts";
import type { Executor } from "./executor.ts";
import { JobRun, type JobRunSettings } from "./job-run.ts";

export const RUNNER_VERSION = "0.1.0-wsparity";

export interface RunnerOptions {
  name: string;
  url: string;
  token: string;
  executor: Executor;
  concurrent: number;
  buildsDir: string;
  cacheDir: string;
  environment: Record<string, string>;
  stopGraceMs: number;
  traceIntervalMs: number;
  log: (line: string) => void;
}

export class Runner {
  private readonly client: JobApiClient;
  private readonly running = new Set<JobRun>();
  private readonly polls = new AbortController();
  private loops: Promise<void>[] = [];
  private stopping = false;
  /** Graceful shutdown: no new jobs; running ones go on. */
  private draining = false;
  /** Milliseconds from the start of each long poll that returned a job to the job's arrival. */
  readonly pickups: { jobId: number; pollStartedAt: number; receivedAt: number }[] = [];

  constructor(readonly options: RunnerOptions) {
    this.client = new JobApiClient(options.url, options.token);
  }

  info(): RunnerInfo {
    const { executor } = this.options;
    return {
      name: "wsparity-runner",
      version: RUNNER_VERSION,
      revision: "wsparity",
      platform: "linux",
      architecture: executor.architecture,
      executor: executor.name,
      shell: "bash",
      features: {
        variables: true,
        artifacts: true,
        cache: true,
        shared: false,
        upload_multiple_artifacts: true,
        upload_raw_artifacts: false,
        session: false,
        terminal: false,
        refspecs: true,
        masking: true,
        proxy: false,
        raw_variables: true,
        artifacts_exclude: true,
        multi_build_steps: true,
        trace_reset: false,
        trace_checksum: false,
        trace_size: true,
        vault_secrets: false,
        cancelable: true,
        return_exit_code: true,
        service_variables: true,
        service_multiple_aliases: false,
        image_executor_opts: true,
        service_executor_opts: false,
        cancel_gracefully: true,
        native_steps_integration: false,
        ...executor.features,
      },
    };
  }

  async start(): Promise<this> {
    await this.client.verify();
    const cleaned = await this.options.executor.recover(this.options.buildsDir);
    for (const what of cleaned) this.options.log(`removed what an earlier runner process left: ${what}`);
    this.loops = Array.from({ length: this.options.concurrent }, () => this.loop());
    return this;
  }

  private async loop(): Promise<void> {
    let lastUpdate: string | undefined;
    let backoff = 1000;
    while (!this.stopping && !this.draining) {
      const pollStartedAt = Date.now();
      try {
        const answer = await this.client.requestJob(this.info(), lastUpdate, this.polls.signal);
        lastUpdate = answer.lastUpdate ?? lastUpdate;
        backoff = 1000;
        if (!answer.job) continue;
        if (!("job" in answer.job)) {
          await this.reportUnusable(answer.job);
          continue;
        }
        const { job } = answer.job;
        this.pickups.push({ jobId: job.id, pollStartedAt, receivedAt: Date.now() });
        this.options.log(`job ${job.id} (${job.job_info.name}) received`);
        const run = new JobRun(job, this.client, this.options.executor, this.settings());
        this.running.add(run);
        try {
          const outcome = await run.run();
          this.options.log(
            `job ${job.id} finished: ${outcome.state}${outcome.state === "failed" ? ` (${outcome.reason})` : ""}`,
          );
        } finally {
          this.running.delete(run);
        }
      } catch (err) {
        if (this.stopping || this.draining) break;
        this.options.log(
          `checking for jobs failed: ${(err as Error).message}; retrying in ${backoff / 1000} s`,
        );
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  /** A job GitLab handed out that this runner cannot run: failed as a system failure, saying why. */
  private async reportUnusable(payload: { problem: string; id?: number; token?: string }): Promise<void> {
    if (payload.id === undefined || payload.token === undefined) {
      this.options.log(
        `a job was received but ${payload.problem}; it names no job to report, so GitLab will fail it when it times out`,
      );
      return;
    }
    const job = { id: payload.id, token: payload.token };
    this.options.log(
      `job ${job.id} received but ${payload.problem}: reporting it failed (runner_system_failure)`,
    );
    const line = `Running with wsparity-runner ${RUNNER_VERSION}\nERROR: Job failed (system failure): ${payload.problem}\n`;
    const content = Buffer.from(line);
    await this.client.patchTrace(job, content, 0);
    await this.client.updateJob(job, {
      state: "failed",
      failure_reason: "runner_system_failure",
      output: { bytesize: content.length },
    });
  }

  private settings(): JobRunSettings {
    const o = this.options;
    return {
      runnerName: o.name,
      runnerVersion: RUNNER_VERSION,
      buildsRoot: o.buildsDir,
      cacheDir: o.cacheDir,
      baseEnv: o.environment,
      stopGraceMs: o.stopGraceMs,
      traceIntervalMs: o.traceIntervalMs,
      log: o.log,
    };
  }

  get activeJobs(): number {
    return this.running.size;
  }

  /** Stops polling and waits for running jobs to finish (gitlab-runner's graceful shutdown). */
  async drain(): Promise<void> {
    this.draining = true;
    this.polls.abort();
    await Promise.allSettled(this.loops);
  }

  /** Stops polling, aborts running jobs (they end failed: runner_system_failure) and waits for cleanup. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.polls.abort();
    const runs = [...this.running];
    for (const run of runs) run.abort(true);
    await Promise.allSettled(this.loops);
  }
}

/** A fluent way to put a runner together: `RunnerBuilder.for(url, token).withExecutor(...).build()`. */
export class RunnerBuilder {
  private options: Partial<RunnerOptions> & Pick<RunnerOptions, "url" | "token">;

  private constructor(url: string, token: string) {
    this.options = { url, token };
  }

  static for(url: string, token: string): RunnerBuilder {
    return new RunnerBuilder(url, token);
  }

  withName(name: string): this {
    this.options.name = name;
    return this;
  }

  withExecutor(executor: Executor): this {
    this.options.executor = executor;
    return this;
  }

  withConcurrency(concurrent: number): this {
    this.options.concurrent = concurrent;
    return this;
  }

  withDirectories(buildsDir: string, cacheDir: string): this {
    this.options.buildsDir = buildsDir;
    this.options.cacheDir = cacheDir;
    return this;
  }

  withEnvironment(environment: Record<string, string>): this {
    this.options.environment = environment;
    return this;
  }

  withTraceInterval(ms: number): this {
    this.options.traceIntervalMs = ms;
    return this;
  }

  withStopGrace(ms: number): this {
    this.options.stopGraceMs = ms;
    return this;
  }

  withLog(log: (line: string) => void): this {
    this.options.log = log;
    return this;
  }

  build(): Runner {
    const o = this.options;
    if (!o.executor) throw new Error("a runner needs an executor: call withExecutor()");
    if (!o.buildsDir || !o.cacheDir)
      throw new Error("a runner needs builds and cache folders: call withDirectories()");
    return new Runner({
      name: o.name ?? `wsparity-runner-${hostname()}`,
      url: o.url,
      token: o.token,
      executor: o.executor,
      concurrent: o.concurrent ?? 1,
      buildsDir: o.buildsDir,
      cacheDir: o.cacheDir,
      environment: o.environment ?? {},
      stopGraceMs: o.stopGraceMs ?? 10_000,
      traceIntervalMs: o.traceIntervalMs ?? 3000,
      log: o.log ?? ((line) => process.stderr.write(`${new Date().toISOString()} runner ${line}\n`)),
    });
  }
}
