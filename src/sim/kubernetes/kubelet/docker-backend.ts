// The docker backend (docker tier): a pod's sandbox is a pause-style container on a bridge network whose network
// and UTS namespaces the pod's containers join; containers run the mapped local images with their user,
// memory and CPU limits and the pod's volumes bound in. Images that cannot be pulled here run as the images the
// project builds (src/images image map); every substitution is stated in the pod's events.
import { spawnSync } from "node:child_process";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import { dockerEngine, isNotFound, managedLabels, parseMemorySize } from "../../../containers/index.ts";
import { type Arch, hostArch, resolveImage } from "../../../images/index.ts";
import type { KubeObject } from "../../../kubernetes/objects.ts";
import type { ExecProcess } from "../runtime.ts";
import type {
  ContainerJson,
  ContainerLaunch,
  KubeletBackend,
  PodSandbox,
  RunningContainer,
} from "./backend.ts";
import { DEFAULT_PATH, identityOf } from "./launch.ts";

const NETWORK = "wsparity-k8s-sim";
const POD_LABEL = "io.wsparity.k8s-sim.pod";
const REPO = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const TOOLS_INJECTOR = join(REPO, "src/sim/kubernetes/kubelet/tools-injector.mjs");
const TOOLS_IMAGE = /gitlab-workspaces-tools/;

class DockerSandbox implements PodSandbox {
  constructor(
    readonly id: string,
    readonly ip: string,
  ) {}

  dial(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: this.ip, port });
      s.once("connect", () => {
        s.off("error", reject);
        resolve(s);
      });
      s.once("error", reject);
    });
  }

  async remove(): Promise<void> {
    await dockerEngine()
      .getContainer(this.id)
      .remove({ force: true })
      .catch((err) => {
        if (!isNotFound(err)) throw err;
      });
  }

  removeSync(): void {
    spawnSync("docker", ["rm", "-f", this.id], { stdio: "ignore" });
  }
}

export class DockerBackend implements KubeletBackend {
  readonly name = "docker";
  private network: Promise<void> | undefined;

  constructor(private readonly arch: Arch = hostArch()) {}

  async startSandbox(pod: KubeObject, _dir: string): Promise<PodSandbox> {
    this.network ??= this.ensureNetwork();
    await this.network;
    const docker = dockerEngine();
    const container = await docker.createContainer({
      Image: resolveImage("debian", this.arch).image,
      Cmd: ["sleep", "infinity"],
      Hostname: pod.metadata.name.slice(0, 63),
      Labels: { ...managedLabels(), [POD_LABEL]: pod.metadata.uid! },
      // Containers join this one's network namespace and share its /etc/hosts, hostAliases included.
      HostConfig: { NetworkMode: NETWORK, Init: true, IpcMode: "shareable", ExtraHosts: extraHosts(pod) },
    });
    await container.start();
    const info = await container.inspect();
    const ip = info.NetworkSettings.Networks[NETWORK]?.IPAddress;
    if (!ip) throw new Error(`pod sandbox ${container.id.slice(0, 12)} got no address on ${NETWORK}`);
    return new DockerSandbox(container.id, ip);
  }

