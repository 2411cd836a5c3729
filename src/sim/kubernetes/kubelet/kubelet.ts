// The simulator's kubelet: runs the pods bound to its node through a backend (processes or Docker containers):
// volumes, sandbox, init containers in order, containers with postStart hooks and restarts, readiness from the
// declared ports, pod status and events, logs and exec.
import { randomBytes } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  type WriteStream,
} from "node:fs";
import { join } from "node:path";
import { type Duplex, PassThrough, type Readable } from "node:stream";
import type { KubeObject } from "../../../kubernetes/objects.ts";
import { NODE_NAME } from "../controllers.ts";
import { ApiError, badRequest } from "../errors.ts";
import { RESOURCE_TYPES } from "../resources.ts";
import type { ExecProcess, LogOptions, PodRuntime } from "../runtime.ts";
import type { ObjectStore } from "../store.ts";
import type { ContainerJson, KubeletBackend, PodSandbox, RunningContainer } from "./backend.ts";
import { containerEnv } from "./launch.ts";
import { claimDir, MountFailed, prepareVolumes } from "./volumes.ts";

const POD = RESOURCE_TYPES.find((r) => r.kind === "Pod")!;
const EVENT = RESOURCE_TYPES.find((r) => r.kind === "Event")!;
const CLAIM = RESOURCE_TYPES.find((r) => r.kind === "PersistentVolumeClaim")!;
const STOP_GRACE_MS = 3000;
const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

interface ContainerState {
  name: string;
  spec: ContainerJson;
  init: boolean;
  /** Added to the running pod through pods/ephemeralcontainers: runs once, never restarts, has no probes. */
  ephemeral: boolean;
  run?: RunningContainer;
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
  ready: boolean;
  restartCount: number;
  log: string;
}

interface PodState {
  uid: string;
  namespace: string;
  name: string;
  dir: string;
  sandbox?: PodSandbox;
  /** Volume name -> host folder, once mounted. */
  volumes?: Map<string, string>;
  containers: ContainerState[];
  initialized: boolean;
  stopping: boolean;
  stopped: Promise<void>;
  resolveStopped: () => void;
  timers: Set<NodeJS.Timeout>;
}

