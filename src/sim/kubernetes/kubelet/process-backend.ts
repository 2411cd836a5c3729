// The process backend (sim tier): a pod's sandbox is a process holding its own network and UTS namespaces; each
// container a process in those, with a private mount namespace binding its volumes at their paths. Needs root.
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { PassThrough, type Writable } from "node:stream";
import { AGENT_BUNDLE } from "../../../agent/bundle.ts";
import { EDITOR_BUNDLE } from "../../../editor/bundle.ts";
import type { KubeObject } from "../../../kubernetes/objects.ts";
import type { ExecProcess } from "../runtime.ts";
import type {
  ContainerJson,
  ContainerLaunch,
  KubeletBackend,
  PodSandbox,
  RunningContainer,
} from "./backend.ts";
import {
  containerCommand,
  enterArgv,
  identityOf,
  launchArgv,
  missingMountPoints,
  mountPlan,
  PTY_RELAY,
  podHostsFile,
  runsStandIn,
  SANDBOX_SCRIPT,
  WSPARITY_TOOLS_IMAGE,
} from "./launch.ts";

/** What /opt/wsparity of the tools image holds, copied from dist/ into the container's own folder. */
function toolsImageContent(containerDir: string): string {
  const dir = join(containerDir, "opt-wsparity");
  mkdirSync(dir, { recursive: true });
  for (const bundle of [AGENT_BUNDLE, EDITOR_BUNDLE]) {
    if (!existsSync(bundle))
      throw new Error(
        `no ${bundle} for the tools image's content: run npm run build:agent and npm run build:editor`,
      );
    copyFileSync(bundle, join(dir, basename(bundle)));
  }
  chmodSync(dir, 0o755);
  return dir;
}

/** Verifies the host can run the process backend; returns what is missing, or undefined. */
export function processKubeletUnavailable(): string | undefined {
  if (process.getuid?.() !== 0)
    return "the process kubelet needs root (it makes network and mount namespaces)";
  for (const tool of ["unshare", "nsenter", "setpriv", "ip", "mount"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
      return `the process kubelet needs the ${tool} command`;
  }
  const probe = spawnSync("unshare", ["--net", "--mount", "true"]);
  if (probe.status !== 0) return `unshare --net --mount fails here: ${probe.stderr.toString().trim()}`;
  return undefined;
}

/** The longest path a unix socket can bind on Linux (sun_path is 108 bytes, with its NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * Where the sandbox listens: in the pod's folder, unless that path is too long to bind (a deep --out
 * folder, e.g. a CI job's checkout), then in a short private folder of its own that the sandbox removes.
 */
function sandboxSocket(podDir: string): { path: string; ownDir?: string } {
  const path = join(podDir, "sandbox.sock");
  if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return { path };
  const ownDir = mkdtempSync(join(tmpdir(), "wsparity-sandbox-"));
  return { path: join(ownDir, "sandbox.sock"), ownDir };
}

class ProcessSandbox implements PodSandbox {
  readonly ip = "127.0.0.1";
  constructor(
    readonly pid: number,
    private readonly netns: string,
    private readonly socket: string,
    private readonly socketDir?: string,
  ) {}

  dial(port: number): Promise<Socket> {
    return dialSandbox(this.socket, port);
  }

  async remove(): Promise<void> {
    this.removeSync();
  }

  /** Kills every process left in the pod's network namespace (backgrounded hook and exec children too). */
  removeSync(): void {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry) || Number(entry) === this.pid || Number(entry) === process.pid) continue;
      try {
        if (readlinkSync(`/proc/${entry}/ns/net`) === this.netns) process.kill(Number(entry), "SIGKILL");
      } catch {
        // gone, or not ours to read
      }
    }
    killGroup(this.pid, "SIGKILL");
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
  }
}

export class ProcessBackend implements KubeletBackend {
  readonly name = "process";
  private readonly createdMountPoints = new Set<string>();

