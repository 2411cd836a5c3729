// Field ownership as server-side apply tracks it (structured-merge-diff): each manager and operation owns a set of
// field paths, kept in metadata.managedFields as FieldsV1. Apply conflicts with another manager's field when it sets a
// different value there (409, or ownership moves with force); Update operations take the fields they change.
// biome-ignore-all lint/suspicious/noExplicitAny: field sets describe arbitrary Kubernetes objects
import { ApiError } from "./errors.ts";
import { MERGE_KEYS } from "./patch.ts";

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, any>;
  subresource?: string;
}

/** A path is its FieldsV1 keys (`f:spec`, `k:{"name":"c"}`, `v:"x"`) joined by this separator. */
const SEP = "\u0000";
/** Set by the server, never owned by a client. */
const SYSTEM_FIELDS = new Set([
  "f:metadata\u0000f:resourceVersion",
  "f:metadata\u0000f:uid",
  "f:metadata\u0000f:creationTimestamp",
  "f:metadata\u0000f:generation",
  "f:metadata\u0000f:managedFields",
  "f:metadata\u0000f:deletionTimestamp",
  "f:metadata\u0000f:name",
  "f:metadata\u0000f:namespace",
  "f:status",
]);

const isObject = (v: unknown): v is Record<string, any> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function itemKey(field: string, item: any): string | undefined {
  const spec = MERGE_KEYS[field];
  if (!spec || !isObject(item)) return undefined;
  for (const k of spec.split("|")) if (item[k] !== undefined) return `k:${JSON.stringify({ [k]: item[k] })}`;
  return undefined;
}

/** The field paths an object sets: every leaf and every keyed list item and map it contains. */
export function pathsOf(value: any, prefix: string[] = [], field = "", out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    const keyed = value.length > 0 && value.every((item) => itemKey(field, item));
    if (!keyed) {
      out.add(prefix.join(SEP));
      return out;
    }
    for (const item of value) {
      const at = [...prefix, itemKey(field, item)!];
      out.add(at.join(SEP));
      pathsOf(item, at, "", out);
    }
    return out;
  }
  if (isObject(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) {
      if (!prefix.length && (k === "apiVersion" || k === "kind")) continue;
      const at = [...prefix, `f:${k}`];
      if (SYSTEM_FIELDS.has(at.join(SEP)) || SYSTEM_FIELDS.has(at.slice(0, 1).join(SEP))) continue;
      pathsOf(v, at, k, out);
    }
    return out;
  }
  if (prefix.length) out.add(prefix.join(SEP));
  return out;
}

export function toFieldsV1(paths: Set<string>): Record<string, any> {
  const root: Record<string, any> = {};
  for (const p of [...paths].sort()) {
    let node = root;
    const parts = p.split(SEP);
    for (const part of parts) node = node[part] ??= {};
    if (Object.keys(node).length === 0 && parts[parts.length - 1]!.startsWith("k:")) node["."] = {};
  }
  // A node that is both set itself and has children carries ".".
  const mark = (node: Record<string, any>, isSet: (path: string[]) => boolean, at: string[]) => {
    for (const [k, child] of Object.entries(node)) {
      if (k === ".") continue;
      const here = [...at, k];
      if (Object.keys(child).length && isSet(here)) child["."] = {};
      mark(child, isSet, here);
    }
  };
  mark(root, (here) => paths.has(here.join(SEP)), []);
  return root;
}

export function fromFieldsV1(
  fields: Record<string, any> | undefined,
  prefix: string[] = [],
  out = new Set<string>(),
) {
  for (const [k, child] of Object.entries(fields ?? {})) {
    if (k === ".") {
      out.add(prefix.join(SEP));
      continue;
    }
    const at = [...prefix, k];
    if (!isObject(child) || Object.keys(child).length === 0) out.add(at.join(SEP));
    else fromFieldsV1(child, at, out);
  }
  return out;
}