export class Kubelet implements PodRuntime {
  private readonly pods = new Map<string, PodState>();
  private unsubscribe: (() => void)[] = [];
  private stopping = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly stateDir: string,
    private readonly backend: KubeletBackend,
  ) {}

  start(): void {
    mkdirSync(join(this.stateDir, "pods"), { recursive: true });
    process.once("exit", this.removeAllSync);
    this.unsubscribe = [
      this.store.onChange(POD, (e) => {
        if (e.type === "DELETED") void this.stopPod(e.object, false);
        else this.sync(e.object);
      }),
      this.store.onChange(CLAIM, (e) => {
        if (e.type === "ADDED") this.bindClaim(e.object);
        if (e.type === "DELETED") {
          const dir = claimDir(this.stateDir, e.object.metadata.namespace!, e.object.metadata.name);
          rmSync(dir, { recursive: true, force: true });
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
    await this.backend.close();
    process.off("exit", this.removeAllSync);
    // The API state these folders belonged to lives in memory and is gone with this simulator.
    rmSync(join(this.stateDir, "pods"), { recursive: true, force: true });
    rmSync(join(this.stateDir, "volumes"), { recursive: true, force: true });
  }

  /** A connection to a port on the pod's localhost, through its sandbox. */
  async connect(namespace: string, podName: string, port: number): Promise<Duplex> {
    const pod = [...this.pods.values()].find(
      (p) => p.namespace === namespace && p.name === podName && !p.stopping,
    );
    if (!pod?.sandbox) throw new Error(`pod ${namespace}/${podName} is not running on this kubelet`);
    return pod.sandbox.dial(port);
  }

  logs(pod: KubeObject, container: string, opts: LogOptions): Readable {
    const state = this.containerOf(pod, container);
    const file = opts.previous ? `${state.log}.previous` : state.log;
    if (!existsSync(file)) {
      if (opts.previous) {
        throw badRequest(
          `previous terminated container "${container}" in pod "${pod.metadata.name}" not found`,
        );
      }
      throw badRequest(
        `container "${container}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`,
      );
    }
    const text = readFileSync(file);
    const out = new PassThrough();
    const stamps = existsSync(`${file}.times`) ? readFileSync(`${file}.times`, "utf8").split("\n") : [];
    const lines = text.toString().split("\n");
    const partial = lines.pop() ?? "";
    let entries = lines.map((line, i) => ({ line, at: stamps[i] || new Date().toISOString() }));
    if (opts.sinceTime) entries = entries.filter((e) => e.at >= opts.sinceTime!);
    if (opts.tailLines !== undefined) entries = entries.slice(Math.max(0, entries.length - opts.tailLines));
    const show = (line: string, at: string) => (opts.timestamps ? `${at} ${line}` : line);
    out.write(
      entries.map((e) => `${show(e.line, e.at)}\n`).join("") +
        (partial ? show(partial, new Date().toISOString()) : ""),
    );
    if (!opts.follow) {
      out.end();
      return out;
    }
    let offset = text.length;
    const timer = setInterval(() => {
      try {
        const size = statSync(file).size;
        if (size > offset) {
          createReadStream(file, { start: offset, end: size - 1 }).on("data", (c) =>
            out.write(
              opts.timestamps ? c.toString().replace(/^(?=.)/gm, () => `${new Date().toISOString()} `) : c,
            ),
          );
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

  exec(pod: KubeObject, container: string, command: string[], tty: boolean): ExecProcess {
    const state = this.containerOf(pod, container);
    if (!state.run || !state.state.running) {
      throw badRequest(`container ${container} is not running in pod ${pod.metadata.name}`);
    }
    return state.run.enter(command, true, tty);
  }

  attach(pod: KubeObject, container: string, stdin: boolean): ExecProcess {
    const state = this.containerOf(pod, container);
    const run = state.run;
    if (!run || !state.state.running) {
      throw badRequest(`container ${container} is not running in pod ${pod.metadata.name}`);
    }
    if (stdin && !run.stdin) {
      throw badRequest(
        `container ${container} in pod ${pod.metadata.name} has no stdin to attach to: its spec needs stdin: true`,
      );
    }
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const toStdout = (chunk: Buffer) => stdout.write(chunk);
    const toStderr = (chunk: Buffer) => stderr.write(chunk);
    run.stdout.on("data", toStdout);
    run.stderr.on("data", toStderr);
    const input = new PassThrough();
    if (stdin) {
      input.pipe(run.stdin!, { end: false });
      // stdinOnce: the container's stdin closes when the first attached client closes its own.
      if (state.spec.stdinOnce) input.once("end", () => run.stdin!.end());
    }
    let attached = true;
    const detach = () => {
      if (!attached) return;
      attached = false;
      run.stdout.off("data", toStdout);
      run.stderr.off("data", toStderr);
      input.unpipe();
      stdout.end();
      stderr.end();
    };
    run.exited.then(detach);
    return { stdin: input, stdout, stderr, exited: run.exited, kill: detach };
  }

  private isLive(pod: KubeObject): boolean {
    return this.pods.get(pod.metadata.uid!)?.stopping === false;
  }

  private containerOf(pod: KubeObject, name: string): ContainerState {
    const state = this.pods.get(pod.metadata.uid!);
    const c = state?.containers.find((x) => x.name === name);
    if (!c) {
      const names = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map(
        (x: { name: string }) => x.name,
      );
      if (!names.includes(name))
        throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
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
    if (pod.metadata.deletionTimestamp) {
      void this.stopPod(pod, true);
      return;
    }
    const known = this.pods.get(pod.metadata.uid!);
    if (known) {
      this.startEphemeralContainers(known, pod);
      return;
    }
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
    const mk = (c: ContainerJson, init: boolean) => containerState(dir, c, init, false);
    return {
      uid: pod.metadata.uid!,
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name,
      dir,
      containers: [
        ...(pod.spec.initContainers ?? []).map((c: ContainerJson) => mk(c, true)),
        ...pod.spec.containers.map((c: ContainerJson) => mk(c, false)),
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
    p.sandbox = await this.backend.startSandbox(pod, p.dir);
    if (p.stopping) {
      await p.sandbox.remove();
      return;
    }
    this.event(pod, "Normal", "SandboxReady", `pod sandbox ready (${this.backend.name} kubelet)`);
    for (const c of p.containers.filter((x) => x.init)) {
      for (;;) {
        if (p.stopping) return;
        const code = await this.runContainer(p, pod, c, volumes);
        if (code === 0) break;
        c.state = { waiting: { reason: "CrashLoopBackOff", message: `init container exited with ${code}` } };
        this.writeStatus(p);
        await this.sleep(p, backoff(c.restartCount));
        c.restartCount++;
      }
    }
    p.initialized = true;
    p.volumes = volumes;
    this.writeStatus(p);
    for (const c of p.containers.filter((x) => !x.init)) void this.keepRunning(p, pod, c, volumes);
    this.startEphemeralContainers(p, pod);
  }

  /** Starts, once, each ephemeral container the pod's spec names that this kubelet has not run yet. */
  private startEphemeralContainers(p: PodState, pod: KubeObject): void {
    if (!p.initialized || !p.volumes || p.stopping) return;
    for (const spec of (pod.spec?.ephemeralContainers ?? []) as ContainerJson[]) {
      if (p.containers.some((c) => c.name === spec.name)) continue;
      const c = containerState(p.dir, spec, false, true);
      p.containers.push(c);
      void this.runContainer(p, pod, c, p.volumes);
    }
  }

  private async keepRunning(p: PodState, pod: KubeObject, c: ContainerState, volumes: Map<string, string>) {
    const policy = pod.spec?.restartPolicy ?? "Always";
    while (!p.stopping) {
      const code = await this.runContainer(p, pod, c, volumes);
      if (p.stopping) return;
      if (policy === "Never" || (policy === "OnFailure" && code === 0)) {
        this.writeStatus(p);
        return;
      }
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
  private async runContainer(p: PodState, pod: KubeObject, c: ContainerState, volumes: Map<string, string>) {
    if (existsSync(c.log)) renameSync(c.log, `${c.log}.previous`);
    if (existsSync(`${c.log}.times`)) renameSync(`${c.log}.times`, `${c.log}.previous.times`);
    const log = createWriteStream(c.log, { flags: "a" });
    const times = createWriteStream(`${c.log}.times`, { flags: "a" });
    log.on("close", () => times.end());
    let run: RunningContainer;
    try {
      run = await this.backend.startContainer(p.sandbox!, {
        pod,
        spec: c.spec,
        volumes,
        env: containerEnv(this.store, pod, c.spec),
        dir: join(p.dir, "containers", c.name),
      });
    } catch (err) {
      this.event(pod, "Warning", "Failed", `Error: ${(err as Error).message}`);
      await closeLog(log);
      c.state = { waiting: { reason: "CreateContainerError", message: (err as Error).message } };
      this.writeStatus(p);
      return 128;
    }
    c.run = run;
    run.stdout.pipe(log, { end: false });
    run.stderr.pipe(log, { end: false });
    // When each line was written, one RFC 3339 time a line, for logs --timestamps and --since.
    const stamp = (chunk: Buffer) => {
      const lines = chunk.toString().split("\n").length - 1;
      if (lines) times.write(`${new Date().toISOString()}\n`.repeat(lines));
    };
    run.stdout.on("data", stamp);
    run.stderr.on("data", stamp);
    this.event(pod, "Normal", "Created", `Created container ${c.name}`);
    if (run.note) this.event(pod, "Normal", "ImageNotRun", `${c.name}: ${run.note}`);
    const startedAt = now();
    c.lastState = c.state.terminated ? { terminated: c.state.terminated } : c.lastState;
    const started = await run.started;
    const hook = c.spec.lifecycle?.postStart?.exec?.command as string[] | undefined;
    if (started && !c.init && hook && !p.stopping) {
      const hookCode = await this.runHook(run, hook, log);
      if (hookCode !== 0 && !p.stopping) {
        this.event(
          pod,
          "Warning",
          "FailedPostStartHook",
          `PostStartHook failed in ${c.name}: exit code ${hookCode}`,
        );
        run.signal("SIGKILL");
      }
    }
    let exitCode: number | undefined;
    void run.exited.then((code) => {
      exitCode = code;
    });
    await Promise.resolve();
    if (exitCode === undefined) c.state = { running: { startedAt } };
    this.event(pod, "Normal", "Started", `Started container ${c.name}`);
    this.writeStatus(p);
    if (!c.init && !c.ephemeral) void this.probeReadiness(p, c, run);
    const code = await run.exited;
    await closeLog(log);
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

  private async runHook(run: RunningContainer, command: string[], log: WriteStream): Promise<number> {
    const hook = run.enter(command, false);
    // A container that exits at once closes its log while its postStart hook may still be talking.
    hook.stderr.on("data", (d) => {
      if (!log.writableEnded) log.write(d);
    });
    hook.stdout.resume();
    return hook.exited;
  }

  /**
   * A container is ready when it runs and, if it declares ports, one of them accepts connections (a container
   * standing in for an image that was not run is ready once it runs).
   */
  private async probeReadiness(p: PodState, c: ContainerState, run: RunningContainer): Promise<void> {
    const ports = this.backend.probesPorts(c.spec)
      ? (c.spec.ports ?? []).filter((x: { protocol?: string }) => (x.protocol ?? "TCP") === "TCP")
      : [];
    while (!p.stopping && c.run === run && c.state.running) {
      let ready = ports.length === 0;
      for (const port of ports) {
        if (ready) break;
        ready = await p.sandbox!.dial(port.containerPort).then(
          (s) => {
            s.destroy();
            return true;
          },
          () => false,
        );
      }
      if (ready !== c.ready && c.run === run && c.state.running) {
        c.ready = ready;
        this.writeStatus(p);
      }
      await this.sleep(p, ready ? 2000 : 250);
    }
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
    const running = p.containers.filter((c) => c.run && c.state.running);
    for (const c of running) c.run!.signal("SIGTERM");
    await Promise.race([
      Promise.all(running.map((c) => c.run!.exited)),
      new Promise((r) => setTimeout(r, STOP_GRACE_MS)),
    ]);
    for (const c of running) c.run!.signal("SIGKILL");
    await p.sandbox?.remove();
    rmSync(p.dir, { recursive: true, force: true });
    this.pods.delete(p.uid);
    p.resolveStopped();
  }

  private readonly removeAllSync = () => {
    for (const p of this.pods.values()) {
      for (const c of p.containers) c.run?.removeSync();
      p.sandbox?.removeSync();
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
      ...(c.run ? { containerID: c.run.id } : {}),
      started: !!c.state.running,
    });
    const main = p.containers.filter((c) => !c.init && !c.ephemeral);
    const allRunning = p.initialized && main.every((c) => c.state.running);
    // Under restartPolicy Never (or OnFailure, after exit 0) a terminated container stays terminated.
    const policy = pod.spec?.restartPolicy ?? "Always";
    const finished = (c: ContainerState) =>
      policy !== "Always" &&
      c.state.terminated !== undefined &&
      (policy === "Never" || (c.state.terminated as { exitCode: number }).exitCode === 0);
    const settled = p.initialized && main.every((c) => c.state.running || finished(c));
    const phase = !settled
      ? "Pending"
      : main.some((c) => c.state.running)
        ? "Running"
        : main.every((c) => (c.state.terminated as { exitCode: number }).exitCode === 0)
          ? "Succeeded"
          : "Failed";
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
    const ip = p.sandbox?.ip;
    const status = {
      phase,
      conditions: [
        cond("PodReadyToStartContainers", !!p.sandbox),
        cond("Initialized", p.initialized, "ContainersNotInitialized"),
        cond("Ready", ready, "ContainersNotReady"),
        cond("ContainersReady", ready, "ContainersNotReady"),
        cond("PodScheduled", true),
      ],
      hostIP: "127.0.0.1",
      ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      startTime: pod.status?.startTime ?? now(),
      qosClass: pod.status?.qosClass ?? "BestEffort",
      ...(p.containers.some((c) => c.init)
        ? { initContainerStatuses: p.containers.filter((c) => c.init).map(statusOf) }
        : {}),
      containerStatuses: main.map(statusOf),
      ...(p.containers.some((c) => c.ephemeral)
        ? { ephemeralContainerStatuses: p.containers.filter((c) => c.ephemeral).map(statusOf) }
        : {}),
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
      if (p.stopping) return resolve();
      const t = setTimeout(() => {
        p.timers.delete(t);
        resolve();
      }, ms);
      p.timers.add(t);
    });
  }
}

function backoff(restarts: number): number {
  return Math.min(1000 * 2 ** restarts, 30_000);
}

function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => log.end(resolve));
}

function containerState(
  podDir: string,
  spec: ContainerJson,
  init: boolean,
  ephemeral: boolean,
): ContainerState {
  return {
    name: spec.name,
    spec,
    init,
    ephemeral,
    state: { waiting: { reason: init ? "PodInitializing" : "ContainerCreating" } },
    lastState: {},
    ready: false,
    restartCount: 0,
    log: join(podDir, "logs", `${spec.name}.log`),
  };
}
