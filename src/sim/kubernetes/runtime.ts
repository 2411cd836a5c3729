// What the API server needs from a kubelet to serve pods/log, pods/exec, pods/attach and pods/portforward.
import type { Duplex, Readable, Writable } from "node:stream";
import type { KubeObject } from "../../kubernetes/objects.ts";

export interface LogOptions {
  follow: boolean;
  tailLines?: number;
  previous: boolean;
  /** Each line prefixed with the RFC 3339 time it was written. */
  timestamps?: boolean;
  /** Only lines written at or after this RFC 3339 time. */
  sinceTime?: string;
}

export interface ExecProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  kill(): void;
  /** Sets the terminal's size; only a process started on a terminal (tty) has one. */
  resize?(width: number, height: number): void;
}

export interface PodRuntime {
  /** The container's log; with follow, the stream stays open until the container stops or the reader leaves. */
  logs(pod: KubeObject, container: string, opts: LogOptions): Readable;
  exec(pod: KubeObject, container: string, command: string[], tty: boolean): ExecProcess;
  /**
   * The running container's own output from now on, and its stdin when asked for (the container must keep one
   * open). kill() detaches: the container runs on.
   */
  attach(pod: KubeObject, container: string, stdin: boolean): ExecProcess;
  /** A connection to a port on the pod's localhost. */
  connect(namespace: string, pod: string, port: number): Promise<Duplex>;
}
