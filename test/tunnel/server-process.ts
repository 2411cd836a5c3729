import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Workspace } from "./helpers.ts";

const CLI = resolve(import.meta.dirname, "../../bin/wsparity.js");

export interface TunnelServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly userUrl: string;
  readonly agentUrl: string;
  readonly agentWebSocketUrl: string;
  readonly agentSocketUrl: string | undefined;
  readonly userPort: number;
  readonly agentPort: number;
  /** Everything the server wrote to stderr so far (its event log, and a crash's stack). */
  readonly stderr: () => string;
  /** Resolves with the exit code and signal once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** SIGTERM, then SIGKILL after 5 s; removes its files. */
  stop(): Promise<void>;
}

export interface TunnelServerProcessOptions {
  workspaces: Workspace[];
  adminToken?: string;
  userPort?: number;
  agentPort?: number;
  /** More `tunnel serve` flags, e.g. ["--hello-timeout-ms", "500"]. */
  flags?: string[];
  /** A script whose arguments are those of `wsparity` (a bundle starts faster than the CLI through tsx). */
  cli?: string;
  /** Flags for node itself, before the script, e.g. ["--inspect=127.0.0.1:0"]. */
  nodeFlags?: string[];
}

/** `wsparity tunnel serve` as its own process, so a crash, its fds and its RSS are its own. */
export async function spawnTunnelServer(options: TunnelServerProcessOptions): Promise<TunnelServerProcess> {
  const folder = mkdtempSync(join(tmpdir(), "wsparity-tunnel-proc-"));
  const workspacesFile = join(folder, "workspaces.json");
  writeFileSync(
    workspacesFile,
    JSON.stringify(
      options.workspaces.map((ws) => ({
        workspace: ws.name,
        agentToken: ws.agentToken,
        userTokens: [ws.userToken],
        ports: ws.ports,
      })),
    ),
  );
  const args = [
    options.cli ?? CLI,
    "tunnel",
    "serve",
    "--domain",
    "localtest",
    "--listen",
    `127.0.0.1:${options.userPort ?? 0}`,
    "--agent-listen",
    `127.0.0.1:${options.agentPort ?? 0}`,
    "--workspaces",
    workspacesFile,
    "--heartbeat-ms",
    "2000",
    "--replace-grace-ms",
    "2000",
    ...(options.flags ?? []),
  ];
  if (options.adminToken) {
    const tokenFile = join(folder, "admin-token");
    writeFileSync(tokenFile, options.adminToken);
    args.push("--admin-token-file", tokenFile);
  }
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr = (stderr + c).slice(-200_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );
  const lines = await new Promise<Record<string, string>>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`tunnel serve printed no URLs within 20 s: ${stderr}`)),
      20_000,
    );
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      if (!stdout.includes("DOMAIN=")) return;
      clearTimeout(timer);
      done(
        Object.fromEntries(
          stdout
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        ),
      );
    });
    void exited.then(({ code }) => fail(new Error(`tunnel serve exited with ${code}: ${stderr}`)));
  });
  const userUrl = lines.USER_URL!;
  const agentUrl = lines.AGENT_URL!;
  let running = true;
  void exited.then(() => {
    running = false;
  });
  return {
    child,
    pid: child.pid!,
    userUrl,
    agentUrl,
    agentWebSocketUrl: lines.AGENT_WS_URL!,
    agentSocketUrl: lines.AGENT_SOCKET_URL,
    userPort: Number(new URL(userUrl).port),
    agentPort: Number(new URL(agentUrl).port),
    stderr: () => stderr,
    exited,
    alive: () => running,
    stop: async () => {
      if (running) {
        child.kill("SIGTERM");
        const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(kill);
      }
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** Resolves once the agent has logged `agent-connected` `count` times in all. */
  connected(count?: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM; resolves with how long the process took to exit, or rejects after `timeoutMs` (then SIGKILL). */
  stop(timeoutMs?: number): Promise<number>;
}

/**
 * `wsparity agent` as its own process, as a CI job runs it; `bundle` runs the bundled agent
 * (dist/wsparity-agent.mjs, what CI jobs get) instead of the CLI.
 */
export function spawnAgent(
  server: string,
  ws: Workspace,
  extraEnv: NodeJS.ProcessEnv = {},
  bundle?: string,
): AgentProcess {
  const flags = ["--server", server, "--workspace", ws.name, "--ports", ws.ports.join(",")];
  const child = spawn(process.execPath, bundle ? [bundle, ...flags] : [CLI, "agent", ...flags], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, WSPARITY_TOKEN: ws.agentToken, WSPARITY_TUNNEL_INSECURE: "1", ...extraEnv },
  });
  let stderr = "";
  let connects = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  child.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr = (stderr + c).slice(-200_000);
    connects += c.split(" agent-connected ").length - 1;
    for (const waiter of [...waiters]) {
      if (connects >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => {
      running = false;
      done({ code, signal });
    }),
  );
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    exited,
    alive: () => running,
    connected: (count = 1, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        if (connects >= count) return resolve();
        const timer = setTimeout(
          () =>
            reject(
              new Error(`agent ${ws.name} not connected ${count} times within ${timeoutMs} ms: ${stderr}`),
            ),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    stop: async (timeoutMs = 5000) => {
      if (!running) return 0;
      const started = Date.now();
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(
            new Error(
              `agent ${ws.name} ignored SIGTERM for ${timeoutMs} ms (killed): ${stderr.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
      });
      try {
        await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
      return Date.now() - started;
    },
  };
}