  async startContainer(sandbox: PodSandbox, launch: ContainerLaunch): Promise<RunningContainer> {
    const { spec, pod } = launch;
    const docker = dockerEngine();
    const resolved = resolveImage(spec.image, this.arch);
    const identity = identityOf(pod, spec);
    const binds = (spec.volumeMounts ?? []).map(
      (m: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }) => {
        const dir = launch.volumes.get(m.name);
        if (!dir) throw new Error(`volume mount ${m.name} has no volume`);
        return `${m.subPath ? join(dir, m.subPath) : dir}:${m.mountPath}${m.readOnly ? ":ro" : ""}`;
      },
    );
    let entrypoint: string[] | undefined = spec.command;
    let cmd: string[] | undefined = spec.args ?? (spec.command ? [] : undefined);
    let note =
      resolved.image === spec.image
        ? undefined
        : `image ${spec.image} runs as ${resolved.image} (${resolved.why})`;
    let probesPorts = true;
    if (TOOLS_IMAGE.test(spec.image) && !spec.command && !spec.args) {
      entrypoint = ["node", TOOLS_INJECTOR];
      cmd = [];
      binds.push(`${REPO}:${REPO}:ro`);
      note = `image ${spec.image} not run: the tools injector installed the wsparity editor from ${resolved.image}`;
    } else if (resolved.standIn && !spec.command && !spec.args) {
      entrypoint = ["sleep", "infinity"];
      cmd = [];
      probesPorts = false;
      note = `image ${spec.image} is not built here and its entrypoint is unknown: ${resolved.image} idles in its place`;
    }
    this.standIns.set(spec, !probesPorts);
    const env = { ...launch.env };
    if (env.PATH === DEFAULT_PATH) delete env.PATH;
    if (env.HOME === "/tmp") delete env.HOME;
    const limits = spec.resources?.limits ?? {};
    const container = await docker.createContainer({
      Image: resolved.image,
      ...(entrypoint ? { Entrypoint: entrypoint } : {}),
      ...(cmd ? { Cmd: cmd } : {}),
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      ...(identity.uid !== undefined ? { User: `${identity.uid}:${identity.gid}` } : {}),
      Labels: { ...managedLabels(), [POD_LABEL]: pod.metadata.uid! },
      // stdin: true keeps the container's stdin open for `kubectl attach -i`, as the kubelet asks its runtime to.
      ...(spec.stdin ? { OpenStdin: true, AttachStdin: true, StdinOnce: !!spec.stdinOnce } : {}),
      HostConfig: {
        NetworkMode: `container:${(sandbox as DockerSandbox).id}`,
        IpcMode: `container:${(sandbox as DockerSandbox).id}`,
        Binds: binds,
        ...(limits.memory ? { Memory: parseMemorySize(limits.memory) } : {}),
        ...(limits.cpu ? { NanoCpus: Math.round(cpuCores(limits.cpu) * 1e9) } : {}),
      },
    });
    const stream = await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
      ...(spec.stdin ? { stdin: true, hijack: true } : {}),
    });
    const input = spec.stdin ? new PassThrough() : undefined;
    input?.pipe(stream);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    docker.modem.demuxStream(stream, stdout, stderr);
    stream.on("end", () => {
      stdout.end();
      stderr.end();
    });
    const exited = container
      .wait({ condition: "next-exit" })
      .then((r: { StatusCode: number }) => r.StatusCode);
    await container.start();
    return {
      id: `docker://${container.id}`,
      stdout,
      stderr,
      ...(input ? { stdin: input } : {}),
      exited,
      started: Promise.resolve(true),
      note,
      signal: (signal) => {
        container.kill({ signal }).catch(() => {});
      },
      enter: (argv, stdin, tty) => dockerExec(container, argv, identity.uid, spec.workingDir, stdin, tty),
      removeSync: () => spawnSync("docker", ["rm", "-f", container.id], { stdio: "ignore" }),
    };
  }

  private readonly standIns = new WeakMap<ContainerJson, boolean>();

  probesPorts(spec: ContainerJson): boolean {
    return !this.standIns.get(spec);
  }

  async close(): Promise<void> {
    const docker = dockerEngine();
    const left = await docker.listContainers({ all: true, filters: { label: [POD_LABEL] } });
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
  }

  private async ensureNetwork(): Promise<void> {
    const docker = dockerEngine();
    const found = await docker.listNetworks({ filters: { name: [NETWORK] } });
    if (found.some((n) => n.Name === NETWORK)) return;
    await docker.createNetwork({ Name: NETWORK, Driver: "bridge", Labels: managedLabels() }).catch((err) => {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    });
  }
}

function dockerExec(
  container: Docker.Container,
  argv: string[],
  uid: number | undefined,
  workingDir: string | undefined,
  stdin: boolean,
  tty = false,
): ExecProcess {
  const input = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let killed = false;
  let started: Docker.Exec | undefined;
  // kubectl sends the first size as soon as the session opens, often before the exec has started.
  let size: { w: number; h: number } | undefined;
  const exited = (async () => {
    const exec = await container.exec({
      Cmd: argv,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: stdin,
      Tty: tty,
      ...(uid !== undefined ? { User: String(uid) } : {}),
      ...(workingDir ? { WorkingDir: workingDir } : {}),
    });
    const stream = await exec.start({ hijack: true, stdin });
    started = exec;
    if (size) await exec.resize(size).catch(() => {});
    // On a terminal Docker sends one raw stream; otherwise stdout and stderr multiplexed.
    if (tty) stream.pipe(stdout, { end: false });
    else container.modem.demuxStream(stream, stdout, stderr);
    if (stdin) input.pipe(stream);
    await new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
    });
    stdout.end();
    stderr.end();
    if (killed) return 137;
    return (await exec.inspect()).ExitCode ?? 1;
  })().catch((err) => {
    stderr.end(`${(err as Error).message}\n`);
    stdout.end();
    return 126;
  });
  const resize = (w: number, h: number) => {
    size = { w, h };
    started?.resize(size).catch(() => {});
  };
  return { stdin: input, stdout, stderr, exited, kill: () => (killed = true), ...(tty ? { resize } : {}) };
}

/** "500m" -> 0.5, "2" -> 2. */
function cpuCores(quantity: string): number {
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

function extraHosts(pod: KubeObject): string[] {
  const aliases = (pod.spec?.hostAliases ?? []) as { ip?: string; hostnames?: string[] }[];
  return aliases.flatMap((a) => (a.ip ? (a.hostnames ?? []).map((h) => `${h}:${a.ip}`) : []));
}
