import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { buildEditorBundle } from "../../src/editor/bundle.ts";
import type { WorkspaceFacts, WorkspaceHandle } from "../../src/harness/workspace.ts";
import { EDITOR_PORT } from "../../src/kubernetes/settings.ts";

/**
 * A real workspace made of local processes, for probe tests: the bundled editor runs as the "main
 * container" with the env, user and folders a test gives it. Each knob lets a test break one feature
 * on purpose, so every probe is shown to report it.
 */
export interface LocalWorkspaceOptions {
  env?: Record<string, string>;
  uid?: number;
  /** Port → where the user URL really goes (e.g. a refusing server for an internal port). */
  route?: Record<number, number>;
  /** Port → what connect() reaches instead. */
  tcpRoute?: Record<number, number>;
  /** Runs on restart and stop, before the editor is killed: a preStop hook. */
  beforeStop?: (ws: LocalWorkspace) => Promise<void>;
  restart?: "respawn" | "no-op";
  stop?: "kill" | "leave-running";
  /** Folders emptied by a restart (ephemeral volumes). */
  wipeOnRestart?: string[];
}

let bundlePromise: Promise<string> | undefined;
export function editorBundle(): Promise<string> {
  bundlePromise ??= mkdtemp(join(tmpdir(), "wsparity-bundle-")).then(async (dir) => {
    await chmod(dir, 0o755);
    return buildEditorBundle(join(dir, "editor.mjs"));
  });
  return bundlePromise;
}

export class LocalWorkspace implements WorkspaceHandle {
  readonly name = "local";
  readonly facts: WorkspaceFacts = {};
  editorPort = 0;
  private child?: ChildProcess;
  private constructor(
    readonly root: string,
    private readonly options: LocalWorkspaceOptions,
  ) {}

  static async start(options: LocalWorkspaceOptions = {}): Promise<LocalWorkspace> {
    const root = await mkdtemp(join(tmpdir(), "wsparity-ws-"));
    await chmod(root, 0o777);
    await mkdir(join(root, "projects"), { recursive: true, mode: 0o777 });
    await chmod(join(root, "projects"), 0o777);
    const ws = new LocalWorkspace(root, options);
    await ws.spawnEditor();
    return ws;
  }

  get projects(): string {
    return join(this.root, "projects");
  }

  private async spawnEditor(): Promise<void> {
    const bundle = await editorBundle();
    const child = spawn(process.execPath, [bundle, "--host", "127.0.0.1", "--port", "0", this.projects], {
      cwd: this.projects,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PROJECTS_ROOT: this.projects, ...this.options.env },
      stdio: ["ignore", "ignore", "pipe"],
      ...(this.options.uid !== undefined ? { uid: this.options.uid, gid: this.options.uid } : {}),
    });
    this.child = child;
    this.editorPort = await new Promise<number>((resolve, reject) => {
      let text = "";
      child.stderr!.on("data", (c: Buffer) => {
        text += c.toString();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", (code) => reject(new Error(`editor exited ${code}: ${text}`)));
    });
  }

  private target(port: number): number {
    return this.options.route?.[port] ?? (port === EDITOR_PORT ? this.editorPort : port);
  }

  url(port: number, path = "/"): string {
    return `http://127.0.0.1:${this.target(port)}${path}`;
  }

  directUrl(port: number, path = "/"): string {
    return `http://127.0.0.1:${port === EDITOR_PORT ? this.editorPort : port}${path}`;
  }

  authHeaders(): Record<string, string> {
    return {};
  }

  fetch(url: string, init?: RequestInit): Promise<Response> {
    return fetch(url, init);
  }

  connect(port: number): Promise<Duplex> {
    const target = this.options.tcpRoute?.[port] ?? port;
    return new Promise((resolve, reject) => {
      const socket: Socket = connect(target, "127.0.0.1", () => resolve(socket));
      socket.once("error", reject);
    });
  }

  private async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  async restart(): Promise<void> {
    if (this.options.restart === "no-op") return;
    await this.options.beforeStop?.(this);
    await this.kill();
    for (const dir of this.options.wipeOnRestart ?? []) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true, mode: 0o777 });
    }
    await this.spawnEditor();
  }

  async stop(): Promise<void> {
    if (this.options.stop === "leave-running") return;
    await this.options.beforeStop?.(this);
    await this.kill();
  }

  async leftovers(): Promise<string[]> {
    return this.child && this.child.exitCode === null && this.child.signalCode === null
      ? [`editor pid ${this.child.pid}`]
      : [];
  }

  async dispose(): Promise<void> {
    await this.kill();
    await rm(this.root, { recursive: true, force: true });
  }
}

/** A plain HTTP server on 127.0.0.1 answering every request with `status` and `body`. */
export async function staticServer(status: number, body: string): Promise<Server & { port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(status);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(server, { port });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Workspaces and servers for one test file, all disposed after each test: `const { workspace, server,
 * cleanup } = localFixtures(afterEach)`.
 */
export function localFixtures(afterEach: (fn: () => Promise<void>) => void) {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });
  return {
    cleanup,
    async workspace(options: LocalWorkspaceOptions = {}): Promise<LocalWorkspace> {
      const ws = await LocalWorkspace.start(options);
      cleanup.push(() => ws.dispose());
      return ws;
    },
    async server(status: number, body: string): Promise<Server & { port: number }> {
      const s = await staticServer(status, body);
      cleanup.push(() => new Promise((r) => s.close(r)));
      return s;
    },
  };
}
