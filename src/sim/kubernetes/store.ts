// The simulator's storage: objects by resource type, a global resourceVersion, watch history and garbage collection.
import { randomUUID } from "node:crypto";
import type { KubeObject } from "../../kubernetes/objects.ts";
import { applyDefaults } from "./defaults.ts";
import { ApiError, alreadyExists, conflict, gone, invalid, notFound } from "./errors.ts";
import { encodeObject } from "./protobuf.ts";
import { apiVersionOf, RESOURCE_TYPES, type ResourceType, typeByKind, typeKey } from "./resources.ts";
import type { Selector } from "./selectors.ts";
import { validateObject } from "./validation.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  rv: number;
  type: WatchEventType;
  rt: ResourceType;
  object: KubeObject;
  /** The object before this change (MODIFIED), for watchers whose selector it stops or starts matching. */
  previous?: KubeObject;
}

export interface WatchFilter {
  rt: ResourceType;
  namespace?: string;
  select: Selector;
}

const HISTORY_LIMIT = 20_000;
const FOREGROUND = "foregroundDeletion";

export type Propagation = "Orphan" | "Background" | "Foreground";

export class ObjectStore {
  private readonly byType = new Map<string, Map<string, KubeObject>>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<{ filter: WatchFilter; send: (e: WatchEvent) => void }>();
  private rv = 1;
  private readonly cleaningNamespaces = new Set<string>();

