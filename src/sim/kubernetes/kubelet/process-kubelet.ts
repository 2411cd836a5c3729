// The process kubelet (sim tier): runs each pod's containers as local processes. A pod gets its own network
// namespace (one shared localhost for its containers, held by a sandbox process); each container a private mount
// namespace with its volumes bound at their paths and a private /tmp. Needs root (unshare, nsenter, mount).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  type WriteStream,
} from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import type { KubeObject } from "../../../kubernetes/objects.ts";
import { NODE_NAME } from "../controllers.ts";
import { ApiError, badRequest } from "../errors.ts";
import { RESOURCE_TYPES } from "../resources.ts";
import type { ExecProcess, LogOptions, PodRuntime } from "../runtime.ts";
import type { ObjectStore } from "../store.ts";
import {
  containerCommand,
  containerEnv,
  enterArgv,
  type Identity,
  identityOf,
  launchArgv,
  missingMountPoints,
  mountPlan,
  runsStandIn,
  SANDBOX_SCRIPT,
} from "./launch.ts";
import { claimDir, MountFailed, prepareVolumes } from "./volumes.ts";

const POD = RESOURCE_TYPES.find((r) => r.kind === "Pod")!;
const EVENT = RESOURCE_TYPES.find((r) => r.kind === "Event")!;
const CLAIM = RESOURCE_TYPES.find((r) => r.kind === "PersistentVolumeClaim")!;
const STOP_GRACE_MS = 3000;
const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

interface ContainerState {
  name: string;
  spec: Record<string, any>;
  init: boolean;
  proc?: ChildProcess;
  pid?: number;
  identity: Identity;
  env: Record<string, string>;
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
  ready: boolean;
  started: boolean;
  restartCount: number;
  log: string;
}

interface PodState {
  key: string;
  uid: string;
  namespace: string;
  name: string;
  dir: string;
  sandbox?: ChildProcess;
  netns?: string;
  socket: string;
  containers: ContainerState[];
  initialized: boolean;
  stopping: boolean;
  stopped: Promise<void>;
  resolveStopped: () => void;
  timers: Set<NodeJS.Timeout>;
}

/** Verifies the host can run the process kubelet; returns what is missing, or undefined. */
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

