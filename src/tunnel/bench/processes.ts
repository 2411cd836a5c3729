import { type ChildProcess, spawn } from "node:child_process";

const liveGroups = new Set<ProcessGroup>();

/** Stops every group that has live children: the Ctrl-C path. */
export function stopAllGroups(): Promise<void> {
  return Promise.all([...liveGroups].map((g) => g.stop())).then(() => undefined);
}

/** Child processes of one benchmark run; all are killed on stop, on error and on Ctrl-C. */
export class ProcessGroup {
  readonly #children = new Set<ChildProcess>();

  constructor() {
    liveGroups.add(this);
  }

  spawn(
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ): { child: ChildProcess; output: () => string } {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    const keep = (chunk: Buffer) => {
      text = (text + chunk.toString()).slice(-64 * 1024);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    this.#children.add(child);
    child.once("exit", () => this.#children.delete(child));
    return { child, output: () => text };
  }

  async waitFor(
    running: { child: ChildProcess; output: () => string },
    pattern: RegExp,
    what: string,
    ms = 30_000,
  ): Promise<RegExpMatchArray> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const match = running.output().match(pattern);
      if (match) return match;
      if (running.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${what} did not start (waited for ${pattern}):\n${running.output().slice(-2000)}`);
  }

  pids(): number[] {
    return [...this.#children].map((c) => c.pid!).filter(Boolean);
  }

  /** SIGTERM to every child, SIGKILL to those still running after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    liveGroups.delete(this);
    await Promise.all(
      [...this.#children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill("SIGKILL"), graceMs);
            child.once("exit", () => {
              clearTimeout(force);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
  }
}
