/**
 * Resolves with the first SIGINT or SIGTERM (a container's PID 1 gets SIGTERM from `docker stop`). Later signals
 * while the caller stops are reported, not fatal: leaving now would leave its children running.
 */
export function untilStopSignal(what: string): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off("SIGINT", first);
      process.off("SIGTERM", first);
      const again = (s: NodeJS.Signals) => process.stderr.write(`${s}: still stopping ${what}…\n`);
      process.on("SIGINT", again);
      process.on("SIGTERM", again);
      resolve(signal);
    };
    process.on("SIGINT", first);
    process.on("SIGTERM", first);
  });
}
