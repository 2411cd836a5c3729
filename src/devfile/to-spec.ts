import type {
  CommandSpec,
  ContainerSpec,
  EndpointExposure,
  EndpointProtocol,
  EndpointSpec,
  EnvVarSpec,
  VolumeSpec,
  WorkspaceSpec,
} from "./spec.ts";

// Builds the normalised WorkspaceSpec from a flattened, validated devfile, filling the devfile spec's defaults.

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const attrs = (v: unknown): Record<string, unknown> => (isObj(v) ? { ...v } : {});

export const MAIN_COMPONENT_ATTRIBUTE = "gl/inject-editor";
export const DEFAULT_SOURCE_MAPPING = "/projects";

function env(v: unknown): EnvVarSpec[] {
  return list(v)
    .filter(isObj)
    .map((e) => ({
      name: String(e.name ?? ""),
      value: e.value === undefined || e.value === null ? "" : String(e.value),
    }));
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.map((s) => String(s)) : undefined;
}

function endpoint(e: Obj): EndpointSpec {
  const spec: EndpointSpec = {
    name: String(e.name),
    targetPort: Number(e.targetPort),
    exposure: (str(e.exposure) ?? "public") as EndpointExposure,
    protocol: (str(e.protocol) ?? "http") as EndpointProtocol,
    secure: e.secure === true,
    attributes: attrs(e.attributes),
  };
  const path = str(e.path);
  if (path !== undefined) spec.path = path;
  return spec;
}

function container(component: Obj): ContainerSpec {
  const c = component.container as Obj;
  const spec: ContainerSpec = {
    name: String(component.name),
    image: String(c.image),
    env: env(c.env),
    endpoints: list(c.endpoints).filter(isObj).map(endpoint),
    mountSources: c.mountSources !== false,
    sourceMapping: str(c.sourceMapping) ?? DEFAULT_SOURCE_MAPPING,
    volumeMounts: list(c.volumeMounts)
      .filter(isObj)
      .map((m) => ({ name: String(m.name), path: str(m.path) ?? `/${String(m.name)}` })),
    attributes: attrs(component.attributes),
    main: false,
  };
  const command = strings(c.command);
  if (command) spec.command = command;
  const args = strings(c.args);
  if (args) spec.args = args;
  for (const field of ["memoryRequest", "memoryLimit", "cpuRequest", "cpuLimit"] as const) {
    const v = str(c[field]);
    if (v !== undefined) spec[field] = v;
  }
  return spec;
}

function group(v: unknown): { kind: string; isDefault: boolean } | undefined {
  return isObj(v) ? { kind: String(v.kind), isDefault: v.isDefault === true } : undefined;
}

function command(c: Obj): CommandSpec | undefined {
  const id = String(c.id).toLowerCase();
  const withOptional = <T extends object>(spec: T, body: Obj): T => {
    const label = str(body.label);
    if (label !== undefined) Object.assign(spec, { label });
    const g = group(body.group);
    if (g) Object.assign(spec, { group: g });
    return spec;
  };
  if (isObj(c.exec)) {
    const e = c.exec;
    const spec = withOptional(
      {
        kind: "exec" as const,
        id,
        component: String(e.component),
        commandLine: String(e.commandLine ?? ""),
        env: env(e.env),
        hotReloadCapable: e.hotReloadCapable === true,
      },
      e,
    );
    const workingDir = str(e.workingDir);
    return workingDir === undefined ? spec : { ...spec, workingDir };
  }
  if (isObj(c.apply)) {
    return withOptional({ kind: "apply" as const, id, component: String(c.apply.component) }, c.apply);
  }
  if (isObj(c.composite)) {
    const k = c.composite;
    return withOptional(
      {
        kind: "composite" as const,
        id,
        commands: list(k.commands).map((s) => String(s).toLowerCase()),
        parallel: k.parallel === true,
      },
      k,
    );
  }
  return undefined;
}

function eventIds(events: Obj, name: string): string[] {
  return list(events[name]).map((s) => String(s).toLowerCase());
}

/** The workspace name from metadata.name, else from the file name (devfile.yaml → its folder is unknown: "devfile"). */
function workspaceName(devfile: Obj, file: string): string {
  const meta = isObj(devfile.metadata) ? devfile.metadata : {};
  if (typeof meta.name === "string" && meta.name !== "") return meta.name;
  const base = file.split(/[\\/]/).pop() ?? "devfile";
  const stem = base.replace(/(\.devfile)?\.ya?ml$/i, "").replace(/^\./, "");
  const slug = stem
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug === "" ? "devfile" : slug;
}

export function toWorkspaceSpec(devfile: Obj, file: string): WorkspaceSpec {
  const components = list(devfile.components).filter(isObj);
  const containers = components.filter((c) => isObj(c.container)).map(container);
  const main = containers.find((c) => {
    const v = c.attributes[MAIN_COMPONENT_ATTRIBUTE];
    return v !== undefined && v !== null && v !== false;
  });
  const chosen = main ?? containers[0];
  if (chosen) chosen.main = true;
  const volumes: VolumeSpec[] = components
    .filter((c) => isObj(c.volume))
    .map((c) => {
      const v = c.volume as Obj;
      const spec: VolumeSpec = { name: String(c.name), ephemeral: v.ephemeral === true };
      const size = str(v.size);
      if (size !== undefined) spec.size = size;
      return spec;
    });
  const ignoredComponents = components.flatMap((c) => {
    const type = ["kubernetes", "openshift", "image", "custom"].find((t) => isObj(c[t]));
    return type ? [{ name: String(c.name), type }] : [];
  });
  const events = isObj(devfile.events) ? devfile.events : {};
  const variables: Record<string, string> = {};
  if (isObj(devfile.variables))
    for (const [k, v] of Object.entries(devfile.variables)) variables[k] = String(v);
  return {
    name: workspaceName(devfile, file),
    schemaVersion: String(devfile.schemaVersion),
    containers,
    volumes,
    commands: list(devfile.commands)
      .filter(isObj)
      .map(command)
      .filter((c): c is CommandSpec => c !== undefined),
    events: {
      preStart: eventIds(events, "preStart"),
      postStart: eventIds(events, "postStart"),
      preStop: eventIds(events, "preStop"),
      postStop: eventIds(events, "postStop"),
    },
    attributes: attrs(devfile.attributes),
    variables,
    ignoredComponents,
  };
}
