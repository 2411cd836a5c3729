// The Deployment and ReplicaSet controllers and a one-node scheduler, as kube-controller-manager runs them.
import { createHash, randomBytes } from "node:crypto";
import type { KubeObject } from "../../kubernetes/objects.ts";
import { ApiError } from "./errors.ts";
import { RESOURCE_TYPES, type ResourceType } from "./resources.ts";
import { matchLabels } from "./selectors.ts";
import type { ObjectStore } from "./store.ts";

export const NODE_NAME = "wsparity-sim-node";

const type = (kind: string): ResourceType => RESOURCE_TYPES.find((r) => r.kind === kind)!;
const DEPLOYMENT = type("Deployment");
const REPLICA_SET = type("ReplicaSet");
const POD = type("Pod");

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

export function isPodReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some(
    (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
  );
}

export function ownedBy(o: KubeObject, owner: KubeObject): boolean {
  return (o.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller);
}

export function ownerRef(owner: KubeObject) {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export class WorkloadControllers {
  private readonly pending = new Set<string>();
  private scheduled = false;
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly store: ObjectStore) {}

  start(): void {
    const enqueueAll = () => {
      for (const d of this.store.list(DEPLOYMENT, undefined))
        this.enqueue(`d/${d.metadata.namespace}/${d.metadata.name}`);
      for (const rs of this.store.list(REPLICA_SET, undefined))
        this.enqueue(`rs/${rs.metadata.namespace}/${rs.metadata.name}`);
    };
    this.unsubscribe = [
      this.store.onChange(DEPLOYMENT, (e) =>
        this.enqueue(`d/${e.object.metadata.namespace}/${e.object.metadata.name}`),
      ),
      this.store.onChange(REPLICA_SET, (e) => {
        this.enqueue(`rs/${e.object.metadata.namespace}/${e.object.metadata.name}`);
        this.enqueueOwner(e.object);
      }),
      this.store.onChange(POD, (e) => {
        if (!e.object.spec?.nodeName && e.type !== "DELETED")
          this.enqueue(`pod/${e.object.metadata.namespace}/${e.object.metadata.name}`);
        this.enqueueOwner(e.object);
      }),
    ];
    enqueueAll();
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
  }

  private enqueueOwner(o: KubeObject): void {
    for (const ref of o.metadata.ownerReferences ?? []) {
      if (ref.kind === "ReplicaSet") this.enqueue(`rs/${o.metadata.namespace}/${ref.name}`);
      if (ref.kind === "Deployment") this.enqueue(`d/${o.metadata.namespace}/${ref.name}`);
    }
  }

  private enqueue(key: string): void {
    this.pending.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      const [kind, namespace, name] = key.split("/") as [string, string, string];
      try {
        if (kind === "d") this.syncDeployment(namespace, name);
        else if (kind === "rs") this.syncReplicaSet(namespace, name);
        else this.schedule(namespace, name);
      } catch (err) {
        // A conflict means another writer got there first: the watch brings the object back.
        if (!(err instanceof ApiError && (err.code === 409 || err.code === 404))) throw err;
        if (err.code === 409) this.enqueue(key);
      }
    }
  }

  /** One node: every pod is bound to it. */
  private schedule(namespace: string, name: string): void {
    const pod = this.store.find(POD, namespace, name);
    if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp) return;
    pod.spec.nodeName = NODE_NAME;
    const bound = this.store.update(POD, pod);
    bound.status = {
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: now() }],
      qosClass: "BestEffort",
    };
    this.store.update(POD, bound, { status: true });
  }

  private syncDeployment(namespace: string, name: string): void {
    let d = this.store.find(DEPLOYMENT, namespace, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const hash = templateHash(d.spec.template);
    const sets = this.store.list(REPLICA_SET, namespace).filter((rs) => ownedBy(rs, d!));
    let current = sets.find((rs) => rs.metadata.labels?.["pod-template-hash"] === hash);
    const old = sets.filter((rs) => rs !== current).sort((a, b) => revisionOf(a) - revisionOf(b));
    const desired = d.spec.replicas ?? 1;
    const pods = this.store.list(POD, namespace).filter((p) => sets.some((rs) => ownedBy(p, rs)));
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const oldPods = pods.filter((p) => !current || !ownedBy(p, current));
    const recreate = (d.spec.strategy?.type ?? "RollingUpdate") === "Recreate";
    const newestOld = Math.max(0, ...old.map(revisionOf));
    const oldReplicas = old.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    if (!current) {
      current = this.store.create(REPLICA_SET, {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `${name}-${hash}`,
          namespace,
          labels: { ...d.spec.template.metadata?.labels, "pod-template-hash": hash },
          annotations: {
            "deployment.kubernetes.io/desired-replicas": String(desired),
            "deployment.kubernetes.io/max-replicas": String(desired + maxSurgeOf(d)),
            "deployment.kubernetes.io/revision": String(newestOld + 1),
          },
          ownerReferences: [ownerRef(d)],
        },
        spec: {
          replicas: 0,
          selector: { matchLabels: { ...d.spec.selector.matchLabels, "pod-template-hash": hash } },
          template: {
            ...d.spec.template,
            metadata: {
              ...d.spec.template.metadata,
              labels: { ...d.spec.template.metadata?.labels, "pod-template-hash": hash },
            },
          },
        },
      });
    } else if (revisionOf(current) <= newestOld) {
      // A rollback to an older template: its ReplicaSet becomes the newest revision again.
      current = this.store.update(REPLICA_SET, {
        ...current,
        metadata: {
          ...current.metadata,
          annotations: {
            ...current.metadata.annotations,
            "deployment.kubernetes.io/revision": String(newestOld + 1),
          },
        },
      });
    }
    const revision = current.metadata.annotations?.["deployment.kubernetes.io/revision"];
    if (revision && d.metadata.annotations?.["deployment.kubernetes.io/revision"] !== revision) {
      d = this.store.update(DEPLOYMENT, {
        ...d,
        metadata: {
          ...d.metadata,
          annotations: { ...d.metadata.annotations, "deployment.kubernetes.io/revision": revision },
        },
      });
    }
    const ready = (rs: KubeObject) => live.filter((p) => ownedBy(p, rs) && isPodReady(p)).length;
    let target: number;
    if (recreate) {
      // Recreate: the old ReplicaSets go to zero first; the new one scales up once their pods are gone.
      for (const rs of old) this.scaleReplicaSet(d, rs, 0);
      target = oldPods.length === 0 ? desired : 0;
    } else if (oldReplicas === 0) {
      target = desired;
    } else {
      // RollingUpdate: at most desired + maxSurge pods, at least desired - maxUnavailable available.
      const total = oldReplicas + (current.spec.replicas ?? 0);
      const room = desired + maxSurgeOf(d) - total;
      target = Math.min(desired, (current.spec.replicas ?? 0) + Math.max(0, room));
    }
    if ((current.spec.replicas ?? 0) !== target) current = this.scaleReplicaSet(d, current, target);
    if (!recreate && oldReplicas > 0) {
      const minAvailable = desired - maxUnavailableOf(d);
      const all = oldReplicas + (current.spec.replicas ?? 0);
      const newUnavailable = Math.max(0, (current.spec.replicas ?? 0) - ready(current));
      const oldUnready = old.reduce((n, rs) => n + Math.max(0, (rs.spec.replicas ?? 0) - ready(rs)), 0);
      let canScaleDown = Math.max(all - minAvailable - newUnavailable, oldUnready);
      for (const rs of old) {
        const take = Math.min(rs.spec.replicas ?? 0, canScaleDown);
        if (take <= 0) continue;
        this.scaleReplicaSet(d, rs, (rs.spec.replicas ?? 0) - take);
        canScaleDown -= take;
      }
    }
    this.pruneHistory(d, old);
    this.writeDeploymentStatus(d, current, pods);
  }

  /** Scales a ReplicaSet and records the ScalingReplicaSet event the deployment controller emits. */
  private scaleReplicaSet(d: KubeObject, rs: KubeObject, replicas: number): KubeObject {
    const from = rs.spec.replicas ?? 0;
    if (from === replicas) return rs;
    const scaled = this.store.update(REPLICA_SET, {
      ...rs,
      metadata: {
        ...rs.metadata,
        annotations: {
          ...rs.metadata.annotations,
          "deployment.kubernetes.io/desired-replicas": String(d.spec.replicas ?? 1),
        },
      },
      spec: { ...rs.spec, replicas },
    });
    const verb = replicas > from ? "up" : "down";
    recordEvent(
      this.store,
      d,
      "ScalingReplicaSet",
      `Scaled ${verb} replica set ${rs.metadata.name} to ${replicas} from ${from}`,
      "deployment-controller",
    );
    return scaled;
  }

  /** Old ReplicaSets scaled to zero beyond spec.revisionHistoryLimit go, oldest first. */
  private pruneHistory(d: KubeObject, old: KubeObject[]): void {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const idle = old.filter((rs) => (rs.spec.replicas ?? 0) === 0 && !(rs.status?.replicas > 0));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      this.store.delete(REPLICA_SET, rs.metadata.namespace, rs.metadata.name);
    }
  }

  private writeDeploymentStatus(d: KubeObject, current: KubeObject, pods: KubeObject[]): void {
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const updated = live.filter((p) => ownedBy(p, current));
    const ready = live.filter(isPodReady);
    const desired = d.spec.replicas ?? 1;
    const available = ready.length >= desired;
    const complete = updated.length === desired && ready.length === desired && live.length === desired;
    const previous = (d.status?.conditions ?? []) as {
      type: string;
      status: string;
      lastTransitionTime: string;
      reason: string;
    }[];
    const condition = (t: string, status: string, reason: string, message: string) => {
      const before = previous.find((c) => c.type === t);
      const changed = !before || before.status !== status;
      return {
        type: t,
        status,
        lastUpdateTime:
          changed || before?.reason !== reason
            ? now()
            : (before as { lastUpdateTime?: string }).lastUpdateTime,
        lastTransitionTime: changed ? now() : before!.lastTransitionTime,
        reason,
        message,
      };
    };
    const status: Record<string, unknown> = {
      observedGeneration: d.metadata.generation,
      replicas: live.length,
      updatedReplicas: updated.length,
      readyReplicas: ready.length,
      availableReplicas: ready.length,
      ...(live.length - ready.length > 0 ? { unavailableReplicas: live.length - ready.length } : {}),
      conditions: [
        condition(
          "Available",
          available ? "True" : "False",
          available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
          available
            ? "Deployment has minimum availability."
            : "Deployment does not have minimum availability.",
        ),
        condition(
          "Progressing",
          "True",
          complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
          complete
            ? `ReplicaSet "${current.metadata.name}" has successfully progressed.`
            : `ReplicaSet "${current.metadata.name}" is progressing.`,
        ),
      ],
    };
    for (const k of ["readyReplicas", "availableReplicas", "updatedReplicas", "replicas"])
      if (status[k] === 0) delete status[k];
    const next = { ...d, status };
    this.store.update(DEPLOYMENT, next, { status: true });
  }

  private syncReplicaSet(namespace: string, name: string): void {
    const rs = this.store.find(REPLICA_SET, namespace, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const pods = this.store
      .list(POD, namespace)
      .filter((p) => ownedBy(p, rs) && matchLabels(rs.spec.selector.matchLabels, p.metadata.labels));
    const live = pods.filter(
      (p) => !p.metadata.deletionTimestamp && p.status?.phase !== "Failed" && p.status?.phase !== "Succeeded",
    );
    const want = rs.spec.replicas ?? 1;
    for (let i = live.length; i < want; i++) {
      this.store.create(POD, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          ...structuredClone(rs.spec.template.metadata ?? {}),
          name: `${name}-${randomBytes(3).toString("hex").slice(0, 5)}`,
          namespace,
          ownerReferences: [ownerRef(rs)],
        },
        spec: structuredClone(rs.spec.template.spec),
      });
    }
    const extra = live.slice(want);
    for (const p of extra) this.store.delete(POD, namespace, p.metadata.name);
    const kept = live.slice(0, want);
    const ready = kept.filter(isPodReady).length;
    const status = {
      replicas: kept.length,
      fullyLabeledReplicas: kept.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    if (JSON.stringify(rs.status) !== JSON.stringify(status))
      this.store.update(REPLICA_SET, { ...rs, status }, { status: true });
  }
}

