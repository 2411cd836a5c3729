import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type DevfileError, fieldOf, pointerSegments } from "./errors.ts";
import { type DevfileSource, errorAt, locate, MAX_DEVFILE_BYTES, parseSource, sizeError } from "./source.ts";
import { validateAgainstSchema } from "./validate-schema.ts";

// Flattening as the devfile specification defines it: a parent devfile's content, patched by the child's
// parent overrides, then the child's own elements; plugin components replaced by the plugin devfile's
// components and commands, patched by the plugin overrides.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Where an element of the flattened devfile was written: which file, and where in it. */
interface Origin {
  source: DevfileSource;
  pointer: string;
}

/** Maps pointers of the flattened devfile back to the files they came from. */
export class OriginMap {
  private readonly entries = new Map<string, Origin>();

  constructor(private readonly root: DevfileSource) {}

  set(flatPointer: string, origin: Origin): void {
    this.entries.set(flatPointer, origin);
  }

  /** The error for a pointer of the flattened devfile, located where that element is written. */
  errorAt(flatPointer: string, message: string, rule: string): DevfileError {
    const segments = pointerSegments(flatPointer);
    for (let n = segments.length; n >= 0; n--) {
      const prefix = segments
        .slice(0, n)
        .map((s) => `/${s.replace(/~/g, "~0").replace(/\//g, "~1")}`)
        .join("");
      const origin = this.entries.get(prefix);
      if (!origin) continue;
      const rest = flatPointer.slice(prefix.length);
      const pointer = origin.pointer + rest;
      return {
        file: origin.source.file,
        ...locate(origin.source, pointer),
        pointer: flatPointer,
        field: fieldOf(flatPointer),
        message,
        rule,
      };
    }
    return { ...errorAt(this.root, flatPointer, message, rule) };
  }
}

export interface Flattened {
  devfile: Obj;
  origins: OriginMap;
}

export type FlattenOutcome = { ok: true; flat: Flattened } | { ok: false; errors: DevfileError[] };

/** Keyed lists merged element by element: components and the like by name, commands by id. */
const KEYED_LISTS: Record<string, string> = {
  components: "name",
  commands: "id",
  projects: "name",
  starterProjects: "name",
  dependentProjects: "name",
};
const LIST_KEY_FIELDS = ["name", "id"];

export async function flattenDevfile(source: DevfileSource): Promise<FlattenOutcome> {
  const origins = new OriginMap(source);
  const errors: DevfileError[] = [];
  const devfile = await flattenInto(source, [resolvePath(source.file)], origins, errors);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, flat: { devfile, origins } };
}

function resolvePath(file: string): string {
  return isAbsolute(file) ? file : resolve(file);
}

async function flattenInto(
  source: DevfileSource,
  chain: string[],
  origins: OriginMap,
  errors: DevfileError[],
): Promise<Obj> {
  const own = source.value as Obj;
  const result: Obj = {};
  // Parent first: its elements come before the child's.
  let parentFlat: { devfile: Obj; source: DevfileSource; elementOrigins: Map<string, Origin> } | undefined;
  if (own.parent !== undefined) {
    const parent = own.parent as Obj;
    const loaded = await loadReferenced(source, "/parent", parent, "parent", chain, errors);
    if (loaded) {
      const sub = new OriginMap(loaded);
      const flat = await flattenInto(loaded, [...chain, resolvePath(loaded.file)], sub, errors);
      const elementOrigins = new Map<string, Origin>();
      for (const [list, key] of Object.entries(KEYED_LISTS)) {
        const items = Array.isArray(flat[list]) ? (flat[list] as unknown[]) : [];
        items.forEach((item, i) => {
          if (isObj(item))
            elementOrigins.set(`${list}\u0000${String(item[key])}`, {
              source: loaded,
              pointer: `/${list}/${i}`,
            });
        });
      }
      applyOverrides(flat, parent, source, "/parent", "parent", errors);
      parentFlat = { devfile: flat, source: loaded, elementOrigins };
    }
  }

  for (const [field, value] of Object.entries(own)) {
    if (field === "parent") continue;
    result[field] = value;
  }
  if (parentFlat) mergeParent(result, parentFlat, own, source, origins, errors);
  else recordOwnOrigins(result, source, origins);

  await expandPlugins(result, source, chain, origins, errors);
  return result;
}

function recordOwnOrigins(result: Obj, source: DevfileSource, origins: OriginMap): void {
  origins.set("", { source, pointer: "" });
  for (const list of Object.keys(KEYED_LISTS)) {
    const items = result[list];
    if (Array.isArray(items))
      for (let i = 0; i < items.length; i++)
        origins.set(`/${list}/${i}`, { source, pointer: `/${list}/${i}` });
  }
}

