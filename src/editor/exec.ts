import { spawn } from "node:child_process";

export interface ExecRequest {
  /** argv, or one string run by `sh -c`. */
  command: string[] | string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  stdin?: string;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** Runs a command the way the editor's terminal would, with bounded output and a timeout. */
export function execCommand(req: ExecRequest): Promise<ExecResult> {
  const argv = typeof req.command === "string" ? ["sh", "-c", req.command] : req.command;
  const [file, ...args] = argv;
  const started = performance.now();
  return new Promise((resolve) => {
    if (!file) {
      resolve({
        exitCode: 127,
        signal: null,
        stdout: "",
        stderr: "empty command",
        durationMs: 0,
        timedOut: false,
      });
      return;
    }
    const child = spawn(file, args, {
      cwd: req.cwd,
      // Commands can run node scripts without node on PATH: the editor's own binary is always there.
      env: { ...process.env, WSPARITY_NODE: process.execPath, ...req.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (size < MAX_OUTPUT) into.push(chunk);
      size += chunk.length;
    };
    child.stdout.on("data", collect(out));
    child.stderr.on("data", collect(err));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, req.timeoutMs ?? 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({
        exitCode: 127,
        signal: null,
        stdout: "",
        stderr: `cannot run ${file}: ${e.message}`,
        durationMs: performance.now() - started,
        timedOut,
      });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        durationMs: performance.now() - started,
        timedOut,
      });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(req.stdin ?? "");
  });
}
