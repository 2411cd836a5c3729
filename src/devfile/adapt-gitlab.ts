// `--adapt gitlab`: the smallest changes that make a devfile acceptable to GitLab's workspace rules
// (gitlab-rules.ts, ../shared/gitlab-facts/workspaces.md §1.2), each listed with the rule it
// satisfies. What cannot be changed without guessing the author's intent (names starting `gl-`,
// `parent`, commands without a component, malformed sections) is left alone and reported.
import type { Adaptation } from "../report/model.ts";
import {
  enforceGitlabRestrictions,
  type GitlabViolation,
  MAIN_COMPONENT_INDICATOR_ATTRIBUTE,
  MAX_VOLUME_NAME_LIMIT,
  REQUIRED_SCHEMA_VERSION,
} from "./gitlab-rules.ts";

export type { Adaptation };

export interface GitlabAdaptResult {
  devfile: Record<string, unknown>;
  changes: Adaptation[];
  /** GitLab's messages the adapted devfile still breaks, each with why the adapter leaves it alone. */
  cannot: Unadaptable[];
}

export interface Unadaptable extends GitlabViolation {
  /** Why no small change fixes it without guessing the author's intent; undefined: the adapter should have. */
  why: string | undefined;
}

const UNADAPTABLE: [RegExp, string][] = [
  [
    /must not start with 'gl[-_]'/,
    "names starting gl- (variables gl_) are GitLab's own; renaming would change what commands and events refer to: rename it in the devfile",
  ],
  [
    /Inheriting from 'parent'/,
    "GitLab does not flatten parents: inline the parent's content into the devfile",
  ],
  [
    /must specify a 'component'/,
    "which container runs the command is the author's choice: add its component",
  ],
  [
    /must be a (Hash|String)|must be an Array|must have a 'name'/,
    "the devfile is malformed there: fix it first",
  ],
  [/No components present/, "a workspace needs a container component"],
  [/No component has 'gl\/inject-editor'/, "no container component to inject the editor into"],
  [/which has no command definition/, "the event names a command the devfile does not define"],
  [
    /schemaVersion/,
    "the schemaVersion is not a 2.x.y version, so which schema the devfile follows is unknown",
  ],
  [/Devfile size/, "the devfile is larger than GitLab allows: shrink it"],
];

/** Why the adapter leaves a GitLab message alone, or undefined when it is one the adapter fixes. */
export function whyUnadaptable(message: string): string | undefined {
  return UNADAPTABLE.find(([pattern]) => pattern.test(message))?.[1];
}

function explain(violation: GitlabViolation): Unadaptable {
  return { ...violation, why: whyUnadaptable(violation.message) };
}

type Hash = Record<string, unknown>;
const isHash = (v: unknown): v is Hash => typeof v === "object" && v !== null && !Array.isArray(v);
const truthy = (v: unknown) => v !== undefined && v !== null && v !== false;
const escapePointer = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");
const UNSUPPORTED_COMPONENT_TYPES = ["kubernetes", "openshift", "image"];
const DROPPED_EXEC_OPTIONS = ["group"];
const SUPPORTED_EVENTS = ["preStart", "postStart"];