function mergeParent(
  result: Obj,
  parent: { devfile: Obj; source: DevfileSource; elementOrigins: Map<string, Origin> },
  own: Obj,
  source: DevfileSource,
  origins: OriginMap,
  errors: DevfileError[],
): void {
  origins.set("", { source, pointer: "" });
  for (const [list, key] of Object.entries(KEYED_LISTS)) {
    const inherited = Array.isArray(parent.devfile[list]) ? (parent.devfile[list] as unknown[]) : [];
    const mine = Array.isArray(own[list]) ? (own[list] as unknown[]) : [];
    if (inherited.length === 0 && own[list] === undefined) continue;
    const names = new Set(inherited.filter(isObj).map((i) => String(i[key])));
    const merged: unknown[] = [];
    inherited.forEach((item) => {
      const origin = isObj(item) ? parent.elementOrigins.get(`${list}\u0000${String(item[key])}`) : undefined;
      origins.set(`/${list}/${merged.length}`, origin ?? { source: parent.source, pointer: `/${list}` });
      merged.push(item);
    });
    mine.forEach((item, i) => {
      if (isObj(item) && names.has(String(item[key]))) {
        errors.push(
          errorAt(
            source,
            `/${list}/${i}/${key}`,
            `${list}[${i}] '${String(item[key])}' is already defined in the parent devfile; to change it, override it under parent.${list} instead`,
            "flatten",
          ),
        );
        return;
      }
      origins.set(`/${list}/${merged.length}`, { source, pointer: `/${list}/${i}` });
      merged.push(item);
    });
    result[list] = merged;
  }
  for (const field of ["attributes", "variables"]) {
    const inherited = parent.devfile[field];
    if (isObj(inherited)) result[field] = { ...inherited, ...(isObj(own[field]) ? own[field] : {}) };
  }
  const inheritedEvents = parent.devfile.events;
  if (isObj(inheritedEvents)) {
    const mine = isObj(own.events) ? own.events : {};
    const events: Obj = {};
    for (const name of new Set([...Object.keys(inheritedEvents), ...Object.keys(mine)])) {
      const a = Array.isArray(inheritedEvents[name]) ? (inheritedEvents[name] as unknown[]) : [];
      const b = Array.isArray(mine[name]) ? (mine[name] as unknown[]) : [];
      events[name] = [...new Set([...a, ...b])];
    }
    result.events = events;
  }
  if (result.metadata === undefined && parent.devfile.metadata !== undefined)
    result.metadata = parent.devfile.metadata;
}

async function expandPlugins(
  result: Obj,
  source: DevfileSource,
  chain: string[],
  origins: OriginMap,
  errors: DevfileError[],
): Promise<void> {
  const components = Array.isArray(result.components) ? (result.components as unknown[]) : [];
  if (!components.some((c) => isObj(c) && c.plugin !== undefined)) return;
  const ownPointer = new Map<unknown, string>();
  const ownList = Array.isArray((source.value as Obj).components)
    ? ((source.value as Obj).components as unknown[])
    : [];
  for (const [i, c] of ownList.entries()) ownPointer.set(c, `/components/${i}`);
  const outComponents: unknown[] = [];
  const outOrigins: Origin[] = [];
  const addedCommands: { item: unknown; origin: Origin }[] = [];
  for (const [i, component] of components.entries()) {
    const pointer = ownPointer.get(component) ?? `/components/${i}`;
    if (!isObj(component) || component.plugin === undefined) {
      outComponents.push(component);
      outOrigins.push({ source, pointer });
      continue;
    }
    const plugin = component.plugin as Obj;
    const loaded = await loadReferenced(
      source,
      `${pointer}/plugin`,
      plugin,
      `plugin '${String(component.name)}'`,
      chain,
      errors,
    );
    if (!loaded) continue;
    const sub = new OriginMap(loaded);
    const flat = await flattenInto(loaded, [...chain, resolvePath(loaded.file)], sub, errors);
    applyOverrides(flat, plugin, source, `${pointer}/plugin`, `plugin '${String(component.name)}'`, errors);
    const pluginComponents = Array.isArray(flat.components) ? (flat.components as unknown[]) : [];
    pluginComponents.forEach((c, j) => {
      outComponents.push(c);
      outOrigins.push({ source: loaded, pointer: `/components/${j}` });
    });
    const pluginCommands = Array.isArray(flat.commands) ? (flat.commands as unknown[]) : [];
    pluginCommands.forEach((c, j) => {
      addedCommands.push({ item: c, origin: { source: loaded, pointer: `/commands/${j}` } });
    });
  }
  const seen = new Map<string, number>();
  outComponents.forEach((c, i) => {
    if (!isObj(c)) return;
    const name = String(c.name);
    if (seen.has(name)) {
      const origin = outOrigins[i]!;
      errors.push(
        errorAt(
          origin.source,
          `${origin.pointer}/name`,
          `component '${name}' from a plugin clashes with another component of the same name`,
          "flatten",
        ),
      );
    }
    seen.set(name, i);
  });
  result.components = outComponents;
  for (const [i, o] of outOrigins.entries()) origins.set(`/components/${i}`, o);
  if (addedCommands.length > 0) {
    const commands = Array.isArray(result.commands) ? [...(result.commands as unknown[])] : [];
    for (const { item, origin } of addedCommands) {
      origins.set(`/commands/${commands.length}`, origin);
      commands.push(item);
    }
    result.commands = commands;
  }
}

