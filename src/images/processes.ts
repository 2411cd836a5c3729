import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const running = new Set<ChildProcess>();

/**
 * Ends every child this module started and that still runs, with everything they started (debootstrap runs
 * wget, dpkg and chroot): for Ctrl-C during a build. Each child leads a process group of its own.
 */
export function killRunningChildren(signal: NodeJS.Signals = "SIGTERM"): void {
  for (const child of running) {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

export interface RunOptions {
  cwd?: string;
  /** Called with each output line, for progress. */
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to its end; fails with the command line and its last output lines when it exits non-zero. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    running.add(child);
    const tail: string[] = [];
    const collect = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      options.onLine?.(line);
    };
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    createInterface({ input: child.stdout }).on("line", collect);
    createInterface({ input: child.stderr }).on("line", collect);
    child.on("error", (err) => {
      running.delete(child);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      running.delete(child);
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `${command} ${args.join(" ")} ${signal ? `was ended by ${signal}` : `exited ${code}`}; last output:\n  ${tail.join("\n  ")}`,
          ),
        );
    });
  });
}
