// How `wsparity runner run` stops, as gitlab-runner does: SIGQUIT is its graceful shutdown (take no new
// jobs, let running ones finish), SIGTERM and SIGINT its forceful one (abort running jobs, report them
// failed, clean up), which also ends a graceful one; a forceful shutdown exits once shutdown_timeout is over.

import type { Runner } from "./runner.ts";

export interface ShutdownSignals {
  /** Resolves on SIGTERM or SIGINT. */
  forceful: Promise<void>;
  /** Resolves on SIGQUIT. */
  graceful: Promise<void>;
}

/** Listens from now on, so a signal that comes while the runner starts is not lost. */
export function listenForShutdown(): ShutdownSignals {
  return {
    forceful: new Promise((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    }),
    graceful: new Promise((resolve) => process.once("SIGQUIT", () => resolve())),
  };
}

/** Waits for a shutdown signal and stops the runner; false when jobs were still stopping at shutdown_timeout. */
export async function runUntilShutdown(
  runner: Runner,
  signals: ShutdownSignals,
  shutdownTimeoutSeconds: number,
  log: (line: string) => void,
): Promise<boolean> {
  const graceful = await Promise.race([
    signals.forceful.then(() => false),
    signals.graceful.then(() => true),
  ]);
  if (graceful) {
    log(
      `graceful shutdown (SIGQUIT): taking no new jobs; waiting for ${runner.activeJobs} running job(s) to finish (SIGTERM or SIGINT stops them now)`,
    );
    const drained = await Promise.race([runner.drain().then(() => true), signals.forceful.then(() => false)]);
    if (drained) return true;
  }
  log(`stopping: aborting running jobs and cleaning up (at most ${shutdownTimeoutSeconds} s)`);
  let deadline: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    runner.stop().then(() => true),
    new Promise<false>((resolve) => {
      deadline = setTimeout(() => resolve(false), shutdownTimeoutSeconds * 1000);
    }),
  ]);
  clearTimeout(deadline);
  return stopped;
}