export class ProcessKubelet implements PodRuntime {
  private readonly pods = new Map<string, PodState>();
  private readonly createdMountPoints = new Set<string>();
  private unsubscribe: (() => void)[] = [];
  private stopping = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly stateDir: string,
  ) {}

  start(): void {
    mkdirSync(join(this.stateDir, "pods"), { recursive: true });
    process.once("exit", this.killAllSync);
    this.unsubscribe = [
      this.store.onChange(POD, (e) => {
        if (e.type === "DELETED") void this.stopPod(e.object, false);
        else this.sync(e.object);
      }),
      this.store.onChange(CLAIM, (e) => {
        if (e.type === "ADDED") this.bindClaim(e.object);
        if (e.type === "DELETED") {
          rmSync(claimDir(this.stateDir, e.object.metadata.namespace!, e.object.metadata.name), {
            recursive: true,
            force: true,
          });
        }
      }),
    ];
    for (const c of this.store.list(CLAIM, undefined)) this.bindClaim(c);
    for (const p of this.store.list(POD, undefined)) this.sync(p);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const u of this.unsubscribe) u();
    await Promise.all([...this.pods.values()].map((p) => this.teardown(p)));
    for (const dir of [...this.createdMountPoints].sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(dir);
      } catch {
        // not empty or still in use: leave it
      }
    }
    process.off("exit", this.killAllSync);
    // The API state these folders belonged to lives in memory and is gone with this simulator.
    rmSync(join(this.stateDir, "pods"), { recursive: true, force: true });
    rmSync(join(this.stateDir, "volumes"), { recursive: true, force: true });
  }

  /** A connection to a port on the pod's localhost, through its sandbox. */
  async connect(namespace: string, podName: string, port: number): Promise<Socket> {
    const pod = [...this.pods.values()].find(
      (p) => p.namespace === namespace && p.name === podName && !p.stopping,
    );
    if (!pod?.netns) throw new Error(`pod ${namespace}/${podName} is not running on this kubelet`);
    return dialSandbox(pod.socket, port);
  }

  logs(pod: KubeObject, container: string, opts: LogOptions): Readable {
    const state = this.containerOf(pod, container);
    const file = opts.previous ? `${state.log}.previous` : state.log;
    if (!existsSync(file)) {
      if (opts.previous)
        throw badRequest(
          `previous terminated container "${container}" in pod "${pod.metadata.name}" not found`,
        );
      throw badRequest(
        `container "${container}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`,
      );
    }
    const text = readFileSync(file);
    const out = new PassThrough();
    let body = text;
    if (opts.tailLines !== undefined) {
      const lines = text.toString().split("\n");
      if (lines.at(-1) === "") lines.pop();
      body = Buffer.from(
        lines
          .slice(Math.max(0, lines.length - opts.tailLines))
          .map((l) => `${l}\n`)
          .join(""),
      );
    }
    out.write(body);
    if (!opts.follow) {
      out.end();
      return out;
    }
    let offset = text.length;
    const timer = setInterval(() => {
      try {
        const size = statSync(file).size;
        if (size > offset) {
          createReadStream(file, { start: offset, end: size - 1 }).on("data", (c) => out.write(c));
          offset = size;
        }
      } catch {
        clearInterval(timer);
        out.end();
      }
      if (state.state.terminated || !this.isLive(pod)) {
        clearInterval(timer);
        setTimeout(() => out.end(), 100);
      }
    }, 200);
    out.on("close", () => clearInterval(timer));
    return out;
  }

  exec(pod: KubeObject, container: string, command: string[], _tty: boolean): ExecProcess {
    const state = this.containerOf(pod, container);
    if (!state.pid || !state.state.running) {
      throw badRequest(`container ${container} is not running in pod ${pod.metadata.name}`);
    }
    const argv = enterArgv(state.pid, state.identity, state.spec.workingDir, command);
    const child = spawn(argv[0]!, argv.slice(1), {
      env: state.env,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = new Promise<number>((resolve) => {
      child.on("error", () => resolve(126));
      child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
    });
    return {
      stdin: child.stdin!,
      stdout: child.stdout!,
      stderr: child.stderr!,
      exited,
      kill: () => killGroup(child.pid, "SIGKILL"),
    };
  }

  private isLive(pod: KubeObject): boolean {
    return this.pods.get(pod.metadata.uid!)?.stopping === false;
  }

  private containerOf(pod: KubeObject, name: string): ContainerState {
    const state = this.pods.get(pod.metadata.uid!);
    const c = state?.containers.find((x) => x.name === name);
    if (!c) {
      const names = (pod.spec?.containers ?? []).map((x: { name: string }) => x.name);
      if (!names.includes(name)) {
        throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
      }
      throw badRequest(
        `container "${name}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`,
      );
    }
    return c;
  }

  private bindClaim(claim: KubeObject): void {
    if (claim.status?.phase === "Bound") return;
    try {
      this.store.update(
        CLAIM,
        {
          ...claim,
          status: {
            phase: "Bound",
            accessModes: claim.spec?.accessModes,
            capacity: { storage: claim.spec?.resources?.requests?.storage ?? "1Gi" },
          },
        },
        { status: true },
      );
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
    }
  }

  private sync(pod: KubeObject): void {
    if (this.stopping || pod.spec?.nodeName !== NODE_NAME) return;
    const existing = this.pods.get(pod.metadata.uid!);
    if (pod.metadata.deletionTimestamp) {
      void this.stopPod(pod, true);
      return;
    }
    if (existing) return;
    const state = this.newPodState(pod);
    this.pods.set(state.uid, state);
    this.runPod(state).catch((err) => {
      this.event(pod, "Warning", "FailedCreatePodSandBox", String(err instanceof Error ? err.message : err));
    });
  }

  private newPodState(pod: KubeObject): PodState {
    const dir = join(this.stateDir, "pods", pod.metadata.uid!);
    let resolveStopped = () => {};
    const stopped = new Promise<void>((r) => {
      resolveStopped = r;
    });
    const mk = (c: Record<string, any>, init: boolean): ContainerState => ({
      name: c.name,
      spec: c,
      init,
      identity: identityOf(pod, c),
      env: {},
      state: { waiting: { reason: init ? "PodInitializing" : "ContainerCreating" } },
      lastState: {},
      ready: false,
      started: false,
      restartCount: 0,
      log: join(dir, "logs", `${c.name}.log`),
    });
    return {
      key: `${pod.metadata.namespace}/${pod.metadata.name}`,
      uid: pod.metadata.uid!,
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name,
      dir,
      socket: join(dir, "sandbox.sock"),
      containers: [
        ...(pod.spec.initContainers ?? []).map((c: Record<string, any>) => mk(c, true)),
        ...pod.spec.containers.map((c: Record<string, any>) => mk(c, false)),
      ],
      initialized: !(pod.spec.initContainers ?? []).length,
      stopping: false,
      stopped,
      resolveStopped,
      timers: new Set(),
    };
  }

  private async runPod(p: PodState): Promise<void> {
    const pod = this.store.find(POD, p.namespace, p.name);
    if (!pod) return;
    mkdirSync(join(p.dir, "logs"), { recursive: true });
    let volumes: Map<string, string> | undefined;
    while (!volumes && !p.stopping) {
      try {
        volumes = prepareVolumes(this.store, pod, this.stateDir, p.dir);
      } catch (err) {
        if (!(err instanceof MountFailed)) throw err;
        this.event(pod, "Warning", "FailedMount", `MountVolume.SetUp failed: ${err.message}`);
        await this.sleep(p, 250);
      }
    }
    if (!volumes || p.stopping) return;
    await this.startSandbox(p);
    this.event(pod, "Normal", "SandboxReady", `pod network namespace ready (process kubelet)`);
    for (const c of p.containers.filter((x) => x.init)) {
      for (;;) {
        if (p.stopping) return;
        const code = await this.runContainer(p, pod, c, volumes, true);
        if (code === 0) break;
        c.state = { waiting: { reason: "CrashLoopBackOff", message: `init container exited with ${code}` } };
        this.writeStatus(p);
        await this.sleep(p, backoff(c.restartCount));
        c.restartCount++;
      }
    }
    p.initialized = true;
    this.writeStatus(p);
    for (const c of p.containers.filter((x) => !x.init)) {
      void this.keepRunning(p, pod, c, volumes);
    }
  }

  private async keepRunning(
    p: PodState,
    pod: KubeObject,
    c: ContainerState,
    volumes: Map<string, string>,
  ): Promise<void> {
    while (!p.stopping) {
      const code = await this.runContainer(p, pod, c, volumes, false);
      if (p.stopping) return;
      this.event(
        pod,
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${c.name} (exit code ${code})`,
      );
      c.state = {
        waiting: { reason: "CrashLoopBackOff", message: `back-off restarting failed container ${c.name}` },
      };
      this.writeStatus(p);
      await this.sleep(p, backoff(c.restartCount));
      c.restartCount++;
    }
  }

  /** Runs one container until it exits; resolves with its exit code. */
  private async runContainer(
    p: PodState,
    pod: KubeObject,
    c: ContainerState,
    volumes: Map<string, string>,
    init: boolean,
  ): Promise<number> {
    const { argv, note } = containerCommand(c.spec);
    c.env = { ...containerEnv(this.store, pod, c.spec), ...(note ? { WSPARITY_IMAGE: c.spec.image } : {}) };
    const tmp = join(p.dir, "tmp", c.name);
    mkdirSync(tmp, { recursive: true });
    chmodSync(tmp, 0o1777);
    const plan = mountPlan(c.spec, volumes, tmp);
    for (const m of missingMountPoints(plan)) this.createdMountPoints.add(m);
    if (existsSync(c.log)) renameSync(c.log, `${c.log}.previous`);
    const log = createWriteStream(c.log, { flags: "a" });
    const host = launchArgv({
      sandboxPid: p.sandbox!.pid!,
      plan,
      identity: c.identity,
      workingDir: c.spec.workingDir,
      argv,
    });
    const child = spawn(host[0]!, host.slice(1), {
      env: c.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    c.proc = child;
    c.pid = child.pid;
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const exited = new Promise<number>((resolve) => {
      child.on("error", (err) => {
        log.write(`${err.message}\n`);
        resolve(127);
      });
      child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGKILL" ? 137 : 143)));
    });
    this.event(pod, "Normal", "Created", `Created container ${c.name}`);
    if (note) this.event(pod, "Normal", "ImageNotRun", `${c.name}: ${note}`);
    const startedAt = now();
    c.lastState = c.state.terminated ? { terminated: c.state.terminated } : c.lastState;
    c.started = await this.commandStarted(p, c);
    if (c.started && !init && c.spec.lifecycle?.postStart?.exec?.command) {
      const hookCode = await this.runHook(p, c, c.spec.lifecycle.postStart.exec.command, log);
      if (hookCode !== 0 && !p.stopping) {
        this.event(
          pod,
          "Warning",
          "FailedPostStartHook",
          `PostStartHook failed in ${c.name}: exit code ${hookCode}`,
        );
        killGroup(child.pid, "SIGKILL");
      }
    }
    if (c.pid) c.state = { running: { startedAt } };
    this.event(pod, "Normal", "Started", `Started container ${c.name}`);
    this.writeStatus(p);
    if (!init) void this.probeReadiness(p, c);
    const code = await exited;
    await closeLog(log);
    c.pid = undefined;
    c.ready = false;
    c.state = {
      terminated: {
        exitCode: code,
        reason: code === 0 ? "Completed" : "Error",
        startedAt,
        finishedAt: now(),
      },
    };
    if (!p.stopping) this.writeStatus(p);
    return code;
  }

  private async runHook(
    p: PodState,
    c: ContainerState,
    command: string[],
    log: WriteStream,
  ): Promise<number> {
    if (!c.pid) return 1;
    const argv = enterArgv(c.pid, c.identity, c.spec.workingDir, command);
    const hook = spawn(argv[0]!, argv.slice(1), {
      env: c.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    hook.stderr!.on("data", (d) => log.write(d));
    return new Promise((resolve) => {
      hook.on("error", () => resolve(126));
      hook.on("exit", (code) => resolve(code ?? 1));
    });
  }

  /** Waits until the container's process has set up its mounts and exec'd its command (so hooks and exec see them). */
  private async commandStarted(p: PodState, c: ContainerState): Promise<boolean> {
    const pid = c.pid;
    const wrappers = ["nsenter\0", "unshare\0", "sh\0-c\0set -e\n", "setpriv\0"];
    for (let i = 0; i < 500 && !p.stopping && c.pid === pid && pid; i++) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        if (cmdline && !wrappers.some((w) => cmdline.startsWith(w))) return true;
      } catch {
        return false;
      }
      await this.sleep(p, 10);
    }
    return false;
  }

  /**
   * A container is ready when it runs and, if it declares ports, one of them accepts connections (a container
   * standing in for an image that was not run is ready once it runs).
   */
  private async probeReadiness(p: PodState, c: ContainerState): Promise<void> {
    const ports = runsStandIn(c.spec)
      ? []
      : (c.spec.ports ?? []).filter((x: { protocol?: string }) => (x.protocol ?? "TCP") === "TCP");
    const pid = c.pid;
    while (!p.stopping && c.pid === pid && c.pid) {
      let ready = ports.length === 0;
      for (const port of ports) {
        if (ready) break;
        ready = await dialSandbox(p.socket, port.containerPort).then(
          (s) => {
            s.destroy();
            return true;
          },
          () => false,
        );
      }
      if (ready !== c.ready && c.pid === pid) {
        c.ready = ready;
        this.writeStatus(p);
      }
      await this.sleep(p, ready ? 2000 : 250);
    }
  }

  private async startSandbox(p: PodState): Promise<void> {
    const child = spawn(
      "unshare",
      [
        "--net",
        "--uts",
        "--",
        "sh",
        "-c",
        'ip link set lo up && hostname "$0" && exec "$@"',
        p.name.slice(0, 63),
        process.execPath,
        SANDBOX_SCRIPT,
        p.socket,
      ],
      { detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    p.sandbox = child;
    await new Promise<void>((resolve, reject) => {
      let err = "";
      child.stderr!.on("data", (d) => {
        err += d;
      });
      child.stdout!.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`pod sandbox exited with ${code}: ${err.trim()}`)));
    });
    p.netns = readlinkSync(`/proc/${child.pid}/ns/net`);
  }

  private async stopPod(pod: KubeObject, removeAfter: boolean): Promise<void> {
    const p = this.pods.get(pod.metadata.uid!);
    if (p && !p.stopping) {
      for (const c of p.containers) {
        if (c.state.running) this.event(pod, "Normal", "Killing", `Stopping container ${c.name}`);
      }
      await this.teardown(p);
    } else if (p) await p.stopped;
    if (removeAfter) {
      try {
        this.store.delete(POD, pod.metadata.namespace, pod.metadata.name, { force: true });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
  }

  private async teardown(p: PodState): Promise<void> {
    if (p.stopping) return p.stopped;
    p.stopping = true;
    for (const t of p.timers) clearTimeout(t);
    const running = p.containers.filter((c) => c.proc && c.pid);
    for (const c of running) killGroup(c.pid, "SIGTERM");
    await Promise.race([
      Promise.all(
        running.map(
          (c) => new Promise((r) => (c.proc!.exitCode !== null ? r(null) : c.proc!.once("exit", r))),
        ),
      ),
      new Promise((r) => setTimeout(r, STOP_GRACE_MS)),
    ]);
    if (p.netns) killNetns(p.netns, p.sandbox?.pid);
    killGroup(p.sandbox?.pid, "SIGKILL");
    rmSync(p.dir, { recursive: true, force: true });
    this.pods.delete(p.uid);
    p.resolveStopped();
  }

  private readonly killAllSync = () => {
    for (const p of this.pods.values()) {
      for (const c of p.containers) killGroup(c.pid, "SIGKILL");
      if (p.netns) killNetns(p.netns, p.sandbox?.pid);
      killGroup(p.sandbox?.pid, "SIGKILL");
    }
  };

  private writeStatus(p: PodState): void {
    if (p.stopping) return;
    const pod = this.store.find(POD, p.namespace, p.name);
    if (!pod || pod.metadata.uid !== p.uid || pod.metadata.deletionTimestamp) return;
    const statusOf = (c: ContainerState) => ({
      name: c.name,
      state: c.state,
      lastState: c.lastState,
      ready: c.ready,
      restartCount: c.restartCount,
      image: c.spec.image,
      imageID: "",
      ...(c.pid ? { containerID: `process://${c.pid}` } : {}),
      started: !!c.state.running,
    });
    const main = p.containers.filter((c) => !c.init);
    const allRunning = p.initialized && main.every((c) => c.state.running);
    const ready = allRunning && main.every((c) => c.ready);
    const cond = (type: string, ok: boolean, reason?: string) => {
      const before = (pod.status?.conditions ?? []).find((x: { type: string }) => x.type === type);
      const status = ok ? "True" : "False";
      return {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: before?.status === status ? before.lastTransitionTime : now(),
        ...(reason && !ok ? { reason } : {}),
      };
    };
    const status = {
      phase: allRunning ? "Running" : "Pending",
      conditions: [
        cond("PodReadyToStartContainers", !!p.netns),
        cond("Initialized", p.initialized, "ContainersNotInitialized"),
        cond("Ready", ready, "ContainersNotReady"),
        cond("ContainersReady", ready, "ContainersNotReady"),
        cond("PodScheduled", true),
      ],
      hostIP: "127.0.0.1",
      podIP: "127.0.0.1",
      podIPs: [{ ip: "127.0.0.1" }],
      startTime: pod.status?.startTime ?? now(),
      qosClass: pod.status?.qosClass ?? "BestEffort",
      ...(p.containers.some((c) => c.init)
        ? { initContainerStatuses: p.containers.filter((c) => c.init).map(statusOf) }
        : {}),
      containerStatuses: main.map(statusOf),
    };
    try {
      this.store.update(POD, { ...pod, status }, { status: true });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
    }
  }

  private event(pod: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void {
    try {
      this.store.create(EVENT, {
        apiVersion: "v1",
        kind: "Event",
        metadata: {
          name: `${pod.metadata.name}.${randomBytes(8).toString("hex")}`,
          namespace: pod.metadata.namespace,
        },
        involvedObject: {
          apiVersion: "v1",
          kind: "Pod",
          name: pod.metadata.name,
          namespace: pod.metadata.namespace,
          uid: pod.metadata.uid,
        },
        reason,
        message,
        type,
        source: { component: "kubelet", host: NODE_NAME },
        reportingComponent: "kubelet",
        reportingInstance: NODE_NAME,
        firstTimestamp: now(),
        lastTimestamp: now(),
        count: 1,
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
    }
  }

  private sleep(p: PodState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        p.timers.delete(t);
        resolve();
      }, ms);
      p.timers.add(t);
      if (p.stopping) {
        clearTimeout(t);
        resolve();
      }
    });
  }
}

function backoff(restarts: number): number {
  return Math.min(1000 * 2 ** restarts, 30_000);
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
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

/** Kills every process left in the pod's network namespace (backgrounded hook and exec children included). */
function killNetns(netns: string, except?: number): void {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === except || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === netns) process.kill(Number(entry), "SIGKILL");
    } catch {
      // gone, or not ours to read
    }
  }
}

function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => log.end(resolve));
}

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
