// GitLab's devfile restrictions for workspaces (ee/lib/remote_development/devfile_operations/
// restrictions_enforcer.rb), re-stated: the same checks, in the same order, with the same messages, each
// also naming where in the devfile it applies. GitLab runs them twice: on the user's devfile before
// flattening (`processed: false`) and on the flattened devfile (`processed: true`).
//
// Where GitLab's Ruby would raise on malformed input (e.g. an endpoint that is not a map), GitLab answers
// with an internal error rather than a message; these checks skip that element instead, and the devfile
// schema validation that follows reports it.

export const REQUIRED_SCHEMA_VERSION = "2.2.0";
export const MAIN_COMPONENT_INDICATOR_ATTRIBUTE = "gl/inject-editor";
export const MAX_VOLUME_NAME_LIMIT = 28;
export const GITLAB_MAX_DEVFILE_SIZE_BYTES = 3 * 1024 * 1024;
const RESTRICTED_PREFIX = "gl-";
const RESTRICTED_VARIABLE_PREFIXES = ["gl-", "gl_"];
const UNSUPPORTED_COMPONENT_TYPES = ["kubernetes", "openshift", "image"];
const SUPPORTED_COMMAND_TYPES = ["exec", "apply"];
const SUPPORTED_EVENTS = ["preStart", "postStart"];
const SUPPORTED_EXEC_COMMAND_OPTIONS = [
  "commandLine",
  "component",
  "label",
  "hotReloadCapable",
  "workingDir",
];

export interface GitlabViolation {
  /** JSON pointer of the element the message is about. */
  pointer: string;
  /** GitLab's message, verbatim. */
  message: string;
}

type Hash = Record<string, unknown>;

const isHash = (v: unknown): v is Hash => typeof v === "object" && v !== null && !Array.isArray(v);
/** Ruby truthiness: everything but nil and false. */
const truthy = (v: unknown): boolean => v !== undefined && v !== null && v !== false;
/** ActiveSupport's `present?`: not nil, false, empty, or whitespace-only. */
const present = (v: unknown): boolean => {
  if (!truthy(v)) return false;
  if (typeof v === "string") return v.trim() !== "";
  if (Array.isArray(v)) return v.length > 0;
  if (isHash(v)) return Object.keys(v).length > 0;
  return true;
};
/** Hash#fetch with a default: the value when the key exists (even when it is nil). */
const fetch = (h: Hash, key: string, fallback: unknown): unknown =>
  Object.hasOwn(h, key) ? h[key] : fallback;
const startsRestricted = (v: unknown, prefix = RESTRICTED_PREFIX): boolean =>
  typeof v === "string" && v.toLowerCase().startsWith(prefix);

/** Ruby's `inspect`, as GitLab's messages show arrays (e.g. the names of several main components). */
export function rubyInspect(v: unknown): string {
  if (v === undefined || v === null) return "nil";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(rubyInspect).join(", ")}]`;
  if (isHash(v)) {
    const entries = Object.entries(v).map(([k, val]) =>
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)
        ? `${k}: ${rubyInspect(val)}`
        : `${JSON.stringify(k)}: ${rubyInspect(val)}`,
    );
    return entries.length === 0 ? "{}" : `{${entries.join(", ")}}`;
  }
  return String(v);
}

/** What Ruby's `format("%{x}", x: v)` prints for v. */
function rubyToS(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  return rubyInspect(v);
}

/** ActiveSupport's number_to_human_size: base 1024, three significant digits, trailing zeros dropped. */
export function humanSize(bytes: number): string {
  const units = ["Bytes", "KB", "MB", "GB", "TB"];
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? "Byte" : "Bytes"}`;
  const exponent = Math.min(Math.floor(Math.log(bytes) / Math.log(1024)), units.length - 1);
  const value = Number((bytes / 1024 ** exponent).toPrecision(3));
  return `${value} ${units[exponent]}`;
}