/** The value an object has at a path, or undefined. */
export function valueAt(o: any, path: string): any {
  let node = o;
  for (const part of path.split(SEP)) {
    if (node === undefined || node === null) return undefined;
    if (part.startsWith("f:")) node = node[part.slice(2)];
    else if (part.startsWith("k:")) {
      const want = JSON.parse(part.slice(2)) as Record<string, unknown>;
      const [k, v] = Object.entries(want)[0]!;
      node = Array.isArray(node) ? node.find((item) => isObject(item) && item[k] === v) : undefined;
    } else return undefined;
  }
  return node;
}

/** Removes the field at a path (a keyed list item as a whole). */
function removeAt(o: any, path: string): void {
  const parts = path.split(SEP);
  const last = parts.pop()!;
  const parent = parts.length ? valueAt(o, parts.join(SEP)) : o;
  if (parent === undefined || parent === null) return;
  if (last.startsWith("f:") && isObject(parent)) delete parent[last.slice(2)];
  else if (last.startsWith("k:") && Array.isArray(parent)) {
    const [k, v] = Object.entries(JSON.parse(last.slice(2)) as Record<string, unknown>)[0]!;
    const i = parent.findIndex((item) => isObject(item) && item[k] === v);
    if (i >= 0) parent.splice(i, 1);
  }
}

/** Human form of a path as structured-merge-diff prints it: `.spec.template.spec.containers[name="c"].image`. */
export function printPath(path: string): string {
  return path
    .split(SEP)
    .map((part) => {
      if (part.startsWith("f:")) return `.${part.slice(2)}`;
      if (part.startsWith("k:")) {
        const keys = Object.entries(JSON.parse(part.slice(2)) as Record<string, unknown>);
        return `[${keys.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}]`;
      }
      return `[=${part.slice(2)}]`;
    })
    .join("");
}

const entriesOf = (o: any): ManagedFieldsEntry[] =>
  (o?.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
const sameManager = (e: ManagedFieldsEntry, manager: string, operation: string, subresource?: string) =>
  e.manager === manager && e.operation === operation && (e.subresource ?? "") === (subresource ?? "");

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

function describe(e: ManagedFieldsEntry): string {
  const name = e.subresource
    ? `${JSON.stringify(e.manager)} with subresource ${JSON.stringify(e.subresource)}`
    : JSON.stringify(e.manager);
  if (e.operation === "Update")
    return e.time ? `${name} using ${e.apiVersion} at ${e.time}` : `${name} using ${e.apiVersion}`;
  return name;
}

/**
 * Prepares a server-side apply of `applied` by `manager` to `live` (undefined when the object is new): 409 Conflict
 * when another manager owns a field the configuration sets to a different value (unless `force`, which moves it);
 * fields the manager applied before and no longer applies are removed unless another manager owns them. Returns the
 * live object to merge the configuration into and the managedFields the result gets.
 */
export function planApply(
  live: any,
  applied: any,
  manager: string,
  apiVersion: string,
  force: boolean,
): { base: any; managedFields: ManagedFieldsEntry[] } {
  const wanted = pathsOf(applied);
  const entries = entriesOf(live).map((e) => ({ ...e, paths: fromFieldsV1(e.fieldsV1) }));
  const mine = entries.find((e) => sameManager(e, manager, "Apply"));
  const others = entries.filter((e) => e !== mine);
  const conflicts: { entry: ManagedFieldsEntry; path: string }[] = [];
  for (const e of others) {
    for (const p of wanted) {
      if (!e.paths.has(p)) continue;
      const theirs = valueAt(live, p);
      const ours = valueAt(applied, p);
      if (isObject(ours) || isObject(theirs)) continue;
      if (JSON.stringify(theirs) !== JSON.stringify(ours)) conflicts.push({ entry: e, path: p });
    }
  }
  if (conflicts.length && !force) throw conflictError(conflicts);
  for (const { entry, path } of conflicts) (entry as any).paths.delete(path);
  const base = structuredClone(live ?? {});
  if (mine) {
    const dropped = [...mine.paths].filter((p) => !wanted.has(p)).sort((a, b) => a.length - b.length);
    for (const p of dropped) {
      const ownedElsewhere = others.some((e) => [...e.paths].some((q) => q === p || q.startsWith(p + SEP)));
      if (!ownedElsewhere) removeAt(base, p);
    }
  }
  const managedFields: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (e === mine) continue;
    const { paths, ...entry } = e;
    if (paths.size) managedFields.push({ ...entry, fieldsV1: toFieldsV1(paths) });
  }
  managedFields.push({
    manager,
    operation: "Apply",
    apiVersion,
    time: now(),
    fieldsType: "FieldsV1",
    fieldsV1: toFieldsV1(wanted),
  });
  return { base, managedFields: order(live, managedFields) };
}

