// Commands in a pod's container over the Kubernetes exec API (WebSocket, v5/v4 channel protocol), through
// @kubernetes/client-node: the exit code from the status channel, output as it comes, stdin from a stream.

import { PassThrough, type Readable, Writable } from "node:stream";
import { Exec, type KubeConfig, type V1Status } from "@kubernetes/client-node";

export interface PodExecResult {
  exitCode: number;
  /** Set when the exec ended without an exit status (connection lost, container gone). */
  error?: string;
}

export interface PodExecOptions {
  stdin?: Readable | Buffer | string;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export class PodExec {
  private readonly exec: Exec;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
    readonly pod: string,
  ) {
    this.exec = new Exec(kc);
  }

  async run(container: string, command: string[], options: PodExecOptions = {}): Promise<PodExecResult> {
    const sink = (to: ((chunk: Buffer) => void) | undefined): Writable =>
      new Writable({
        write(chunk: Buffer, _enc, callback) {
          to?.(chunk);
          callback();
        },
      });
    let stdin: Readable | null = null;
    if (options.stdin !== undefined) {
      if (typeof options.stdin === "string" || Buffer.isBuffer(options.stdin)) {
        const buffer = new PassThrough();
        buffer.end(options.stdin);
        stdin = buffer;
      } else {
        // client-node never sees the end of a child process's stdout pipe handed over directly (the exec
        // then waits forever); through a PassThrough it does.
        stdin = options.stdin.pipe(new PassThrough());
      }
    }
    return new Promise<PodExecResult>((resolve) => {
      let status: V1Status | undefined;
      this.exec
        .exec(
          this.namespace,
          this.pod,
          container,
          command,
          sink(options.onStdout),
          sink(options.onStderr),
          stdin,
          false,
          (s) => {
            status = s;
          },
        )
        .then(
          (ws) => {
            ws.on("close", () => resolve(resultOf(status)));
            ws.on("error", (err) => resolve({ exitCode: -1, error: err.message }));
          },
          (err: Error) => resolve({ exitCode: -1, error: err.message }),
        );
    });
  }

  /** Runs a command and collects stdout and stderr apart; for short helper commands. */
  async output(container: string, command: string[], stdin?: Readable | Buffer | string) {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const result = await this.run(container, command, {
      ...(stdin !== undefined ? { stdin } : {}),
      onStdout: (c) => stdout.push(c),
      onStderr: (c) => stderr.push(c),
    });
    return { ...result, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() };
  }
}

function resultOf(status: V1Status | undefined): PodExecResult {
  if (!status) return { exitCode: -1, error: "the exec connection closed without an exit status" };
  if (status.status === "Success") return { exitCode: 0 };
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  const code = Number(cause?.message);
  if (Number.isInteger(code)) return { exitCode: code };
  return { exitCode: -1, error: status.message ?? "the exec failed" };
}