  /** `sharedHostPaths`: host folders pods must see even under their private /tmp, e.g. a tunnel's agent socket. */
  constructor(private readonly sharedHostPaths: string[] = []) {}

  async startSandbox(pod: KubeObject, dir: string): Promise<PodSandbox> {
    const { path: socket, ownDir } = sandboxSocket(dir);
    const child = spawn(
      "unshare",
      [
        "--net",
        "--uts",
        "--",
        "sh",
        "-c",
        'ip link set lo up && hostname "$0" && exec "$@"',
        pod.metadata.name.slice(0, 63),
        process.execPath,
        SANDBOX_SCRIPT,
        socket,
      ],
      { detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    await new Promise<void>((resolve, reject) => {
      let err = "";
      child.stderr!.on("data", (d) => {
        err += d;
      });
      child.stdout!.once("data", () => resolve());
      child.once("exit", (code) => {
        if (ownDir) rmSync(ownDir, { recursive: true, force: true });
        reject(new Error(`pod sandbox exited with ${code}: ${err.trim()}`));
      });
    });
    return new ProcessSandbox(child.pid!, readlinkSync(`/proc/${child.pid}/ns/net`), socket, ownDir);
  }

  async startContainer(sandbox: PodSandbox, launch: ContainerLaunch): Promise<RunningContainer> {
    const { spec, pod, env } = launch;
    const { argv, note: commandNote } = containerCommand(spec);
    let note = commandNote;
    const tmp = join(launch.dir, "tmp");
    mkdirSync(tmp, { recursive: true });
    chmodSync(tmp, 0o1777);
    const plan = mountPlan(spec, launch.volumes, tmp);
    if (WSPARITY_TOOLS_IMAGE.test(spec.image ?? "")) {
      plan.binds.push({ source: toolsImageContent(launch.dir), target: "/opt/wsparity", readOnly: true });
      note = `image ${spec.image} not run: ran its command on the host, with /opt/wsparity holding this project's agent and editor bundles as the image does`;
    }
    const hosts = podHostsFile(pod, readFileSync("/etc/hosts", "utf8"));
    if (hosts !== undefined) {
      writeFileSync(join(launch.dir, "hosts"), hosts);
      plan.files = [{ source: join(launch.dir, "hosts"), target: "/etc/hosts" }];
    }
    for (const m of missingMountPoints(plan)) this.createdMountPoints.add(m);
    const identity = identityOf(pod, spec);
    const host = launchArgv({
      sandboxPid: (sandbox as ProcessSandbox).pid,
      plan,
      identity,
      workingDir: spec.workingDir,
      argv,
      sharedHostPaths: this.sharedHostPaths,
    });
    const childEnv = note ? { ...env, WSPARITY_IMAGE: spec.image } : env;
    const child = spawn(host[0]!, host.slice(1), {
      env: childEnv,
      detached: true,
      stdio: [spec.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    child.stdin?.on("error", () => {});
    const pid = child.pid ?? 0;
    let exitCode: number | undefined;
    const exited = new Promise<number>((resolve) => {
      child.on("error", () => resolve(127));
      child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGKILL" ? 137 : 143)));
    }).then((code) => {
      exitCode = code;
      return code;
    });
    return {
      id: `process://${pid}`,
      stdout: child.stdout!,
      stderr: child.stderr!,
      stdin: child.stdin ?? undefined,
      exited,
      started: commandStarted(pid, () => exitCode !== undefined),
      note,
      signal: (signal) => killGroup(pid, signal),
      enter: (command, stdin, tty) =>
        enterProcess(enterArgv(pid, identity, spec.workingDir, command), childEnv, stdin, tty),
      removeSync: () => killGroup(pid, "SIGKILL"),
    };
  }

  probesPorts(spec: ContainerJson): boolean {
    return !runsStandIn(spec);
  }

  async close(): Promise<void> {
    // A mount point another kubelet's pod still uses must stay: removing it would unmount it in that pod.
    const inUse = mountPointsInUse();
    for (const dir of [...this.createdMountPoints].sort((a, b) => b.length - a.length)) {
      if (inUse.has(dir)) continue;
      try {
        rmdirSync(dir);
      } catch {
        // not empty: leave it
      }
    }
  }
}

/** Every mount point of every mount namespace on the host (field 5 of /proc/PID/mountinfo). */
function mountPointsInUse(): Set<string> {
  const out = new Set<string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const line of readFileSync(`/proc/${entry}/mountinfo`, "utf8").split("\n")) {
        const mountPoint = line.split(" ")[4];
        if (mountPoint) out.add(mountPoint.replace(/\\040/g, " "));
      }
    } catch {
      // gone
    }
  }
  return out;
}

/** Waits until the container's process has set up its mounts and exec'd its command. */
async function commandStarted(pid: number, gone: () => boolean): Promise<boolean> {
  const wrappers = ["nsenter\0", "unshare\0", "sh\0-c\0set -e\n", "setpriv\0"];
  for (let i = 0; i < 500 && pid && !gone(); i++) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline && !wrappers.some((w) => cmdline.startsWith(w))) return true;
    } catch {
      return false;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/**
 * With `tty`, the command runs on a pseudo-terminal that pty-relay.py holds (Node has none of its own), and resize
 * messages reach it as "ROWS COLS" lines on fd 3; without python3 it runs without one, as before.
 */
function enterProcess(argv: string[], env: Record<string, string>, stdin: boolean, tty = false): ExecProcess {
  const onTerminal = tty && PYTHON !== undefined;
  const command = onTerminal ? [PYTHON, PTY_RELAY, ...argv] : argv;
  const child = spawn(command[0]!, command.slice(1), {
    env,
    detached: true,
    stdio: [
      stdin || onTerminal ? "pipe" : "ignore",
      "pipe",
      "pipe",
      ...(onTerminal ? (["pipe"] as const) : []),
    ],
  });
  const control = onTerminal ? (child.stdio[3] as Writable) : undefined;
  control?.on("error", () => {});
  const exited = new Promise<number>((resolve) => {
    child.on("error", () => resolve(126));
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 137 : 1)));
  });
  const input = child.stdin ?? new PassThrough();
  return {
    stdin: input,
    stdout: child.stdout!,
    stderr: child.stderr!,
    exited,
    kill: () => killGroup(child.pid, "SIGKILL"),
    ...(control ? { resize: (width: number, height: number) => control.write(`${height} ${width}\n`) } : {}),
  };
}

