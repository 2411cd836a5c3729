import type Docker from "dockerode";
import { noteCreated } from "./cleanup.ts";
import { dockerEngine, isNotFound } from "./engine.ts";
import { managedLabels } from "./labels.ts";
import { parseMemorySize } from "./memory.ts";
import { StartedWorkspaceContainer } from "./started-container.ts";

export type Platform = "amd64" | "arm64";

interface PublishedPort {
  containerPort: number;
  protocol: "tcp" | "udp";
  hostPort: number;
}

/**
 * A container to start, described fluently (in the style of testcontainers-node). Every container it
 * starts carries the project's labels, so cleanupByLabel finds it. Images are never pulled: there is no
 * registry; `npm run images:build` makes them.
 */
export class WorkspaceContainer {
  private name?: string;
  private hostname?: string;
  private readonly env: Record<string, string> = {};
  private command?: string[];
  private entrypoint?: string[];
  private workingDir?: string;
  private networkMode = "bridge";
  private readonly networkAliases: string[] = [];
  private readonly binds: string[] = [];
  private readonly tmpfs: Record<string, string> = {};
  private platform?: Platform;
  private memoryBytes?: number;
  private nanoCpus?: number;
  private user?: string;
  private readonly labels: Record<string, string> = {};
  private readonly publishedPorts: PublishedPort[] = [];
  private readonly extraHosts: string[] = [];
  private init = false;
  private stopTimeoutSeconds?: number;

  constructor(private readonly image: string) {}

  withName(name: string): this {
    this.name = name;
    return this;
  }

  withHostname(hostname: string): this {
    this.hostname = hostname;
    return this;
  }

  withEnv(nameOrVars: string | Record<string, string>, value?: string): this {
    if (typeof nameOrVars === "string") this.env[nameOrVars] = value ?? "";
    else Object.assign(this.env, nameOrVars);
    return this;
  }

  withCommand(command: string[]): this {
    this.command = command;
    return this;
  }

  withEntrypoint(entrypoint: string[]): this {
    this.entrypoint = entrypoint;
    return this;
  }

  withWorkingDir(dir: string): this {
    this.workingDir = dir;
    return this;
  }

  /** `bridge` (the default), `none`, `host`, `container:<id>` (share another container's network) or a network's name. */
  withNetworkMode(mode: string): this {
    this.networkMode = mode;
    return this;
  }

  /** Joins a user-defined network (see WorkspaceNetwork) under these extra names. */
  withNetwork(network: string | { name: string }, aliases: string[] = []): this {
    this.networkMode = typeof network === "string" ? network : network.name;
    this.networkAliases.push(...aliases);
    return this;
  }

  /** A host path or a volume name (see WorkspaceVolume) mounted at containerPath. */
  withBind(source: string | { name: string }, containerPath: string, mode: "rw" | "ro" = "rw"): this {
    this.binds.push(`${typeof source === "string" ? source : source.name}:${containerPath}:${mode}`);
    return this;
  }

  withTmpfs(containerPath: string, options = "rw"): this {
    this.tmpfs[containerPath] = options;
    return this;
  }

