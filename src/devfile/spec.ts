// The normalised workspace model that both paths (Kubernetes and CI) consume.
// Produced by the devfile engine from a parsed, validated and flattened devfile.

export type EndpointExposure = "public" | "internal" | "none";
export type EndpointProtocol = "http" | "https" | "ws" | "wss" | "tcp" | "udp";

export interface EndpointSpec {
  name: string;
  targetPort: number;
  exposure: EndpointExposure;
  protocol: EndpointProtocol;
  secure: boolean;
  path?: string;
  attributes: Record<string, unknown>;
}

export interface VolumeMountSpec {
  /** Name of a volume component, or of an implicit volume. */
  name: string;
  path: string;
}

export interface EnvVarSpec {
  name: string;
  value: string;
}

export interface ContainerSpec {
  /** The devfile component name. */
  name: string;
  image: string;
  env: EnvVarSpec[];
  /** Overrides the image's entrypoint when set. */
  command?: string[];
  /** Overrides the image's cmd when set. */
  args?: string[];
  endpoints: EndpointSpec[];
  memoryRequest?: string;
  memoryLimit?: string;
  cpuRequest?: string;
  cpuLimit?: string;
  /** Whether project sources are mounted into this container. */
  mountSources: boolean;
  /** Where sources are mounted when mountSources is true (devfile default: /projects). */
  sourceMapping: string;
  volumeMounts: VolumeMountSpec[];
  /** Component attributes, e.g. gl/inject-editor, overrideCommand. */
  attributes: Record<string, unknown>;
  /** True for the container with `gl/inject-editor`, else the first container. */
  main: boolean;
}

export interface VolumeSpec {
  name: string;
  /** Kubernetes quantity, e.g. 1Gi; undefined when the devfile gives none. */
  size?: string;
  ephemeral: boolean;
}

export type CommandKind = "exec" | "apply" | "composite";

export interface ExecCommandSpec {
  kind: "exec";
  id: string;
  /** The container component the command runs in. */
  component: string;
  commandLine: string;
  workingDir?: string;
  env: EnvVarSpec[];
  label?: string;
  group?: { kind: string; isDefault: boolean };
  hotReloadCapable: boolean;
}

export interface ApplyCommandSpec {
  kind: "apply";
  id: string;
  component: string;
  label?: string;
  group?: { kind: string; isDefault: boolean };
}

export interface CompositeCommandSpec {
  kind: "composite";
  id: string;
  /** Ids of the sub-commands, in order. */
  commands: string[];
  parallel: boolean;
  label?: string;
  group?: { kind: string; isDefault: boolean };
}

export type CommandSpec = ExecCommandSpec | ApplyCommandSpec | CompositeCommandSpec;

export interface EventsSpec {
  preStart: string[];
  postStart: string[];
  preStop: string[];
  postStop: string[];
}

export interface WorkspaceSpec {
  /** metadata.name, or a name derived from the file when absent. */
  name: string;
  schemaVersion: string;
  containers: ContainerSpec[];
  volumes: VolumeSpec[];
  /** Commands keyed by lower-cased id, in file order. */
  commands: CommandSpec[];
  events: EventsSpec;
  /** Top-level devfile attributes. */
  attributes: Record<string, unknown>;
  /** Top-level variables after substitution. */
  variables: Record<string, string>;
  /** Component names of types the paths cannot run (kubernetes, openshift, image), for the report. */
  ignoredComponents: { name: string; type: string }[];
}

/** The main container: the one with `gl/inject-editor`, else the first. */
export function mainContainer(spec: WorkspaceSpec): ContainerSpec {
  const main = spec.containers.find((c) => c.main) ?? spec.containers[0];
  if (!main) throw new Error(`workspace ${spec.name} has no container component`);
  return main;
}

/** Exec commands resolved for an event, composites expanded in order. */
export function resolveCommands(spec: WorkspaceSpec, ids: string[]): ExecCommandSpec[] {
  const byId = new Map(spec.commands.map((c) => [c.id, c]));
  const out: ExecCommandSpec[] = [];
  const visit = (id: string, seen: Set<string>): void => {
    const cmd = byId.get(id.toLowerCase());
    if (!cmd || seen.has(cmd.id)) return;
    if (cmd.kind === "exec") out.push(cmd);
    else if (cmd.kind === "composite") for (const sub of cmd.commands) visit(sub, new Set([...seen, cmd.id]));
  };
  for (const id of ids) visit(id, new Set());
  return out;
}
