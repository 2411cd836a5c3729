import type { Duplex } from "node:stream";
import type { WorkspaceSpec } from "../devfile/spec.ts";
import type { Arch, Executor, Tier, WorkspacePath } from "../report/model.ts";
import type { NameResolution } from "./name-resolution.ts";
import type { Scenario } from "./scenario.ts";

/**
 * A running workspace as its user reaches it: by URL through the Kubernetes path's proxy or the CI
 * path's tunnel, with the user's credentials, plus the lifecycle actions a user has. Probes see only this.
 */
export interface WorkspaceHandle {
  readonly name: string;
  /** The user-facing URL of a port (http://<port>-<workspace>.<domain>/… or the path form). */
  url(port: number, path?: string): string;
  /** The same port reached without the proxy or tunnel, where the tier can: the measurements' baseline. */
  directUrl?(port: number, path?: string): string;
  /** Headers that authenticate the user to that URL. */
  authHeaders(): Record<string, string>;
  /** Where the URL's names resolve when no DNS server knows them (the tier's settings say so). */
  readonly resolution?: NameResolution;
  /** fetch as the user: with authHeaders() and the URL's name resolution. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** A raw TCP stream to a port through the user surface (HTTP CONNECT). */
  connect(port: number): Promise<Duplex>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Why the workspace ended by itself (its CI job finished, killed or failed) though nobody stopped it;
   * undefined while it runs. A cell whose workspace ended has no verdict of its own.
   */
  ended?(): Promise<string | undefined>;
  /** Whatever the workspace still holds after stop (processes, containers, pods, jobs); empty when freed. */
  leftovers(): Promise<string[]>;
  /** Frees everything the workspace holds, stopped or not (Kubernetes: Terminated); called once, last. */
  dispose(): Promise<void>;
  /** Facts about how the tier set the workspace up, cited by probes (e.g. the image map). */
  readonly facts: WorkspaceFacts;
}

export interface WorkspaceFacts {
  /** Devfile image → image the tier actually runs, where they differ. */
  imageMap?: Record<string, string>;
  /** Where the workspace's data volume is mounted in the main container. */
  dataDir?: string;
  [key: string]: unknown;
}

export interface CellContext {
  tier: Tier;
  path: WorkspacePath;
  executor: Executor | null;
  arch: Arch;
  scenario: Scenario;
  spec: WorkspaceSpec;
  /** The devfile document the spec came from, as GitLab reads it from the project on the Kubernetes path. */
  devfile: Record<string, unknown>;
}

/** Starts workspaces for one path on one tier; the same interface for sim, docker and live. */
export interface PathProvisioner {
  readonly path: WorkspacePath;
  /** Creates the workspace and resolves once its editor answers through the user URL. */
  start(cell: CellContext, signal: AbortSignal): Promise<WorkspaceHandle>;
}
