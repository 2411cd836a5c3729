// JSON merge patch (RFC 7386), strategic merge patch for the fields workspaces use, and RFC 6902 JSON patch.
// biome-ignore-all lint/suspicious/noExplicitAny: patches operate on arbitrary JSON

/** List fields that merge by a key in strategic merge patch and apply, as Kubernetes' schemas declare them. */
/** Prototype-free, so a field named `__proto__` or `constructor` is simply not a keyed list. */
export const MERGE_KEYS: Record<string, string> = Object.assign(Object.create(null), {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  imagePullSecrets: "name",
  conditions: "type",
  ownerReferences: "uid",
  hostAliases: "ip",
  tolerations: "key",
  secrets: "name",
  // containerPort for container ports; Service ports merge by port.
  ports: "containerPort|port",
});

const isObject = (v: unknown): v is Record<string, any> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

// A key from a request (even `__proto__` or `constructor`) is an ordinary field: read and written as an
// own property, never through the prototype chain.
export const own = (o: any, k: string): any =>
  o !== null && typeof o === "object" && Object.hasOwn(o, k) ? o[k] : undefined;
export const setOwn = (o: any, k: string, v: any): void => {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
};

export function jsonMergePatch(target: any, patch: any): any {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, jsonMergePatch(own(out, k), v));
  }
  return out;
}

function keyOf(field: string, item: any): string | undefined {
  const spec = MERGE_KEYS[field];
  if (!spec || !isObject(item)) return undefined;
  for (const k of spec.split("|")) if (item[k] !== undefined) return `${k}=${item[k]}`;
  return undefined;
}

/** Strategic merge patch: like a merge patch, but keyed lists merge by item and $patch directives apply. */
export function strategicMergePatch(target: any, patch: any, field = ""): any {
  if (Array.isArray(patch)) return mergeList(field, Array.isArray(target) ? target : [], patch);
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === "replace") {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === "delete") return undefined;
  const out: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$setElementOrder/") || k === "$retainKeys") continue;
    if (v === null) delete out[k];
    else {
      const merged = strategicMergePatch(own(out, k), v, k);
      if (merged === undefined) delete out[k];
      else setOwn(out, k, merged);
    }
  }
  return out;
}

function mergeList(field: string, target: any[], patch: any[]): any[] {
  if (!MERGE_KEYS[field] || !patch.every((p) => keyOf(field, p) !== undefined)) return structuredClone(patch);
  const out = target.map((x) => structuredClone(x));
  for (const item of patch) {
    const key = keyOf(field, item);
    const i = out.findIndex((x) => keyOf(field, x) === key);
    if (item.$patch === "delete") {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = strategicMergePatch(out[i], item, "");
    else out.push(structuredClone(item));
  }
  return out;
}

/** RFC 6902 JSON patch (kubectl patch --type json). */
export function jsonPatch(target: any, ops: any[]): any {
  const doc = structuredClone(target);
  for (const op of ops) {
    const path = String(op.path)
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = path.pop()!;
    let parent: any = doc;
    for (const p of path) parent = Array.isArray(parent) ? parent[Number(p)] : own(parent, p);
    if (parent === undefined || parent === null || typeof parent !== "object")
      throw new Error(`path ${op.path} does not exist`);
    const idx = Array.isArray(parent) ? (last === "-" ? parent.length : Number(last)) : last;
    switch (op.op) {
      case "add":
        if (Array.isArray(parent)) parent.splice(idx as number, 0, op.value);
        else setOwn(parent, last, op.value);
        break;
      case "replace":
        if (Array.isArray(parent)) parent[idx as number] = op.value;
        else setOwn(parent, last, op.value);
        break;
      case "remove":
        if (Array.isArray(parent)) parent.splice(idx as number, 1);
        else delete parent[idx];
        break;
      case "test":
        if (
          JSON.stringify(Array.isArray(parent) ? parent[idx as number] : own(parent, last)) !==
          JSON.stringify(op.value)
        )
          throw new Error(`test failed at ${op.path}`);
        break;
      default:
        throw new Error(`unsupported JSON patch op ${op.op}`);
    }
  }
  return doc;
}