/** Reads the devfile a parent or plugin points at, or says why it cannot be read here. */
async function loadReferenced(
  from: DevfileSource,
  pointer: string,
  ref: Obj,
  what: string,
  chain: string[],
  errors: DevfileError[],
): Promise<DevfileSource | undefined> {
  const fail = (at: string, message: string) => {
    errors.push(errorAt(from, at, message, "flatten"));
    return undefined;
  };
  if (typeof ref.id === "string") {
    const registry = typeof ref.registryUrl === "string" ? ` from ${ref.registryUrl}` : "";
    return fail(
      `${pointer}/id`,
      `${what} refers to '${ref.id}'${registry} in a devfile registry, which is not available offline: save that devfile next to this one and use uri: ./${ref.id}.devfile.yaml`,
    );
  }
  if (ref.kubernetes !== undefined) {
    return fail(
      `${pointer}/kubernetes`,
      `${what} refers to a DevWorkspaceTemplate in a cluster, which is not available offline: export it as a devfile and use uri: ./FILE.yaml`,
    );
  }
  if (typeof ref.uri !== "string") return fail(pointer, `${what} needs a uri (a local path) to be flattened`);
  const uri = ref.uri;
  let path: string;
  if (/^https?:\/\//i.test(uri)) {
    return fail(
      `${pointer}/uri`,
      `${what} uri ${uri} is a network address, which is not available offline: save that devfile next to this one and use a relative path`,
    );
  }
  if (/^file:/i.test(uri)) {
    try {
      path = fileURLToPath(uri);
    } catch {
      return fail(`${pointer}/uri`, `${what} uri ${uri} is not a valid file URI`);
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    return fail(`${pointer}/uri`, `${what} uri ${uri} uses a scheme this tool cannot read; use a local path`);
  } else {
    path = resolve(dirname(resolvePath(from.file)), uri);
  }
  if (chain.includes(path)) {
    const names = [...chain.slice(chain.indexOf(path)), path].map((p) => p.split(/[\\/]/).pop());
    return fail(`${pointer}/uri`, `${what} makes a cycle: ${names.join(" → ")}`);
  }
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > MAX_DEVFILE_BYTES) {
      errors.push(sizeError(path, info.size));
      return undefined;
    }
    text = await readFile(path, "utf8");
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === "ENOENT"
        ? "does not exist"
        : `cannot be read (${(err as Error).message})`;
    return fail(`${pointer}/uri`, `${what} file ${path} ${reason}`);
  }
  const parsed = parseSource(text, path);
  if (!parsed.ok) {
    errors.push(...parsed.errors);
    return undefined;
  }
  const checked = validateAgainstSchema(parsed.source);
  if (!checked.ok) {
    errors.push(...checked.errors);
    return undefined;
  }
  return parsed.source;
}

/**
 * Applies a parent's or plugin's overrides (the devfile spec's strategic merge): keyed lists merge element by
 * element, maps merge field by field, anything else is replaced. Overriding an element the referenced devfile
 * does not define is an error.
 */
function applyOverrides(
  target: Obj,
  ref: Obj,
  source: DevfileSource,
  pointer: string,
  what: string,
  errors: DevfileError[],
): void {
  for (const [list, key] of Object.entries(KEYED_LISTS)) {
    const overrides = ref[list];
    if (!Array.isArray(overrides)) continue;
    const items = Array.isArray(target[list]) ? [...(target[list] as unknown[])] : [];
    overrides.forEach((override, i) => {
      if (!isObj(override)) return;
      const index = items.findIndex((item) => isObj(item) && item[key] === override[key]);
      if (index < 0) {
        errors.push(
          errorAt(
            source,
            `${pointer}/${list}/${i}/${key}`,
            `${what} overrides ${list} '${String(override[key])}', which the referenced devfile does not define`,
            "flatten",
          ),
        );
        return;
      }
      items[index] = mergeValue(items[index], override);
    });
    target[list] = items;
  }
  for (const field of ["attributes", "variables"]) {
    if (isObj(ref[field])) target[field] = mergeValue(target[field], ref[field]);
  }
}

function mergeValue(base: unknown, patch: unknown): unknown {
  if (isObj(base) && isObj(patch)) {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? mergeValue(base[k], v) : v;
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch)) {
    const key = LIST_KEY_FIELDS.find((k) => patch.every((p) => isObj(p) && typeof p[k] === "string"));
    if (key && base.every((b) => isObj(b))) {
      const out: unknown[] = [...base];
      for (const p of patch as Obj[]) {
        const i = out.findIndex((b) => (b as Obj)[key] === p[key]);
        if (i >= 0) out[i] = mergeValue(out[i], p);
        else out.push(p);
      }
      return out;
    }
  }
  return patch;
}
