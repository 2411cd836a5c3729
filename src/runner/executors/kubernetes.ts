// The kubernetes executor, through @kubernetes/client-node against the Kubernetes simulator or a real
// cluster: one pod per job (kubernetes-pod.ts), sources fetched on the runner host and copied into the
// build volume through the helper container (tar over exec, as `kubectl cp` does), stages run by exec in
// the build container with their output streamed to the trace, the pod deleted at the end. A build
// container that stops fails the job with the reason; pods of a runner process that died are removed when
// the next one starts.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { CoreV1Api, type KubeConfig, type V1ContainerStatus, type V1Pod } from "@kubernetes/client-node";
import { dnsLabel } from "../../ci/pipeline.ts";
import { processIsAlive } from "../../util/process-alive.ts";
import type { RunnerFileConfig } from "../config.ts";
import {
  type Executor,
  JobContainerDied,
  type JobContext,
  type StageRun,
  signalledStage,
} from "../executor.ts";
import {
  BUILDS,
  JOB_LABEL,
  jobPod,
  type OverwriteKey,
  type PodSettings,
  RUNNER_HOST_LABEL,
  RUNNER_LABEL,
  RUNNER_PID_LABEL,
} from "./kubernetes-pod.ts";
import { PodExec } from "./pod-exec.ts";

type Arch = "amd64" | "arm64";
/** Waiting reasons after which a container will not start without someone changing something. */
const STUCK = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "ErrImageNeverPull",
  "InvalidImageName",
  "CreateContainerError",
  "CreateContainerConfigError",
  "RunContainerError",
  "CrashLoopBackOff",
]);

export interface KubernetesExecutorOptions {
  namespace: string;
  arch: Arch;
  runnerName: string;
  image?: string;
  helperImage?: string;
  nodeSelector?: Record<string, string>;
  overwriteMaxAllowed?: Partial<Record<OverwriteKey, string>>;
  /** How long a pod may take to run all its containers (gitlab-runner's poll_timeout). */
  pollTimeoutMs?: number;
}

interface JobPodState {
  exec: PodExec;
  name: string;
  watch?: NodeJS.Timeout;
  /** Set when the build container stopped on its own. */
  died?: string;
}