const revisionOf = (rs: KubeObject) =>
  Number(rs.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0);

/** An int-or-percent of the desired replicas, rounded as the deployment controller rounds it. */
function resolveIntOrPercent(v: unknown, desired: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  const pct = Number(String(v ?? "25%").replace("%", ""));
  const exact = (pct * desired) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function maxSurgeOf(d: KubeObject): number {
  if ((d.spec.strategy?.type ?? "RollingUpdate") !== "RollingUpdate") return 0;
  return resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxSurge, d.spec.replicas ?? 1, true);
}

function maxUnavailableOf(d: KubeObject): number {
  const desired = d.spec.replicas ?? 1;
  const unavailable = resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxUnavailable, desired, false);
  // Both zero would never progress; the controller then lets one pod be unavailable.
  return unavailable === 0 && maxSurgeOf(d) === 0 ? 1 : unavailable;
}

/** An Event about an object, as a controller records it (kubectl describe and get events read them). */
export function recordEvent(
  store: ObjectStore,
  about: KubeObject,
  reason: string,
  message: string,
  component: string,
): void {
  try {
    store.create(type("Event"), {
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        name: `${about.metadata.name}.${randomBytes(8).toString("hex")}`,
        namespace: about.metadata.namespace,
      },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.metadata.name,
        namespace: about.metadata.namespace,
        uid: about.metadata.uid,
        resourceVersion: about.metadata.resourceVersion,
      },
      reason,
      message,
      type: "Normal",
      source: { component },
      reportingComponent: component,
      firstTimestamp: now(),
      lastTimestamp: now(),
      count: 1,
    });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  }
}

/** JSON with object keys sorted, so equal templates hash alike whatever order their fields arrived in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** pod-template-hash: a stable short hash of the pod template. */
export function templateHash(template: unknown): string {
  const hex = createHash("sha256").update(canonical(template)).digest("hex");
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let out = "";
  for (let i = 0; i < 10; i++)
    out += alphabet[Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return out;
}
