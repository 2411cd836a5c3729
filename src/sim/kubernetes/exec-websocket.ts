// The Kubernetes remote command protocol over WebSocket (v4.channel.k8s.io and v5.channel.k8s.io).
import type { WebSocket } from "ws";
import type { ExecProcess } from "./runtime.ts";

export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/**
 * Pumps one exec session over a WebSocket until the process exits, then sends its status on channel 3. With a TTY
 * the kubelet has no stderr stream (kubectl refuses channel 2 then), so stderr goes out on stdout's channel; resize
 * messages ({"Width":…,"Height":…} on channel 4) set the size of the process's terminal when it has one.
 */
export function serveExec(ws: WebSocket, proc: ExecProcess, opts: { stdin: boolean; tty?: boolean }): void {
  const send = (channel: number, data: Buffer | string) => {
    if (ws.readyState !== ws.OPEN) return;
    const body = typeof data === "string" ? Buffer.from(data) : data;
    ws.send(Buffer.concat([Buffer.from([channel]), body]));
  };
  let outputsOpen = 2;
  let exitCode: number | undefined;
  const finish = () => {
    if (outputsOpen > 0 || exitCode === undefined) return;
    const status =
      exitCode === 0
        ? { metadata: {}, status: "Success" }
        : {
            metadata: {},
            status: "Failure",
            message: `command terminated with non-zero exit code: exit status ${exitCode}`,
            reason: "NonZeroExitCode",
            details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
          };
    send(ERROR, JSON.stringify(status));
    ws.close(1000);
  };
  for (const [stream, channel] of [
    [proc.stdout, STDOUT],
    [proc.stderr, opts.tty ? STDOUT : STDERR],
  ] as const) {
    stream.on("data", (chunk: Buffer) => send(channel, chunk));
    stream.on("end", () => {
      outputsOpen--;
      finish();
    });
  }
  proc.exited.then((code) => {
    exitCode = code;
    finish();
  });
  if (!opts.stdin) proc.stdin.end();
  ws.on("message", (data: Buffer) => {
    const channel = data[0];
    const body = data.subarray(1);
    if (channel === STDIN && opts.stdin) proc.stdin.write(body);
    else if (channel === CLOSE && body[0] === STDIN) proc.stdin.end();
    else if (channel === RESIZE) resize(proc, body);
  });
  ws.on("close", () => {
    if (exitCode === undefined) proc.kill();
  });
  ws.on("error", () => proc.kill());
}

function resize(proc: ExecProcess, body: Buffer): void {
  try {
    const { Width, Height } = JSON.parse(body.toString()) as { Width?: unknown; Height?: unknown };
    if (Number.isInteger(Width) && Number.isInteger(Height)) proc.resize?.(Width as number, Height as number);
  } catch {
    // Not JSON: the kubelet ignores a resize it cannot read.
  }
}