  constructor(private readonly namespaceCleanupDelayMs = 1000) {
    for (const rt of RESOURCE_TYPES) this.byType.set(typeKey(rt), new Map());
    const ns = RESOURCE_TYPES.find((r) => r.kind === "Namespace")!;
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      this.create(ns, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** The oldest resourceVersion a watch can still start from. */
  get oldestWatchableVersion(): number {
    return this.history[0]?.rv ?? this.rv;
  }

  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const o = this.table(rt).get(key(rt, namespace, name));
    if (!o) throw notFound(rt.group, rt.plural, name);
    return structuredClone(o);
  }

  find(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.table(rt).get(key(rt, namespace, name));
    return o ? structuredClone(o) : undefined;
  }

  /** Matching objects, sorted by namespace and name. With `readOnly` they are the stored objects: do not change them. */
  list(
    rt: ResourceType,
    namespace: string | undefined,
    select: Selector = () => true,
    readOnly = false,
  ): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.table(rt).values()) {
      if (rt.namespaced && namespace && o.metadata.namespace !== namespace) continue;
      if (select(o)) out.push(readOnly ? o : structuredClone(o));
    }
    return out.sort((a, b) =>
      `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace ?? ""}/${b.metadata.name}`,
      ),
    );
  }

  create(rt: ResourceType, input: KubeObject): KubeObject {
    const o = structuredClone(input);
    o.apiVersion = apiVersionOf(rt);
    o.kind = rt.kind;
    o.metadata ??= { name: "" };
    if (!o.metadata.name && o.metadata.generateName) {
      o.metadata.name = `${o.metadata.generateName}${randomUUID().replace(/-/g, "").slice(0, 5)}`;
    }
    o.metadata.uid = randomUUID();
    if (rt.kind === "Job") generateJobSelector(o);
    applyDefaults(o);
    this.validate(rt, o);
    if (rt.namespaced) this.requireNamespace(o.metadata.namespace!);
    const table = this.table(rt);
    const k = key(rt, o.metadata.namespace, o.metadata.name);
    if (table.has(k)) throw alreadyExists(rt.group, rt.plural, o.metadata.name);
    o.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    delete o.metadata.deletionTimestamp;
    if (rt.hasStatus && rt.kind !== "Namespace") o.metadata.generation = 1;
    if (rt.kind === "Service") this.allocateClusterIP(o);
    if (rt.kind === "Namespace") {
      o.metadata.labels = { ...o.metadata.labels, "kubernetes.io/metadata.name": o.metadata.name };
      o.spec = { finalizers: ["kubernetes"] };
      o.status = { phase: "Active" };
    }
    return this.commit(rt, "ADDED", o);
  }

  /** Replaces an object (PUT). With `status`, only the status changes; otherwise status is kept as stored. */
  update(rt: ResourceType, input: KubeObject, opts: { status?: boolean } = {}): KubeObject {
    const o = structuredClone(input);
    const current = this.table(rt).get(key(rt, o.metadata.namespace, o.metadata.name));
    if (!current) throw notFound(rt.group, rt.plural, o.metadata.name);
    if (o.metadata.resourceVersion && o.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(
        rt.group,
        rt.plural,
        o.metadata.name,
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    }
    o.apiVersion = apiVersionOf(rt);
    o.kind = rt.kind;
    if (!opts.status) applyDefaults(o);
    if (rt.kind === "Service" && o.spec && !o.spec.clusterIP && current.spec?.clusterIP) {
      // spec.clusterIP is immutable: an update that leaves it out keeps the allocated one.
      o.spec.clusterIP = current.spec.clusterIP;
      o.spec.clusterIPs ??= current.spec.clusterIPs;
    }
    this.validate(rt, o);
    let next: KubeObject;
    if (opts.status) {
      next = { ...structuredClone(current), status: o.status };
    } else {
      next = o;
      if (rt.hasStatus) next.status = structuredClone(current.status);
      next.metadata = {
        ...o.metadata,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        ...(current.metadata.deletionTimestamp
          ? { deletionTimestamp: current.metadata.deletionTimestamp }
          : {}),
      };
      if (current.metadata.generation !== undefined) {
        const specChanged = JSON.stringify(current.spec) !== JSON.stringify(o.spec);
        next.metadata.generation = current.metadata.generation + (specChanged ? 1 : 0);
      }
    }
    if (JSON.stringify(stripVolatile(next)) === JSON.stringify(stripVolatile(current)))
      return structuredClone(current);
    const done = this.commit(rt, "MODIFIED", next);
    if (done.metadata.deletionTimestamp && !done.metadata.finalizers?.length && rt.kind !== "Pod") {
      return this.remove(rt, done);
    }
    return done;
  }

  /**
   * Deletes an object. Pods bound to a node and objects with finalizers get a deletionTimestamp and go when the
   * kubelet (or the finalizer's owner) is done. Dependents, as the garbage collector treats them: Background (the
   * default) deletes them after the owner; Foreground keeps the owner, with the foregroundDeletion finalizer, until
   * they are gone; Orphan removes the owner reference from them and keeps them.
   */
  delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: { force?: boolean; propagation?: Propagation } = {},
  ): KubeObject {
    let current = this.table(rt).get(key(rt, namespace, name));
    if (!current) throw notFound(rt.group, rt.plural, name);
    if (opts.propagation === "Orphan") {
      this.orphanDependents(current);
      current = this.table(rt).get(key(rt, namespace, name))!;
    }
    if (opts.propagation === "Foreground" && !current.metadata.deletionTimestamp && rt.kind !== "Namespace") {
      const marked = structuredClone(current);
      marked.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      marked.metadata.finalizers = [...(marked.metadata.finalizers ?? []), FOREGROUND];
      const done = this.commit(rt, "MODIFIED", marked);
      this.collectDependents(done);
      return this.finishForeground(rt, done) ?? done;
    }
    const graceful = rt.kind === "Pod" && current.spec?.nodeName && !opts.force;
    if (graceful || current.metadata.finalizers?.length) {
      if (current.metadata.deletionTimestamp) return structuredClone(current);
      const marked = structuredClone(current);
      marked.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      if (rt.kind === "Namespace") marked.status = { phase: "Terminating" };
      const done = this.commit(rt, "MODIFIED", marked);
      this.collectDependents(done);
      return done;
    }
    if (rt.kind === "Namespace") {
      if (current.metadata.deletionTimestamp) return structuredClone(current);
      // Like the namespace controller: the namespace is Terminating first and its contents go a moment later.
      const marked = structuredClone(current);
      marked.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      marked.status = { phase: "Terminating" };
      const done = this.commit(rt, "MODIFIED", marked);
      setTimeout(() => this.deleteNamespaceContents(name), this.namespaceCleanupDelayMs).unref();
      return done;
    }
    return this.remove(rt, current);
  }

  watch(filter: WatchFilter, sinceRv: number | undefined, send: (e: WatchEvent) => void): () => void {
    if (sinceRv !== undefined) {
      if (sinceRv < this.oldestWatchableVersion - 1) {
        throw gone(`too old resource version: ${sinceRv} (${this.oldestWatchableVersion})`);
      }
      for (const e of this.history) {
        const seen = e.rv > sinceRv ? asSeenBy(filter, e) : undefined;
        if (seen) send(seen);
      }
    } else {
      for (const o of this.list(filter.rt, filter.namespace, filter.select)) {
        send({ rv: Number(o.metadata.resourceVersion), type: "ADDED", rt: filter.rt, object: o });
      }
    }
    const w = { filter, send };
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  /** Subscribes to every change of one type, for in-process controllers. */
  onChange(rt: ResourceType, send: (e: WatchEvent) => void): () => void {
    return this.watch({ rt, select: () => true }, this.rv, send);
  }

  private remove(rt: ResourceType, current: KubeObject): KubeObject {
    this.table(rt).delete(key(rt, current.metadata.namespace, current.metadata.name));
    const gone = structuredClone(current);
    this.rv++;
    gone.metadata.resourceVersion = String(this.rv);
    this.publish({ rv: this.rv, type: "DELETED", rt, object: gone });
    this.collectDependents(current);
    return gone;
  }

  /** The Service IP allocator: ClusterIP, NodePort and LoadBalancer Services get the next free 10.96.0.0/12 address. */
  private allocateClusterIP(svc: KubeObject): void {
    const spec = svc.spec;
    if (!spec || spec.type === "ExternalName" || spec.clusterIP === "None") return;
    if (!spec.clusterIP) {
      const used = new Set(
        this.list(RESOURCE_TYPES.find((r) => r.kind === "Service")!, undefined, undefined, true).map(
          (s) => s.spec?.clusterIP,
        ),
      );
      let n = 10;
      while (used.has(`10.96.${Math.floor(n / 256) % 256}.${n % 256}`)) n++;
      spec.clusterIP = `10.96.${Math.floor(n / 256) % 256}.${n % 256}`;
    }
    spec.clusterIPs ??= [spec.clusterIP];
  }

  private orphanDependents(owner: KubeObject): void {
    const uid = owner.metadata.uid;
    for (const rt of RESOURCE_TYPES) {
      for (const o of [...this.table(rt).values()]) {
        const refs = o.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === uid)) continue;
        const kept = structuredClone(o);
        kept.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
        if (!kept.metadata.ownerReferences.length) delete kept.metadata.ownerReferences;
        this.commit(rt, "MODIFIED", kept);
      }
    }
  }

  /** A Foreground deletion ends once no dependent is left: the finalizer goes, then the owner. */
  private finishForeground(rt: ResourceType, owner: KubeObject): KubeObject | undefined {
    if (!owner.metadata.finalizers?.includes(FOREGROUND)) return undefined;
    const uid = owner.metadata.uid;
    const waiting = RESOURCE_TYPES.some((t) =>
      [...this.table(t).values()].some((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid)),
    );
    if (waiting) return undefined;
    const live = this.table(rt).get(key(rt, owner.metadata.namespace, owner.metadata.name));
    if (!live || live.metadata.uid !== uid) return undefined;
    const next = structuredClone(live);
    next.metadata.finalizers = next.metadata.finalizers!.filter((f) => f !== FOREGROUND);
    if (!next.metadata.finalizers.length) delete next.metadata.finalizers;
    return this.update(rt, next);
  }

  private collectDependents(owner: KubeObject): void {
    const uid = owner.metadata.uid;
    for (const rt of RESOURCE_TYPES) {
      for (const o of [...this.table(rt).values()]) {
        if (o.metadata.deletionTimestamp && rt.kind === "Pod") continue;
        if (o.metadata.ownerReferences?.some((r) => r.uid === uid)) this.deleteIfPresent(rt, o);
      }
    }
  }

  /** Deletes an object found by a scan; cascades can remove it between the scan and this call. */
  private deleteIfPresent(rt: ResourceType, o: KubeObject): void {
    if (this.table(rt).has(key(rt, o.metadata.namespace, o.metadata.name))) {
      this.delete(rt, o.metadata.namespace, o.metadata.name);
    }
  }

  private deleteNamespaceContents(namespace: string): void {
    this.cleaningNamespaces.add(namespace);
    for (const rt of RESOURCE_TYPES) {
      if (!rt.namespaced) continue;
      for (const o of [...this.table(rt).values()]) {
        if (o.metadata.namespace === namespace && !o.metadata.deletionTimestamp) this.deleteIfPresent(rt, o);
      }
    }
    this.finishNamespaceIfEmpty(namespace);
  }

  /** A namespace whose contents are being deleted goes once nothing is left in it. */
  private finishNamespaceIfEmpty(namespace: string | undefined): void {
    if (!namespace || !this.cleaningNamespaces.has(namespace)) return;
    const empty = RESOURCE_TYPES.every(
      (rt) => !rt.namespaced || ![...this.table(rt).values()].some((o) => o.metadata.namespace === namespace),
    );
    const nsType = RESOURCE_TYPES.find((r) => r.kind === "Namespace")!;
    const ns = this.table(nsType).get(namespace);
    if (!empty || !ns) return;
    this.cleaningNamespaces.delete(namespace);
    this.remove(nsType, ns);
  }

  private commit(rt: ResourceType, type: WatchEventType, o: KubeObject): KubeObject {
    checkStoredSize(o);
    const k = key(rt, o.metadata.namespace, o.metadata.name);
    const previous = this.table(rt).get(k);
    this.rv++;
    o.metadata.resourceVersion = String(this.rv);
    this.table(rt).set(k, o);
    this.publish({ rv: this.rv, type, rt, object: structuredClone(o), ...(previous ? { previous } : {}) });
    return structuredClone(o);
  }

  private publish(e: WatchEvent): void {
    this.history.push(e);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    for (const w of [...this.watchers]) {
      const seen = asSeenBy(w.filter, e);
      if (seen) w.send(seen);
    }
    if (e.type === "DELETED" && e.rt.namespaced) this.finishNamespaceIfEmpty(e.object.metadata.namespace);
    if (e.type === "DELETED") {
      for (const ref of e.object.metadata.ownerReferences ?? []) {
        const ownerType = typeByKind(ref.apiVersion, ref.kind);
        const owner =
          ownerType && this.table(ownerType).get(key(ownerType, e.object.metadata.namespace, ref.name));
        if (owner?.metadata.uid === ref.uid) this.finishForeground(ownerType!, owner);
      }
    }
  }

  private requireNamespace(namespace: string): void {
    const nsType = RESOURCE_TYPES.find((r) => r.kind === "Namespace")!;
    const ns = this.table(nsType).get(namespace);
    if (!ns) throw notFound("", "namespaces", namespace);
    if (ns.metadata.deletionTimestamp) {
      throw new ApiError(403, "Forbidden", `namespace ${namespace} is being terminated`);
    }
  }

  private validate(rt: ResourceType, o: KubeObject): void {
    const causes = validateObject(rt, o);
    if (causes.length) throw invalid(rt.kind, rt.group, o.metadata?.name ?? "", causes);
  }

  private table(rt: ResourceType): Map<string, KubeObject> {
    return this.byType.get(typeKey(rt))!;
  }
}