class Changes {
  readonly list: Adaptation[] = [];
  add(pointer: string, change: string, rule: string): void {
    this.list.push({ pointer, change, rule });
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;

export function adaptForGitlab(input: Record<string, unknown>): GitlabAdaptResult {
  const devfile: Hash = structuredClone(input);
  const changes = new Changes();
  adaptRoot(devfile, changes);
  const dropped = adaptComponents(devfile, changes);
  adaptCommands(devfile, dropped, changes);
  adaptEvents(devfile, changes);
  const cannot = enforceGitlabRestrictions(devfile, { processed: false }).map(explain);
  return { devfile, changes: changes.list, cannot };
}

function adaptRoot(devfile: Hash, changes: Changes): void {
  const version = devfile.schemaVersion;
  if (version !== REQUIRED_SCHEMA_VERSION && /^2\.\d+\.\d+/.test(String(version ?? ""))) {
    devfile.schemaVersion = REQUIRED_SCHEMA_VERSION;
    changes.add(
      "/schemaVersion",
      `schemaVersion ${String(version)} → ${REQUIRED_SCHEMA_VERSION}`,
      `GitLab accepts only schemaVersion ${REQUIRED_SCHEMA_VERSION}`,
    );
  }
  for (const key of ["starterProjects", "projects"]) {
    if (!Object.hasOwn(devfile, key)) continue;
    delete devfile[key];
    changes.add(`/${key}`, `dropped ${key}`, `'${key}' is not yet supported`);
  }
  if (isHash(devfile.attributes) && truthy(devfile.attributes["pod-overrides"])) {
    delete devfile.attributes["pod-overrides"];
    changes.add(
      "/attributes/pod-overrides",
      "dropped pod-overrides",
      "Attribute 'pod-overrides' is not yet supported",
    );
  }
}

/** Adapts components in place; returns the components it removed, name → type. */
function adaptComponents(devfile: Hash, changes: Changes): Map<string, string> {
  const removed = new Map<string, string>();
  if (!Array.isArray(devfile.components)) return removed;
  const components = devfile.components as unknown[];
  const keep: unknown[] = [];
  const renamedVolumes = new Map<string, string>();
  const names = new Set(components.filter(isHash).map((c) => String(c.name)));
  components.forEach((component, index) => {
    const at = `/components/${index}`;
    if (!isHash(component)) {
      keep.push(component);
      return;
    }
    const type = UNSUPPORTED_COMPONENT_TYPES.find((t) => truthy(component[t]));
    if (type) {
      removed.set(String(component.name), type);
      changes.add(
        at,
        `dropped ${type} component '${String(component.name)}'`,
        `Component type '${type}' is not yet supported`,
      );
      return;
    }
    keep.push(component);
    if (isHash(component.attributes)) {
      for (const attribute of ["pod-overrides", "container-overrides"]) {
        if (!truthy(component.attributes[attribute])) continue;
        delete component.attributes[attribute];
        changes.add(
          `${at}/attributes/${attribute}`,
          `dropped ${attribute}`,
          `Attribute '${attribute}' is not yet supported`,
        );
      }
    }
    if (isHash(component.volume) && typeof component.name === "string") {
      const name = component.name;
      if ([...name].length >= MAX_VOLUME_NAME_LIMIT) {
        const short = uniqueShortName(name, names);
        names.add(short);
        renamedVolumes.set(name, short);
        component.name = short;
        changes.add(
          `${at}/name`,
          `volume '${name}' renamed '${short}' (and its mounts)`,
          `Volume's name must be less than ${MAX_VOLUME_NAME_LIMIT} characters`,
        );
      }
    }
    if (isHash(component.container)) adaptContainer(component, at, changes);
  });
  devfile.components = keep;
  for (const component of keep) {
    if (!isHash(component) || !isHash(component.container)) continue;
    const mounts = component.container.volumeMounts;
    if (!Array.isArray(mounts)) continue;
    for (const mount of mounts) {
      if (isHash(mount) && typeof mount.name === "string" && renamedVolumes.has(mount.name))
        mount.name = renamedVolumes.get(mount.name);
    }
  }
  markMainComponent(devfile.components as unknown[], components, changes);
  return removed;
}

function uniqueShortName(name: string, taken: Set<string>): string {
  const max = MAX_VOLUME_NAME_LIMIT - 1;
  let candidate = [...name].slice(0, max).join("").replace(/-+$/, "");
  for (let n = 2; taken.has(candidate); n++) {
    const suffix = `-${n}`;
    candidate = `${[...name]
      .slice(0, max - suffix.length)
      .join("")
      .replace(/-+$/, "")}${suffix}`;
  }
  return candidate;
}

function adaptContainer(component: Hash, at: string, changes: Changes): void {
  const container = component.container as Hash;
  const name = String(component.name);
  for (const property of ["dedicatedPod", "sourceMapping", "mountSources"]) {
    if (!truthy(container[property])) continue;
    delete container[property];
    changes.add(
      `${at}/container/${property}`,
      `dropped ${property}`,
      `Property '${property}' of component '${name}' is not yet supported${property === "mountSources" ? " (GitLab mounts the sources anyway)" : ""}`,
    );
  }
  const attributes = component.attributes ?? {};
  if (!isHash(attributes)) return;
  const hasCommand = truthy(container.command) || truthy(container.args);
  const override = Object.hasOwn(attributes, "overrideCommand") ? attributes.overrideCommand : true;
  if (hasCommand && override !== false) {
    component.attributes = { ...attributes, overrideCommand: false };
    changes.add(
      `${at}/attributes/overrideCommand`,
      "set overrideCommand: false, so the container still runs its declared command and args",
      `Properties 'command', 'args' for component '${name}' can only be specified when the 'overrideCommand' attribute is set to false`,
    );
  } else if (override !== true && override !== false) {
    delete attributes.overrideCommand;
    changes.add(
      `${at}/attributes/overrideCommand`,
      "dropped a non-boolean overrideCommand",
      `Property 'overrideCommand' of component '${name}' must be a boolean (true or false)`,
    );
  }
}

/** GitLab injects its editor into exactly one component: the one the harness also treats as main. */
function markMainComponent(kept: unknown[], original: unknown[], changes: Changes): void {
  const marked = kept.filter(
    (c): c is Hash =>
      isHash(c) && isHash(c.attributes) && truthy(c.attributes[MAIN_COMPONENT_INDICATOR_ATTRIBUTE]),
  );
  const pointer = (c: Hash) =>
    `/components/${original.indexOf(c)}/attributes/${escapePointer(MAIN_COMPONENT_INDICATOR_ATTRIBUTE)}`;
  if (marked.length === 0) {
    const main = kept.find(
      (c): c is Hash =>
        isHash(c) && isHash(c.container) && (c.attributes === undefined || isHash(c.attributes)),
    );
    if (!main) return;
    main.attributes = {
      ...((main.attributes as Hash | undefined) ?? {}),
      [MAIN_COMPONENT_INDICATOR_ATTRIBUTE]: true,
    };
    changes.add(
      pointer(main),
      `marked '${String(main.name)}' (the first container) for the editor`,
      `No component has '${MAIN_COMPONENT_INDICATOR_ATTRIBUTE}' attribute`,
    );
  }
  for (const extra of marked.slice(1)) {
    delete (extra.attributes as Hash)[MAIN_COMPONENT_INDICATOR_ATTRIBUTE];
    changes.add(
      pointer(extra),
      `unmarked '${String(extra.name)}': '${String(marked[0]!.name)}' keeps the editor`,
      `Multiple components have '${MAIN_COMPONENT_INDICATOR_ATTRIBUTE}' attribute`,
    );
  }
}

function adaptCommands(devfile: Hash, droppedComponents: Map<string, string>, changes: Changes): void {
  if (!Array.isArray(devfile.commands)) return;
  const commands = devfile.commands as unknown[];
  const byId = new Map(commands.filter(isHash).map((c) => [String(c.id), c]));
  const keep: unknown[] = [];
  const replacedInEvents = new Map<string, string[]>();
  commands.forEach((command, index) => {
    const at = `/commands/${index}`;
    if (!isHash(command)) {
      keep.push(command);
      return;
    }
    const id = String(command.id);
    if (isHash(command.composite)) {
      replacedInEvents.set(id, execLeaves(id, byId, new Set()));
      changes.add(
        at,
        `dropped composite command '${id}' (events that ran it run its exec commands instead)`,
        `Command '${id}' must have one of the supported command types: exec, apply`,
      );
      return;
    }
    if (isHash(command.apply) && droppedComponents.has(String(command.apply.component))) {
      replacedInEvents.set(id, []);
      changes.add(
        at,
        `dropped apply command '${id}' of the dropped component '${String(command.apply.component)}'`,
        "Component type 'image' is not yet supported",
      );
      return;
    }
    keep.push(command);
    if (isHash(command.exec)) adaptExec(command.exec, id, `${at}/exec`, changes);
  });
  devfile.commands = keep;
  if (replacedInEvents.size > 0) replaceEventEntries(devfile, replacedInEvents, changes);
}

/** The exec commands a composite runs, in order (nested composites expanded). */
function execLeaves(id: string, byId: Map<string, Hash>, seen: Set<string>): string[] {
  const command = byId.get(id);
  if (!command || seen.has(id)) return [];
  seen.add(id);
  if (isHash(command.exec)) return [id];
  if (!isHash(command.composite) || !Array.isArray(command.composite.commands)) return [];
  return command.composite.commands.flatMap((child) => execLeaves(String(child), byId, seen));
}

function adaptExec(exec: Hash, id: string, at: string, changes: Changes): void {
  for (const option of DROPPED_EXEC_OPTIONS) {
    if (!Object.hasOwn(exec, option)) continue;
    delete exec[option];
    changes.add(
      `${at}/${option}`,
      `dropped ${option}`,
      `Unsupported options '${option}' for exec command '${id}'`,
    );
  }
  if (Array.isArray(exec.env) && typeof exec.commandLine === "string") {
    const exports = exec.env
      .filter(isHash)
      .map((e) => `export ${String(e.name)}=${shellQuote(String(e.value ?? ""))}; `)
      .join("");
    exec.commandLine = `${exports}${exec.commandLine}`;
    delete exec.env;
    changes.add(
      `${at}/env`,
      "moved env into the command line as exports",
      `Unsupported options 'env' for exec command '${id}'`,
    );
  }
  if (Object.hasOwn(exec, "hotReloadCapable") && exec.hotReloadCapable !== false) {
    delete exec.hotReloadCapable;
    changes.add(
      `${at}/hotReloadCapable`,
      "dropped hotReloadCapable",
      `Property 'hotReloadCapable' for exec command '${id}' must be false when specified`,
    );
  }
}

function replaceEventEntries(devfile: Hash, replaced: Map<string, string[]>, changes: Changes): void {
  if (!isHash(devfile.events)) return;
  for (const [type, entries] of Object.entries(devfile.events)) {
    if (!Array.isArray(entries)) continue;
    const next = entries.flatMap((entry) =>
      typeof entry === "string" && replaced.has(entry) ? replaced.get(entry)! : [entry],
    );
    if (next.length === entries.length && next.every((e, i) => e === entries[i])) continue;
    devfile.events[type] = [...new Set(next)];
    changes.add(
      `/events/${escapePointer(type)}`,
      `${JSON.stringify(entries)} → ${JSON.stringify(devfile.events[type])}`,
      "the event's commands must be exec commands that exist",
    );
  }
}

function adaptEvents(devfile: Hash, changes: Changes): void {
  if (!isHash(devfile.events)) return;
  const events = devfile.events;
  for (const type of Object.keys(events)) {
    const entries = events[type];
    const empty = Array.isArray(entries) ? entries.length === 0 : !truthy(entries);
    if (SUPPORTED_EVENTS.includes(type) || empty) continue;
    delete events[type];
    changes.add(
      `/events/${escapePointer(type)}`,
      `dropped the ${type} event (${JSON.stringify(entries)})`,
      `Event type '${type}' is not yet supported`,
    );
  }
  const commands = Array.isArray(devfile.commands) ? devfile.commands.filter(isHash) : [];
  const postStart = events.postStart;
  if (!Array.isArray(postStart)) return;
  // As GitLab looks it up: the first command with that id.
  const firstById = new Map<unknown, Hash>();
  for (const c of commands) if (!firstById.has(c.id)) firstById.set(c.id, c);
  const execIds = new Set([...firstById].filter(([, c]) => truthy(c.exec)).map(([id]) => id));
  const kept = postStart.filter((id) => typeof id !== "string" || execIds.has(id));
  if (kept.length === postStart.length) return;
  events.postStart = kept;
  changes.add(
    "/events/postStart",
    `dropped ${JSON.stringify(postStart.filter((id) => !kept.includes(id)))}`,
    "postStart events only run exec commands that exist",
  );
}