/**
 * managedFields after an Update (create, PUT, patch) by `manager`: it takes every field it changed. Status writes own
 * nothing here; a write through /scale owns what it changed as the `scale` subresource.
 */
export function recordUpdate(
  before: any,
  after: any,
  manager: string,
  apiVersion: string,
  subresource?: string,
): ManagedFieldsEntry[] {
  const afterPaths = subresource === "status" ? new Set<string>() : pathsOf(after);
  const beforePaths = before ? pathsOf(before) : new Set<string>();
  const changed = new Set(
    [...afterPaths].filter(
      (p) => !beforePaths.has(p) || JSON.stringify(valueAt(before, p)) !== JSON.stringify(valueAt(after, p)),
    ),
  );
  const entries = entriesOf(before).map((e) => ({ ...e, paths: fromFieldsV1(e.fieldsV1) }));
  const owner = subresource === "scale" ? "scale" : undefined;
  let mine = entries.find((e) => sameManager(e, manager, "Update", owner));
  if (!mine && changed.size) {
    mine = {
      manager,
      operation: "Update",
      apiVersion,
      fieldsType: "FieldsV1",
      fieldsV1: {},
      ...(owner ? { subresource: owner } : {}),
      paths: new Set(),
    };
    entries.push(mine);
  }
  for (const e of entries) {
    for (const p of [...e.paths]) {
      const gone = !afterPaths.has(p) && ![...afterPaths].some((q) => q.startsWith(p + SEP));
      if (gone || (e !== mine && changed.has(p))) e.paths.delete(p);
    }
  }
  if (mine && changed.size) {
    for (const p of changed) mine.paths.add(p);
    mine.time = now();
    mine.apiVersion = apiVersion;
  }
  const out: ManagedFieldsEntry[] = [];
  for (const { paths, ...entry } of entries)
    if (paths.size) out.push({ ...entry, fieldsV1: toFieldsV1(paths) });
  return order(before, out);
}

/** Entries keep the order they first appeared in. */
function order(live: any, entries: ManagedFieldsEntry[]): ManagedFieldsEntry[] {
  const before = entriesOf(live).map((e) => `${e.manager}/${e.operation}`);
  const rank = (e: ManagedFieldsEntry) => {
    const i = before.indexOf(`${e.manager}/${e.operation}`);
    return i < 0 ? before.length : i;
  };
  return [...entries].sort((a, b) => rank(a) - rank(b));
}

function conflictError(conflicts: { entry: ManagedFieldsEntry; path: string }[]): ApiError {
  const causes = conflicts.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${describe(c.entry)}`,
    field: printPath(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describe(conflicts[0]!.entry)}: ${printPath(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const key = describe(c.entry);
      byManager.set(key, [...(byManager.get(key) ?? []), printPath(c.path)]);
    }
    const lines: string[] = [];
    for (const key of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${key}:`, ...byManager.get(key)!.map((p) => `- ${p}`));
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new ApiError(409, "Conflict", message, { causes });
}
