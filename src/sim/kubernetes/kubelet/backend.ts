// What a kubelet backend does: hold a pod's shared network (its sandbox) and run containers in it.
// The process backend runs them as local processes in namespaces; the docker backend as Docker containers.
import type { Duplex, Readable, Writable } from "node:stream";
import type { KubeObject } from "../../../kubernetes/objects.ts";
import type { ExecProcess } from "../runtime.ts";

// biome-ignore lint/suspicious/noExplicitAny: a container spec is arbitrary JSON from the API
export type ContainerJson = Record<string, any>;

export interface PodSandbox {
  /** The pod's IP as its status reports it. */
  readonly ip: string;
  /** A connection to a port on the pod's localhost. */
  dial(port: number): Promise<Duplex>;
  /** Removes whatever is left of the pod (called after its containers were stopped). */
  remove(): Promise<void>;
  /** Last-resort cleanup when the simulator's process exits. */
  removeSync(): void;
}

export interface ContainerLaunch {
  pod: KubeObject;
  spec: ContainerJson;
  /** Volume name -> host folder. */
  volumes: Map<string, string>;
  env: Record<string, string>;
  /** A folder of the pod's own for this container. */
  dir: string;
}

export interface RunningContainer {
  readonly id: string;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The command's standard input when its spec keeps one open (stdin: true) and the backend can give it. */
  readonly stdin?: Writable;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  /** Resolves true once the container's own command runs (hooks and exec can enter it), false if it died first. */
  readonly started: Promise<boolean>;
  /** Why what runs is not what the image would run, for the pod's events; undefined when the image runs. */
  readonly note?: string;
  signal(signal: "SIGTERM" | "SIGKILL"): void;
  /** Runs a command inside the running container (exec and lifecycle hooks), on a terminal with `tty`. */
  enter(argv: string[], stdin: boolean, tty?: boolean): ExecProcess;
  removeSync(): void;
}

export interface KubeletBackend {
  /** For events and container IDs: "process" or "docker". */
  readonly name: string;
  startSandbox(pod: KubeObject, dir: string): Promise<PodSandbox>;
  startContainer(sandbox: PodSandbox, launch: ContainerLaunch): Promise<RunningContainer>;
  /** Whether a container's declared ports can answer (false for a stand-in that does not run the image). */
  probesPorts(spec: ContainerJson): boolean;
  /** Cleanup after every pod is gone. */
  close(): Promise<void>;
}