/** Gem::Version equality with "2.2.0": numeric segments only, trailing zeros ignored. */
function gemVersionValid(v: string): boolean {
  return /^\s*([0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*$/.test(v);
}

function gemVersionEquals(v: string, required: string): boolean {
  const trimmed = v.trim();
  if (trimmed.includes("-") || /[a-zA-Z]/.test(trimmed)) return false;
  const canonical = (s: string) => {
    const parts = (s === "" ? "0" : s).split(".").map(Number);
    while (parts.length > 1 && parts.at(-1) === 0) parts.pop();
    return parts.join(".");
  };
  return canonical(trimmed) === canonical(required);
}

export interface GitlabRuleOptions {
  /** True for the flattened devfile (GitLab's `processed_devfile`), false for the user's devfile. */
  processed: boolean;
}

/** All of GitLab's restriction violations in a devfile, in GitLab's order. Empty when GitLab accepts it. */
export function enforceGitlabRestrictions(devfile: unknown, options: GitlabRuleOptions): GitlabViolation[] {
  const out: GitlabViolation[] = [];
  if (!isHash(devfile)) return out;
  const add = (pointer: string, message: string) => out.push({ pointer, message });

  const size = Buffer.byteLength(JSON.stringify(devfile), "utf8");
  if (size > GITLAB_MAX_DEVFILE_SIZE_BYTES) {
    add(
      "",
      `Devfile size (${humanSize(size)}) exceeds the maximum allowed size of ${humanSize(GITLAB_MAX_DEVFILE_SIZE_BYTES)}`,
    );
    return out;
  }

  validateSchemaVersion(devfile, add);
  if (Object.hasOwn(devfile, "parent")) add("/parent", "Inheriting from 'parent' is not yet supported");
  if (Object.hasOwn(devfile, "starterProjects"))
    add("/starterProjects", "'starterProjects' is not yet supported");
  if (Object.hasOwn(devfile, "projects")) add("/projects", "'projects' is not yet supported");
  validateRootAttributes(devfile, add);
  validateComponents(devfile, add);
  validateContainers(devfile, options, add);
  validateEndpoints(devfile, add);
  validateCommands(devfile, add);
  validateEvents(devfile, add);
  validateVariables(devfile, add);
  return out;
}

type Add = (pointer: string, message: string) => void;

function validateSchemaVersion(devfile: Hash, add: Add): void {
  const version = fetch(devfile, "schemaVersion", "");
  if (typeof version !== "string") {
    add("/schemaVersion", "'schemaVersion' must be a String");
    return;
  }
  const valid = gemVersionValid(version);
  if (!valid) add("/schemaVersion", `Invalid 'schemaVersion' '${version}'`);
  if (!valid || !gemVersionEquals(version, REQUIRED_SCHEMA_VERSION)) {
    add(
      "/schemaVersion",
      `'schemaVersion' '${version}' is not supported, it must be '${REQUIRED_SCHEMA_VERSION}'`,
    );
  }
}

function validateRootAttributes(devfile: Hash, add: Add): void {
  const attributes = fetch(devfile, "attributes", {});
  if (!isHash(attributes)) {
    add("/attributes", "'Attributes' must be a Hash");
    return;
  }
  if (truthy(attributes["pod-overrides"]))
    add("/attributes/pod-overrides", "Attribute 'pod-overrides' is not yet supported");
}

function validateComponents(devfile: Hash, add: Add): void {
  const components = fetch(devfile, "components", []);
  if (!Array.isArray(components)) {
    add("/components", "'Components' must be an Array");
    return;
  }
  if (components.length === 0) {
    add("/components", "No components present in devfile");
    return;
  }
  if (!components.every(isHash)) add("/components", "Each element in 'components' must be a Hash");
  const injected: { index: number; component: Hash }[] = [];
  components.forEach((component, index) => {
    validateComponent(component, `/components/${index}`, add);
    if (!isHash(component)) return;
    const attributes = fetch(component, "attributes", {});
    if (!isHash(attributes)) return;
    if (truthy(attributes[MAIN_COMPONENT_INDICATOR_ATTRIBUTE])) injected.push({ index, component });
  });
  if (injected.length === 0) {
    add("/components", `No component has '${MAIN_COMPONENT_INDICATOR_ATTRIBUTE}' attribute`);
  }
  if (injected.length > 1) {
    const names = rubyInspect(injected.map(({ component }) => component.name ?? null));
    add(
      `/components/${injected[1]!.index}/attributes/${MAIN_COMPONENT_INDICATOR_ATTRIBUTE.replace("/", "~1")}`,
      `Multiple components '${names}' have '${MAIN_COMPONENT_INDICATOR_ATTRIBUTE}' attribute`,
    );
  }
}

function validateComponent(component: unknown, at: string, add: Add): void {
  if (!isHash(component)) return;
  if (!Object.hasOwn(component, "name")) add(at, "A component must have a 'name'");
  const name = fetch(component, "name", "");
  if (typeof name === "string") {
    if (startsRestricted(name))
      add(`${at}/name`, `Component name '${name}' must not start with '${RESTRICTED_PREFIX}'`);
    if (Object.hasOwn(component, "volume") && [...name].length >= MAX_VOLUME_NAME_LIMIT) {
      add(`${at}/name`, `Volume's name must be less than ${MAX_VOLUME_NAME_LIMIT} characters`);
    }
  } else {
    add(`${at}/name`, "'Component name' must be a String");
  }
  const attributes = fetch(component, "attributes", {});
  if (isHash(attributes)) {
    if (truthy(attributes["container-overrides"])) {
      add(`${at}/attributes/container-overrides`, "Attribute 'container-overrides' is not yet supported");
    }
    if (truthy(attributes["pod-overrides"]))
      add(`${at}/attributes/pod-overrides`, "Attribute 'pod-overrides' is not yet supported");
  } else {
    add(`${at}/attributes`, `'attributes' for component '${rubyToS(name)}' must be a Hash`);
  }
  for (const type of UNSUPPORTED_COMPONENT_TYPES) {
    if (truthy(component[type])) add(`${at}/${type}`, `Component type '${type}' is not yet supported`);
  }
}

function validateContainers(devfile: Hash, options: GitlabRuleOptions, add: Add): void {
  const components = fetch(devfile, "components", []);
  if (!Array.isArray(components)) return;
  for (const [index, component] of components.entries()) {
    if (!isHash(component)) return;
    const at = `/components/${index}`;
    const container = fetch(component, "container", {});
    const name = fetch(component, "name", "");
    if (!isHash(container)) {
      add(`${at}/container`, `'container' in component '${rubyToS(name)}' must be a Hash`);
      return;
    }
    validateContainerProperties(container, component, at, options, add);
  }
}

function validateContainerProperties(
  container: Hash,
  component: Hash,
  at: string,
  options: GitlabRuleOptions,
  add: Add,
): void {
  const name = rubyToS(fetch(component, "name", ""));
  if (truthy(container.dedicatedPod)) {
    add(
      `${at}/container/dedicatedPod`,
      `Property 'dedicatedPod' of component '${name}' is not yet supported`,
    );
  }
  if (truthy(container.sourceMapping)) {
    add(
      `${at}/container/sourceMapping`,
      `Property 'sourceMapping' of component '${name}' is not yet supported`,
    );
  }
  if (truthy(container.mountSources) && !options.processed) {
    add(
      `${at}/container/mountSources`,
      `Property 'mountSources' of component '${name}' is not yet supported`,
    );
  }
  const attributes = fetch(component, "attributes", {});
  if (!isHash(attributes)) {
    add(`${at}/attributes`, `'attributes' in component '${name}' must be a Hash`);
    return;
  }
  const overrideCommand = fetch(attributes, "overrideCommand", true);
  if (overrideCommand !== true && overrideCommand !== false) {
    add(
      `${at}/attributes/overrideCommand`,
      `Property 'overrideCommand' of component '${name}' must be a boolean (true or false)`,
    );
    return;
  }
  if (overrideCommand === true && (present(container.command) || present(container.args))) {
    add(
      `${at}/container/${present(container.command) ? "command" : "args"}`,
      `Properties 'command', 'args' for component '${name}' can only be specified when the 'overrideCommand' attribute is set to false`,
    );
  }
}

function validateEndpoints(devfile: Hash, add: Add): void {
  const components = fetch(devfile, "components", []);
  if (!Array.isArray(components)) return;
  for (const [index, component] of components.entries()) {
    if (!isHash(component)) return;
    const container = fetch(component, "container", {});
    if (!isHash(container)) return;
    const at = `/components/${index}/container/endpoints`;
    const endpoints = fetch(container, "endpoints", []);
    if (!Array.isArray(endpoints)) {
      add(at, "'Endpoints' must be an Array");
      return;
    }
    endpoints.forEach((endpoint, j) => {
      if (!isHash(endpoint)) return;
      const name = fetch(endpoint, "name", "");
      if (!startsRestricted(name)) return;
      add(
        `${at}/${j}/name`,
        `Endpoint name '${name}' of component '${rubyToS(component.name)}' must not start with '${RESTRICTED_PREFIX}'`,
      );
    });
  }
}

function validateCommands(devfile: Hash, add: Add): void {
  const commands = fetch(devfile, "commands", []);
  if (!Array.isArray(commands)) {
    add("/commands", "'Commands' must be an Array");
    return;
  }
  for (const [index, command] of commands.entries()) validateCommand(command, `/commands/${index}`, add);
}

function validateCommand(command: unknown, at: string, add: Add): void {
  if (!isHash(command)) {
    add(at, "'command' must be a Hash");
    return;
  }
  const id = fetch(command, "id", "");
  const idText = rubyToS(id);
  if (startsRestricted(id))
    add(`${at}/id`, `Command id '${idText}' must not start with '${RESTRICTED_PREFIX}'`);
  const type = SUPPORTED_COMMAND_TYPES.find((t) => present(command[t]));
  if (!type) {
    add(
      at,
      `Command '${idText}' must have one of the supported command types: ${SUPPORTED_COMMAND_TYPES.join(", ")}`,
    );
    return;
  }
  const body = command[type];
  if (!isHash(body)) return;
  if (!present(body.component))
    add(`${at}/${type}`, `'${type}' command '${idText}' must specify a 'component'`);
  const componentName = fetch(body, "component", "");
  if (startsRestricted(componentName)) {
    add(
      `${at}/${type}/component`,
      `Component name '${componentName}' for command id '${idText}' must not start with '${RESTRICTED_PREFIX}'`,
    );
  }
  const label = fetch(body, "label", "");
  if (startsRestricted(label)) {
    add(
      `${at}/${type}/label`,
      `Label '${label}' for command id '${idText}' must not start with '${RESTRICTED_PREFIX}'`,
    );
  }
  if (type !== "exec") return;
  const unsupported = Object.keys(body).filter((k) => !SUPPORTED_EXEC_COMMAND_OPTIONS.includes(k));
  if (unsupported.length > 0) {
    add(
      `${at}/exec/${unsupported[0]}`,
      `Unsupported options '${unsupported.join(", ")}' for exec command '${idText}'. Only '${SUPPORTED_EXEC_COMMAND_OPTIONS.join(", ")}' are supported.`,
    );
  }
  if (Object.hasOwn(body, "hotReloadCapable") && body.hotReloadCapable !== false) {
    add(
      `${at}/exec/hotReloadCapable`,
      `Property 'hotReloadCapable' for exec command '${idText}' must be false when specified`,
    );
  }
}

function validateEvents(devfile: Hash, add: Add): void {
  const commands = fetch(devfile, "commands", []);
  const events = fetch(devfile, "events", {});
  if (!isHash(events)) {
    add("/events", "'Events' must be a Hash");
    return;
  }
  for (const [type, names] of Object.entries(events)) {
    const at = `/events/${type}`;
    if (!SUPPORTED_EVENTS.includes(type) && present(names))
      add(at, `Event type '${type}' is not yet supported`);
    if (!Array.isArray(names)) continue;
    names.forEach((name, j) => {
      if (typeof name !== "string") return;
      if (startsRestricted(name)) {
        add(`${at}/${j}`, `Event '${name}' of type '${type}' must not start with '${RESTRICTED_PREFIX}'`);
      }
      if (type !== "postStart" || !Array.isArray(commands)) return;
      const referenced = commands.find((c) => isHash(c) && c.id === name);
      if (!isHash(referenced)) {
        add(`${at}/${j}`, `PostStart event references command '${name}' which has no command definition.`);
        return;
      }
      if (present(referenced.exec)) return;
      add(
        `${at}/${j}`,
        `PostStart event references command '${name}' which is not an exec command. Only exec commands are supported in postStart events`,
      );
    });
  }
}

function validateVariables(devfile: Hash, add: Add): void {
  const variables = fetch(devfile, "variables", {});
  if (!isHash(variables)) {
    add("/variables", "'Variables' must be a Hash");
    return;
  }
  for (const name of Object.keys(variables)) {
    for (const prefix of RESTRICTED_VARIABLE_PREFIXES) {
      if (startsRestricted(name, prefix)) {
        add(
          `/variables/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`,
          `Variable name '${name}' must not start with '${prefix}'`,
        );
      }
    }
  }
}

/**
 * The devfile as GitLab's flattener hands it on (DevfileFlattener + the devfile library's defaults): container
 * components get dedicatedPod false and mountSources true, exec commands hotReloadCapable false, and the lists
 * GitLab later reads are present.
 */
export function gitlabProcessedView(flat: Record<string, unknown>): Record<string, unknown> {
  const view: Hash = structuredClone(flat);
  delete view.parent;
  if (!Object.hasOwn(view, "metadata")) view.metadata = {};
  const components = Array.isArray(view.components) ? view.components : [];
  for (const c of components) {
    if (!isHash(c) || !isHash(c.container)) continue;
    c.container = { dedicatedPod: false, mountSources: true, ...c.container };
  }
  const commands = Array.isArray(view.commands) ? view.commands : [];
  for (const c of commands) {
    if (!isHash(c) || !isHash(c.exec)) continue;
    c.exec = { ...c.exec, hotReloadCapable: c.exec.hotReloadCapable ?? false };
  }
  view.components ??= [];
  view.commands ??= [];
  const events: Hash = isHash(view.events) ? view.events : {};
  events.preStart ??= [];
  events.postStart ??= [];
  view.events = events;
  view.variables ??= {};
  return view;
}
