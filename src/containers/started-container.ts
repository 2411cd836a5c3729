import { spawn } from "node:child_process";
import { basename, dirname } from "node:path";
import { PassThrough } from "node:stream";
import { finished } from "node:stream/promises";
import type Docker from "dockerode";
import { demuxDockerStream } from "./demux.ts";
import { dockerEngine, isNotFound } from "./engine.ts";

export interface ExecOptions {
  user?: string;
  env?: Record<string, string>;
  workingDir?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A running (or stopped) container that the container layer created. */
export class StartedWorkspaceContainer {
  constructor(
    private readonly container: Docker.Container,
    readonly name: string,
    readonly image: string,
  ) {}

  get id(): string {
    return this.container.id;
  }

  /** Runs a command inside the container and waits for it. */
  async exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const exec = await this.container.exec({
      Cmd: command,
      AttachStdout: true,
      AttachStderr: true,
      User: options.user,
      WorkingDir: options.workingDir,
      Env: options.env ? Object.entries(options.env).map(([key, value]) => `${key}=${value}`) : undefined,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const stdout = collect();
    const stderr = collect();
    dockerEngine().modem.demuxStream(stream, stdout.sink, stderr.sink);
    await finished(stream).catch(() => undefined);
    const { ExitCode } = await exec.inspect();
    return { exitCode: ExitCode ?? -1, stdout: stdout.text(), stderr: stderr.text() };
  }

  /** What the main process wrote so far. */
  async logs(): Promise<{ stdout: string; stderr: string }> {
    const buffer = (await this.container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
    return demuxDockerStream(buffer);
  }

  async inspect(): Promise<Docker.ContainerInspectInfo> {
    return this.container.inspect();
  }

  /** The container's address on a network (the first one when not named). */
  async ipAddress(network?: string): Promise<string> {
    const networks = (await this.inspect()).NetworkSettings.Networks;
    const entry = network ? networks[network] : Object.values(networks)[0];
    if (!entry?.IPAddress)
      throw new Error(`container ${this.name} has no address${network ? ` on ${network}` : ""}`);
    return entry.IPAddress;
  }

  /** The 127.0.0.1 port a withPublishedPort() port was given. */
  async hostPort(containerPort: number, protocol: "tcp" | "udp" = "tcp"): Promise<number> {
    const bindings = (await this.inspect()).NetworkSettings.Ports[`${containerPort}/${protocol}`];
    const port = Number(bindings?.[0]?.HostPort);
    if (!port) throw new Error(`container ${this.name} publishes no ${containerPort}/${protocol}`);
    return port;
  }

  /** Sends SIGTERM, then SIGKILL after the timeout; the container and its file system stay until remove(). */
  async stop(timeoutSeconds = 10): Promise<void> {
    try {
      await this.container.stop({ t: timeoutSeconds });
    } catch (err) {
      // 304: already stopped.
      if ((err as { statusCode?: number }).statusCode !== 304) throw err;
    }
  }

  async restart(timeoutSeconds = 10): Promise<void> {
    await this.container.restart({ t: timeoutSeconds });
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.container.kill({ signal });
  }

  /** Waits for the main process to end and gives its exit code. */
  async wait(): Promise<number> {
    const result = (await this.container.wait()) as { StatusCode: number };
    return result.StatusCode;
  }

  /**
   * Copies a host file into a directory of the container (running or stopped), keeping its name and mode:
   * how a job container gets the agent bundle when it shares no volume with the tools image.
   */
  async copyFileIn(hostPath: string, containerDir: string): Promise<void> {
    const tar = spawn("tar", ["-C", dirname(hostPath), "-c", basename(hostPath)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let errors = "";
    tar.stderr.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    const exited = new Promise<number>((resolve) => tar.on("close", (code) => resolve(code ?? -1)));
    await this.container.putArchive(tar.stdout, { path: containerDir });
    if ((await exited) !== 0) throw new Error(`cannot copy ${hostPath}: ${errors.trim()}`);
  }

  /** Removes the container, running or not, with its anonymous volumes. */
  async remove(): Promise<void> {
    try {
      await this.container.remove({ force: true, v: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function collect(): { sink: PassThrough; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { sink, text: () => Buffer.concat(chunks).toString() };
}