  /** The architecture the container must run as; start() refuses an image of another one. */
  withPlatform(platform: Platform | `linux/${Platform}`): this {
    this.platform = platform.replace(/^linux\//, "") as Platform;
    return this;
  }

  /** `512m`, `1g`, `512Mi` or bytes. */
  withMemoryLimit(limit: string | number): this {
    this.memoryBytes = parseMemorySize(limit);
    return this;
  }

  withCpuLimit(cpus: number): this {
    if (!(cpus > 0)) throw new Error(`cpu limit ${cpus}: give a positive number of CPUs`);
    this.nanoCpus = Math.round(cpus * 1e9);
    return this;
  }

  /** `uid`, `uid:gid` or a user name known to the image. */
  withUser(user: string): this {
    this.user = user;
    return this;
  }

  withLabels(labels: Record<string, string>): this {
    Object.assign(this.labels, labels);
    return this;
  }

  /** Publishes a container port on 127.0.0.1 only; hostPort 0 (the default) lets the engine choose. */
  withPublishedPort(
    containerPort: number,
    options: { hostPort?: number; protocol?: "tcp" | "udp" } = {},
  ): this {
    this.publishedPorts.push({
      containerPort,
      protocol: options.protocol ?? "tcp",
      hostPort: options.hostPort ?? 0,
    });
    return this;
  }

  /** An /etc/hosts entry; ip `host-gateway` is the engine's address for the host (where the simulators listen). */
  withExtraHost(host: string, ip: string): this {
    this.extraHosts.push(`${host}:${ip}`);
    return this;
  }

  /** Runs a small init as PID 1, which reaps zombies and passes signals on. */
  withInit(): this {
    this.init = true;
    return this;
  }

  withStopTimeout(seconds: number): this {
    this.stopTimeoutSeconds = seconds;
    return this;
  }

  async start(): Promise<StartedWorkspaceContainer> {
    const engine = dockerEngine();
    await this.checkImage(engine);
    noteCreated();
    const ports = Object.fromEntries(
      this.publishedPorts.map((p) => [`${p.containerPort}/${p.protocol}`, {}]),
    );
    const portBindings = Object.fromEntries(
      this.publishedPorts.map((p) => [
        `${p.containerPort}/${p.protocol}`,
        [{ HostIp: "127.0.0.1", HostPort: p.hostPort === 0 ? "" : String(p.hostPort) }],
      ]),
    );
    const body: Docker.ContainerCreateOptions = {
      Image: this.image,
      Hostname: this.hostname,
      Env: Object.entries(this.env).map(([key, value]) => `${key}=${value}`),
      Cmd: this.command,
      Entrypoint: this.entrypoint,
      WorkingDir: this.workingDir,
      User: this.user,
      Labels: { ...this.labels, ...managedLabels() },
      ExposedPorts: ports,
      StopTimeout: this.stopTimeoutSeconds,
      HostConfig: {
        NetworkMode: this.networkMode,
        Binds: this.binds,
        Tmpfs: this.tmpfs,
        Memory: this.memoryBytes,
        // Swap equal to memory: the limit is what the container gets, as on Kubernetes.
        MemorySwap: this.memoryBytes,
        NanoCpus: this.nanoCpus,
        PortBindings: portBindings,
        ExtraHosts: this.extraHosts,
        Init: this.init,
      },
      NetworkingConfig:
        this.networkAliases.length > 0
          ? { EndpointsConfig: { [this.networkMode]: { Aliases: this.networkAliases } } }
          : undefined,
    };
    const query: Record<string, string> = {};
    if (this.name) query.name = this.name;
    if (this.platform) query.platform = `linux/${this.platform}`;
    const container = await engine.createContainer({
      _query: query,
      _body: body,
    } as Docker.ContainerCreateOptions);
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true, v: true }).catch(() => undefined);
      throw new Error(`container from ${this.image} did not start: ${(err as Error).message}`);
    }
    const info = await container.inspect();
    return new StartedWorkspaceContainer(container, info.Name.replace(/^\//, ""), this.image);
  }

  private async checkImage(engine: Docker): Promise<void> {
    let architecture: string;
    try {
      architecture = (await engine.getImage(this.image).inspect()).Architecture;
    } catch (err) {
      if (isNotFound(err)) {
        throw new Error(
          `image ${this.image} is not on this Docker engine, and no registry is reachable to pull it: ` +
            "build the project's images with `npm run images:build`, or map the reference to one (src/images/image-map.ts)",
        );
      }
      throw err;
    }
    if (this.platform && architecture !== this.platform) {
      throw new Error(
        `image ${this.image} is built for ${architecture}, but the container must run as ${this.platform}`,
      );
    }
  }
}
