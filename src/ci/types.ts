// Shared vocabulary of the CI path: executors, architectures, and the record of every devfile choice
// the generated pipeline cannot honour on an executor (the gap report cites these rows).

export type Executor = "shell" | "docker" | "kubernetes";
export type Arch = "amd64" | "arm64";

export const EXECUTORS: readonly Executor[] = ["shell", "docker", "kubernetes"];
export const ARCHES: readonly Arch[] = ["amd64", "arm64"];

export type NotHonouredStatus = "unsupported" | "degraded";

export interface NotHonoured {
  /** A feature id from the catalog (src/harness/catalog.ts). */
  feature: string;
  executor: Executor;
  /** What in the devfile the row is about, e.g. `component mongo` or `env FOO-BAR`. */
  subject: string;
  status: NotHonouredStatus;
  reason: string;
}

export interface PipelineOptions {
  executor: Executor;
  arch: Arch;
  /** GitLab duration for the job's `timeout`; the workspace stops when it runs out. */
  timeout?: string;
  /** Image of the tools service that carries the agent, the editor and a node binary. */
  toolsImage?: string;
  /** The workspace id: keys the volumes' cache, so two workspaces of one devfile keep apart. Omitted: the devfile's name. */
  workspace?: string;
}

export interface GeneratedPipeline {
  workspace: string;
  executor: Executor;
  arch: Arch;
  /** The .gitlab-ci.yml text. */
  yaml: string;
  /** The same configuration as a plain object (what `yaml` parses to). */
  config: Record<string, unknown>;
  notHonoured: NotHonoured[];
}
