// The docker executor, on the project's container layer (src/containers): a per-job network, services
// as containers reachable by alias, the job container from the job's image, the build folder shared with
// all of them at /builds, linux/arm64 through QEMU when the job or the runner asks for it. Images resolve
// through the image map (no registry is reachable). Stages run with `docker exec`, their output tailed
// from the shared build folder; a job container that dies fails the job with the reason.

import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanupByLabel,
  type StartedNetwork,
  type StartedWorkspaceContainer,
  WorkspaceContainer,
  WorkspaceNetwork,
} from "../../containers/index.ts";
import { resolveImage } from "../../images/image-map.ts";
import type { JobImage } from "../api-client.ts";
import {
  type Executor,
  JobContainerDied,
  type JobContext,
  type StageRun,
  signalledStage,
} from "../executor.ts";
import { expandValue } from "../variables.ts";

type Arch = "amd64" | "arm64";
const BUILDS = "/builds";
const JOB_LABEL = "io.wsparity.ci-job";

interface JobContainers {
  network: StartedNetwork;
  build: StartedWorkspaceContainer;
  services: StartedWorkspaceContainer[];
  /** Set when the job container stopped on its own. */
  died?: string;
}

export class DockerExecutor implements Executor {
  readonly name = "docker" as const;
  readonly features = { image: true, services: true, service_variables: true, image_executor_opts: true };
  /** Git runs on the runner host into the shared build folder, as gitlab-runner's helper container would. */
  readonly sourcesOnHost = true;
  private readonly jobs = new Map<number, JobContainers>();

  constructor(
    readonly architecture: Arch,
    private readonly defaultImage = "wsparity/base:latest",
  ) {}

  buildsDirInJob(): string {
    return BUILDS;
  }

  private archFor(image: JobImage | null): Arch {
    const platform = image?.executor_opts?.docker?.platform;
    if (platform === "linux/arm64" || platform === "arm64") return "arm64";
    if (platform === "linux/amd64" || platform === "amd64") return "amd64";
    return this.architecture;
  }

  async prepare(ctx: JobContext): Promise<void> {
    const { job } = ctx;
    const arch = this.archFor(job.image);
    const labels = { [JOB_LABEL]: String(job.id) };
    ctx.output(`Preparing the "docker" executor (linux/${arch})\n`);
    const network = await new WorkspaceNetwork(`wsparity-job-${job.id}-${randomBytes(3).toString("hex")}`)
      .withLabels(labels)
      .create();
    const containers: JobContainers = {
      network,
      services: [],
      build: undefined as unknown as StartedWorkspaceContainer,
    };
    this.jobs.set(job.id, containers);
    for (const service of job.services ?? []) {
      const resolved = resolveImage(service.name, arch);
      const aliases = (service.alias ?? "").split(/[\s,]+/).filter(Boolean);
      ctx.output(
        `Starting service ${service.name} (as ${resolved.image})${aliases.length ? ` with alias ${aliases.join(", ")}` : ""}\n`,
      );
      const env = { ...ctx.env };
      for (const v of service.variables ?? [])
        env[v.key] = v.raw ? v.value : expandValue(v.value, (k) => env[k]);
      const container = new WorkspaceContainer(resolved.image)
        .withPlatform(arch)
        .withNetwork(network, aliases)
        .withBind(ctx.buildDir, BUILDS)
        .withEnv(env)
        .withLabels(labels);
      if (service.entrypoint) container.withEntrypoint(service.entrypoint);
      if (service.command) container.withCommand(service.command);
      containers.services.push(await container.start());
    }
    const image = resolveImage(job.image?.name || this.defaultImage, arch);
    ctx.output(`Using docker image ${image.image} for ${job.image?.name || this.defaultImage}\n`);
    const build = new WorkspaceContainer(image.image)
      .withPlatform(arch)
      .withNetwork(network, ["build"])
      .withBind(ctx.buildDir, BUILDS)
      .withEnv(ctx.env)
      .withWorkingDir(BUILDS)
      .withLabels(labels)
      .withInit()
      .withCommand(["sleep", "infinity"]);
    if (job.image?.entrypoint) build.withEntrypoint(job.image.entrypoint);
    containers.build = await build.start();
    void containers.build.wait().then(
      (code) => {
        if (this.jobs.get(job.id) === containers)
          containers.died = `the job container exited with code ${code}`;
      },
      () => undefined,
    );
  }