export class KubernetesExecutor implements Executor {
  readonly name = "kubernetes" as const;
  readonly features = { image: true, services: true, service_variables: true, image_executor_opts: true };
  /** Git runs on the runner host; the result is copied into the pod (the job's image may lack git). */
  readonly sourcesOnHost = true;
  readonly architecture: Arch;
  private readonly core: CoreV1Api;
  private readonly settings: PodSettings;
  private readonly pods = new Map<number, JobPodState>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: KubernetesExecutorOptions,
  ) {
    this.architecture = options.arch;
    this.core = kc.makeApiClient(CoreV1Api);
    this.settings = {
      namespace: options.namespace,
      runnerName: options.runnerName,
      defaultImage: options.image ?? `wsparity/base:${options.arch}`,
      helperImage: options.helperImage ?? `wsparity/base:${options.arch}`,
      nodeSelector: options.nodeSelector ?? { "kubernetes.io/arch": options.arch },
      overwriteMaxAllowed: options.overwriteMaxAllowed ?? {},
    };
  }

  buildsDirInJob(): string {
    return BUILDS;
  }

  async prepare(ctx: JobContext): Promise<void> {
    const { job } = ctx;
    const { namespace } = this.settings;
    const name = `runner-${dnsLabel(this.options.runnerName).slice(0, 24)}-job-${job.id}-${randomBytes(3).toString("hex")}`;
    ctx.output(`Preparing the "kubernetes" executor\nUsing Kubernetes namespace: ${namespace}\n`);
    const plan = jobPod(job, ctx.env, this.settings, name);
    for (const note of plan.notes) ctx.output(`${note}\n`);
    const state: JobPodState = { exec: new PodExec(this.kc, namespace, name), name };
    this.pods.set(job.id, state);
    await this.ensureNamespace(namespace);
    for (const c of plan.pod.spec!.containers) ctx.output(`Using image ${c.image} for container ${c.name}\n`);
    await this.core.createNamespacedPod({ namespace, body: plan.pod });
    ctx.output(`Waiting for pod ${namespace}/${name} to be running...\n`);
    const pod = await this.waitRunning(name, this.options.pollTimeoutMs ?? 180_000);
    for (const s of pod.status?.containerStatuses ?? []) {
      if (!s.name.startsWith("svc-")) continue;
      if (s.state?.terminated)
        ctx.output(`WARNING: service ${s.image} (container ${s.name}) stopped: ${describeTerminated(s)}\n`);
      else if (s.state?.waiting)
        ctx.output(
          `WARNING: service ${s.image} (container ${s.name}) is not running: ${s.state.waiting.reason ?? "waiting"}${s.state.waiting.message ? `: ${s.state.waiting.message}` : ""}\n`,
        );
    }
    ctx.output(`Running on ${name} via ${pod.spec?.nodeName ?? "an unnamed node"}...\n`);
    state.watch = setInterval(() => void this.checkBuild(state), 1000);
  }

  private async ensureNamespace(namespace: string): Promise<void> {
    try {
      await this.core.readNamespace({ name: namespace });
    } catch (err) {
      if (statusOf(err) !== 404) return;
      await this.core.createNamespace({ body: { metadata: { name: namespace } } }).catch((e: unknown) => {
        if (statusOf(e) !== 409) throw e;
      });
    }
  }

  private async waitRunning(name: string, timeoutMs: number): Promise<V1Pod> {
    const { namespace } = this.settings;
    const deadline = Date.now() + timeoutMs;
    let last: V1Pod | undefined;
    for (;;) {
      last = await this.core.readNamespacedPod({ name, namespace });
      const statuses = last.status?.containerStatuses ?? [];
      const core = statuses.filter((s) => s.name === "build" || s.name === "helper");
      // An image that cannot be pulled fails the job, for services too, as gitlab-runner does; a service
      // that starts and exits is a warning once the pod runs (restartPolicy Never keeps it terminated).
      for (const s of statuses) {
        const waiting = s.state?.waiting?.reason;
        if (waiting && STUCK.has(waiting))
          throw new JobContainerDied(
            `container ${s.name} (${s.image}) cannot start: ${waiting}${s.state?.waiting?.message ? `: ${s.state.waiting.message}` : ""}`,
          );
      }
      const stopped = core.find((s) => s.state?.terminated);
      if (stopped)
        throw new JobContainerDied(`container ${stopped.name} stopped: ${describeTerminated(stopped)}`);
      if (last.status?.phase === "Failed")
        throw new JobContainerDied(`pod ${name} failed: ${last.status.message ?? last.status.reason ?? ""}`);
      if (last.status?.phase === "Running" && core.length === 2 && core.every((s) => s.state?.running))
        return last;
      if (Date.now() > deadline)
        throw new JobContainerDied(
          `pod ${namespace}/${name} is not running after ${Math.round(timeoutMs / 1000)} s (phase ${last.status?.phase ?? "unknown"}${await this.eventsOf(name)})`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async eventsOf(pod: string): Promise<string> {
    const events = await this.core
      .listNamespacedEvent({
        namespace: this.settings.namespace,
        fieldSelector: `involvedObject.name=${pod}`,
      })
      .catch(() => undefined);
    const last = (events?.items ?? []).slice(-3).map((e) => `${e.reason}: ${e.message}`);
    return last.length > 0 ? `; events: ${last.join("; ")}` : "";
  }

  private async checkBuild(state: JobPodState): Promise<void> {
    if (state.died) return;
    const pod = await this.core
      .readNamespacedPod({ name: state.name, namespace: this.settings.namespace })
      .catch((err: unknown) => (statusOf(err) === 404 ? null : undefined));
    if (pod === undefined) return;
    if (pod === null || pod.metadata?.deletionTimestamp) {
      state.died = `pod ${state.name} was deleted by someone other than this runner`;
      return;
    }
    const build = pod.status?.containerStatuses?.find((s) => s.name === "build");
    if (build?.state?.terminated) state.died = `the build container stopped: ${describeTerminated(build)}`;
  }

  private jobPodOf(ctx: JobContext): JobPodState {
    const state = this.pods.get(ctx.job.id);
    if (!state) throw new Error(`job ${ctx.job.id} has no pod`);
    return state;
  }

  async syncIn(ctx: JobContext): Promise<void> {
    const { exec } = this.jobPodOf(ctx);
    const tar = spawn("tar", ["-c", "-C", ctx.buildDir, "--exclude=./.script-*", "."], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tarError: Buffer[] = [];
    tar.stderr.on("data", (c: Buffer) => tarError.push(c));
    const [result, tarCode] = await Promise.all([
      exec.output("helper", ["tar", "-x", "-o", "-C", BUILDS], tar.stdout),
      new Promise<number>((resolve) => tar.on("close", (code) => resolve(code ?? 1))),
    ]);
    if (tarCode !== 0)
      throw new Error(`cannot pack the build folder ${ctx.buildDir}: ${Buffer.concat(tarError)}`);
    if (result.exitCode !== 0)
      throw new JobContainerDied(
        `cannot copy the build folder into pod ${exec.pod}: ${result.stderr.trim() || result.error}`,
      );
  }

  async syncOut(ctx: JobContext, projectPaths: string[]): Promise<void> {
    const { exec } = this.jobPodOf(ctx);
    const result = await exec.output("helper", [
      "tar",
      "-c",
      "--ignore-failed-read",
      "-C",
      ctx.projectDirInJob,
      "--",
      ...projectPaths,
    ]);
    if (result.exitCode !== 0)
      throw new Error(
        `cannot copy ${projectPaths.join(", ")} out of pod ${exec.pod}: ${result.stderr.trim()}`,
      );
    const projectDirOnHost = join(ctx.buildDir, "root", ctx.job.job_info.project_name);
    mkdirSync(projectDirOnHost, { recursive: true });
    const untar = spawn("tar", ["-x", "-C", projectDirOnHost], { stdio: ["pipe", "ignore", "pipe"] });
    const untarError: Buffer[] = [];
    untar.stderr.on("data", (c: Buffer) => untarError.push(c));
    untar.stdin.end(result.stdout);
    const code = await new Promise<number>((resolve) => untar.on("close", (c) => resolve(c ?? 1)));
    if (code !== 0) throw new Error(`cannot unpack what pod ${exec.pod} sent: ${Buffer.concat(untarError)}`);
  }

  runStage(ctx: JobContext, stage: string, script: string): StageRun {
    const state = this.jobPodOf(ctx);
    const { exec } = state;
    const file = `${BUILDS}/.script-${stage}.sh`;
    const pidFile = `${BUILDS}/.pid-${stage}`;
    // setsid: the stage gets its own process group, stopped as a whole; what it leaves behind is killed
    // when it exits, so no background process holds the exec's output open.
    const wrapper = `setsid bash ${file} & pid=$!; echo $pid > ${pidFile}; wait $pid; code=$?; kill -KILL -$pid 2>/dev/null; exit $code`;
    const signalGroup = (signal: "TERM" | "KILL") =>
      exec
        .run("build", [
          "sh",
          "-c",
          `[ -f ${pidFile} ] && kill -${signal} -$(cat ${pidFile}) 2>/dev/null; true`,
        ])
        .catch(() => undefined);
    const done = (async () => {
      const written = await exec.output("build", ["sh", "-c", 'cat > "$0"', file], script);
      if (written.exitCode !== 0) {
        if (state.died) throw new JobContainerDied(state.died);
        ctx.output(
          `wsparity-runner: cannot write ${file} in pod ${exec.pod}: ${written.stderr || written.error}\n`,
        );
        return 1;
      }
      const result = await exec.run("build", ["sh", "-c", wrapper], {
        onStdout: ctx.output,
        onStderr: ctx.output,
      });
      if (result.exitCode !== 0) {
        // A stage killed with its pod looks like a failing script unless the pod is asked.
        await this.checkBuild(state);
        if (state.died) throw new JobContainerDied(state.died);
      }
      if (result.error)
        ctx.output(`wsparity-runner: the stage's exec in pod ${exec.pod} ended: ${result.error}\n`);
      return result.exitCode;
    })();
    return signalledStage(done, signalGroup);
  }

  async cleanup(ctx: JobContext): Promise<void> {
    const state = this.pods.get(ctx.job.id);
    this.pods.delete(ctx.job.id);
    if (state) {
      clearInterval(state.watch);
      await this.deletePod(state.name);
    }
    rmSync(ctx.buildDir, { recursive: true, force: true });
  }

  /** Deletes the pod and waits until the API no longer has it. */
  private async deletePod(name: string): Promise<void> {
    const { namespace } = this.settings;
    try {
      await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw err;
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        await this.core.readNamespacedPod({ name, namespace });
      } catch (err) {
        if (statusOf(err) === 404) return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`pod ${namespace}/${name} is still there 30 s after its deletion`);
  }

  async recover(buildsRoot: string): Promise<string[]> {
    const cleaned: string[] = [];
    const { namespace } = this.settings;
    const selector = `${RUNNER_LABEL}=${dnsLabel(this.options.runnerName)},${RUNNER_HOST_LABEL}=${dnsLabel(hostname())}`;
    const pods = await this.core
      .listNamespacedPod({ namespace, labelSelector: selector })
      .catch((err: unknown) => {
        cleaned.push(`(could not list pods in ${namespace}: ${(err as Error).message})`);
        return { items: [] as V1Pod[] };
      });
    for (const pod of pods.items) {
      const pid = Number(pod.metadata?.labels?.[RUNNER_PID_LABEL]);
      if (pid === process.pid || processIsAlive(pid)) continue;
      await this.deletePod(pod.metadata!.name!);
      cleaned.push(`pod ${namespace}/${pod.metadata!.name} (job ${pod.metadata?.labels?.[JOB_LABEL]})`);
    }
    rmSync(buildsRoot, { recursive: true, force: true });
    return cleaned;
  }
}

function describeTerminated(s: V1ContainerStatus): string {
  const t = s.state?.terminated;
  if (!t) return "not terminated";
  return `exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ""}${t.message ? `: ${t.message}` : ""}`;
}

function statusOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/** The executor a runner config describes, on the cluster `kc`; `runnerName` labels its pods. */
export function kubernetesExecutorFrom(
  kc: KubeConfig,
  config: RunnerFileConfig,
  runnerName = config.name,
): KubernetesExecutor {
  const k8s = config.kubernetes;
  return new KubernetesExecutor(kc, {
    namespace: k8s?.namespace ?? "default",
    arch: config.arch,
    runnerName,
    ...(k8s?.image ? { image: k8s.image } : {}),
    ...(k8s?.helperImage ? { helperImage: k8s.helperImage } : {}),
    ...(k8s?.nodeSelector ? { nodeSelector: k8s.nodeSelector } : {}),
    ...(k8s?.pollTimeoutSeconds ? { pollTimeoutMs: k8s.pollTimeoutSeconds * 1000 } : {}),
    overwriteMaxAllowed: k8s?.overwriteMaxAllowed ?? {},
  });
}