export function resourceTypeOf(o: KubeObject): ResourceType {
  const rt = typeByKind(o.apiVersion, o.kind);
  if (!rt)
    throw new ApiError(
      404,
      "NotFound",
      `the server could not find the requested resource (${o.apiVersion} ${o.kind})`,
    );
  return rt;
}

/** etcd's request limit (1.5 MiB) on the object as stored: protobuf, which is never larger than its JSON. */
const MAX_STORED_BYTES = 1.5 * 1024 * 1024;

function checkStoredSize(o: KubeObject): void {
  if (JSON.stringify(o).length <= MAX_STORED_BYTES) return;
  if (encodeObject(o).length <= MAX_STORED_BYTES) return;
  throw new ApiError(413, "RequestEntityTooLarge", "etcdserver: request is too large");
}

function key(rt: ResourceType, namespace: string | undefined, name: string): string {
  return rt.namespaced ? `${namespace}/${name}` : name;
}

/**
 * The event a watcher sees, as kube-apiserver's watch cache decides it from the old and the new object: ADDED when a
 * change makes the object match the selector, DELETED (the old object at the new resourceVersion) when it stops
 * matching, nothing when neither matches.
 */
function asSeenBy(f: WatchFilter, e: WatchEvent): WatchEvent | undefined {
  if (typeKey(f.rt) !== typeKey(e.rt)) return undefined;
  const passes = (o: KubeObject | undefined) =>
    !!o && (!f.rt.namespaced || !f.namespace || o.metadata.namespace === f.namespace) && f.select(o);
  if (e.type !== "MODIFIED") return passes(e.object) ? e : undefined;
  const now = passes(e.object);
  const before = passes(e.previous);
  if (now && before) return e;
  if (now) return { ...e, type: "ADDED" };
  if (!before) return undefined;
  const old = structuredClone(e.previous!);
  old.metadata.resourceVersion = String(e.rv);
  return { ...e, type: "DELETED", object: old };
}

function stripVolatile(o: KubeObject): unknown {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}

/**
 * The Job strategy's generateSelector (pkg/registry/batch/job/strategy.go): unless spec.manualSelector, the pods are
 * selected by the Job's uid, and the template carries that label and the Job's name (with their legacy spellings).
 */
function generateJobSelector(job: KubeObject): void {
  if (job.spec?.manualSelector) return;
  const labels = {
    "batch.kubernetes.io/controller-uid": job.metadata.uid!,
    "batch.kubernetes.io/job-name": job.metadata.name,
    "controller-uid": job.metadata.uid!,
    "job-name": job.metadata.name,
  };
  job.spec ??= {};
  job.spec.template ??= {};
  job.spec.template.metadata ??= {};
  job.spec.template.metadata.labels = { ...job.spec.template.metadata.labels, ...labels };
  job.spec.selector ??= { matchLabels: { "batch.kubernetes.io/controller-uid": job.metadata.uid! } };
}
