// What every executor gives a job run: a place to run bash scripts for each stage, and cleanup that
// leaves nothing behind (also after the runner itself was killed).

import type { JobPayload } from "./api-client.ts";

export type ExecutorName = "shell" | "docker" | "kubernetes";

export interface StageRun {
  /** Resolves with the script's exit code. */
  done: Promise<number>;
  /** Stops the stage: SIGTERM first, SIGKILL after the grace period. */
  stop(graceMs: number): void;
}

export interface JobContext {
  job: JobPayload;
  /** Per-job folder on the runner host holding the project checkout, file variables and scripts. */
  buildDir: string;
  /** CI_BUILDS_DIR and CI_PROJECT_DIR as the job sees them (inside its container for container executors). */
  buildsDirInJob: string;
  projectDirInJob: string;
  env: Record<string, string>;
  output(chunk: Buffer | string): void;
}

export interface Executor {
  readonly name: ExecutorName;
  /** The features this executor declares to GitLab in `info.features`. */
  readonly features: Record<string, boolean>;
  readonly architecture: string;
  /** True when sources are fetched on the runner host into the build folder (the job's image may lack git). */
  readonly sourcesOnHost: boolean;
  /** Where CI_BUILDS_DIR is for a job, as the job sees it. */
  buildsDirInJob(hostBuildDir: string): string;
  prepare(ctx: JobContext): Promise<void>;
  /** For executors whose build volume the runner host cannot see: copy the build folder in (sources, cache, files). */
  syncIn?(ctx: JobContext): Promise<void>;
  /** ... and copy these paths of the project back before the cache is archived. */
  syncOut?(ctx: JobContext, projectPaths: string[]): Promise<void>;
  runStage(ctx: JobContext, stage: string, script: string): StageRun;
  cleanup(ctx: JobContext): Promise<void>;
  /** Removes what jobs of an earlier runner process left behind (processes, containers). */
  recover(buildsRoot: string): Promise<string[]>;
}

/** The job's container stopped on its own: the job fails with the reason, as a system failure. */
export class JobContainerDied extends Error {
  readonly failureReason = "runner_system_failure";
}

/** A stage that stops with TERM to its process group, then KILL once the grace period is over. */
export function signalledStage(done: Promise<number>, signal: (name: "TERM" | "KILL") => unknown): StageRun {
  return {
    done,
    stop(graceMs: number) {
      void signal("TERM");
      const timer = setTimeout(() => void signal("KILL"), graceMs);
      void done.finally(() => clearTimeout(timer)).catch(() => undefined);
    },
  };
}