  runStage(ctx: JobContext, stage: string, script: string): StageRun {
    const containers = this.jobs.get(ctx.job.id);
    if (!containers) throw new Error(`job ${ctx.job.id} has no containers`);
    const scriptFile = `.script-${stage}.sh`;
    const outFile = `.output-${stage}`;
    const pidFile = `.pid-${stage}`;
    writeFileSync(join(ctx.buildDir, scriptFile), script, { mode: 0o755 });
    writeFileSync(join(ctx.buildDir, outFile), "");
    // setsid: the stage gets its own process group, which stop() signals as a whole.
    const wrapper = `setsid bash ${BUILDS}/${scriptFile} >>${BUILDS}/${outFile} 2>&1 & echo $! > ${BUILDS}/${pidFile}; wait $!`;
    const tail = new OutputTail(join(ctx.buildDir, outFile), ctx.output);
    const exec = containers.build.exec(["sh", "-c", wrapper], { env: ctx.env, workingDir: BUILDS });
    const watch = setInterval(() => {
      tail.poll();
      if (containers.died) void stopGroup("KILL");
    }, 200);
    const stopGroup = async (signal: "TERM" | "KILL") => {
      if (!existsSync(join(ctx.buildDir, pidFile))) return;
      await containers.build
        .exec(["sh", "-c", `kill -${signal} -$(cat ${BUILDS}/${pidFile}) 2>/dev/null || true`])
        .catch(() => undefined);
    };
    const done = exec
      .then(
        (result) => result.exitCode,
        () => -1,
      )
      .then(async (code) => {
        clearInterval(watch);
        await stopGroup("KILL");
        tail.poll();
        if (containers.died) throw new JobContainerDied(containers.died);
        return code;
      });
    return signalledStage(done, stopGroup);
  }

  async cleanup(ctx: JobContext): Promise<void> {
    const containers = this.jobs.get(ctx.job.id);
    this.jobs.delete(ctx.job.id);
    if (containers) {
      await Promise.all([containers.build, ...containers.services].filter(Boolean).map((c) => c.remove()));
      await containers.network.remove();
    }
    rmSync(ctx.buildDir, { recursive: true, force: true });
  }

  async recover(buildsRoot: string): Promise<string[]> {
    const cleaned: string[] = [];
    // A sweep can meet another process's resource that is still in use; that must not stop this runner.
    const removed = await cleanupByLabel("stale").catch((err: Error) => {
      cleaned.push(`(sweep incomplete: ${err.message})`);
      return { containers: 0, networks: 0, volumes: 0 };
    });
    if (removed.containers + removed.networks > 0) {
      cleaned.push(
        `${removed.containers} container(s) and ${removed.networks} network(s) of runner processes that are gone`,
      );
    }
    if (existsSync(buildsRoot)) {
      rmSync(buildsRoot, { recursive: true, force: true });
      cleaned.push(buildsRoot);
    }
    return cleaned;
  }
}

/** Reads what a stage appended to its output file since the last poll. */
class OutputTail {
  private offset = 0;
  constructor(
    private readonly file: string,
    private readonly output: (chunk: Buffer) => void,
  ) {}

  poll(): void {
    if (!existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = openSync(this.file, "r");
    try {
      const chunk = Buffer.alloc(size - this.offset);
      readSync(fd, chunk, 0, chunk.length, this.offset);
      this.offset = size;
      this.output(chunk);
    } finally {
      closeSync(fd);
    }
  }
}