const PYTHON = ["/usr/bin/python3", "/usr/local/bin/python3"].find((p) => existsSync(p));

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Dials a port of a pod through its sandbox's Unix socket (see sandbox.mjs for the protocol). */
export function dialSandbox(socketPath: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    s.write(`${port}\n`);
    let header = Buffer.alloc(0);
    // Read the reply with 'readable' so the socket is handed over neither flowing nor explicitly paused.
    const onReadable = () => {
      for (let chunk = s.read() as Buffer | null; chunk !== null; chunk = s.read() as Buffer | null) {
        header = Buffer.concat([header, chunk]);
        const nl = header.indexOf(10);
        if (nl < 0) continue;
        s.off("readable", onReadable);
        s.off("error", reject);
        s.off("close", onClose);
        const line = header.subarray(0, nl).toString("latin1");
        const rest = header.subarray(nl + 1);
        if (line !== "OK") {
          s.destroy();
          reject(new Error(`port ${port} in the pod: ${line}`));
          return;
        }
        if (rest.length) s.unshift(rest);
        resolve(s);
        return;
      }
    };
    const onClose = () => reject(new Error(`port ${port} in the pod: connection closed`));
    s.on("readable", onReadable);
    s.once("error", reject);
    s.once("close", onClose);
  });
}
