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

function ownedBy(o: KubeObject, owner: KubeObject): boolean {
  return (o.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller);
}

function ownerRef(owner: KubeObject) {
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
    const d = this.store.find(DEPLOYMENT, namespace, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const hash = templateHash(d.spec.template);
    const sets = this.store.list(REPLICA_SET, namespace).filter((rs) => ownedBy(rs, d));
    let current = sets.find((rs) => rs.metadata.labels?.["pod-template-hash"] === hash);
    const old = sets.filter((rs) => rs !== current);
    const desired = d.spec.replicas ?? 1;
    const pods = this.store.list(POD, namespace).filter((p) => sets.some((rs) => ownedBy(p, rs)));
    const oldPods = pods.filter((p) => !current || !ownedBy(p, current));
    const recreate = (d.spec.strategy?.type ?? "RollingUpdate") === "Recreate";
    for (const rs of old) {
      if ((rs.spec.replicas ?? 0) !== 0)
        this.store.update(REPLICA_SET, { ...rs, spec: { ...rs.spec, replicas: 0 } });
    }
    // Recreate: the new ReplicaSet scales up only after every old pod is gone.
    const mayScaleUp = !recreate || oldPods.length === 0;
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
            "deployment.kubernetes.io/revision": String(sets.length + 1),
          },
          ownerReferences: [ownerRef(d)],
        },
        spec: {
          replicas: mayScaleUp ? desired : 0,
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
    } else {
      const target = mayScaleUp ? desired : 0;
      if ((current.spec.replicas ?? 0) !== target) {
        current = this.store.update(REPLICA_SET, { ...current, spec: { ...current.spec, replicas: target } });
      }
    }
    this.writeDeploymentStatus(d, current, pods);
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

/** pod-template-hash: a stable short hash of the pod template. */
export function templateHash(template: unknown): string {
  const hex = createHash("sha256").update(JSON.stringify(template)).digest("hex");
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let out = "";
  for (let i = 0; i < 10; i++)
    out += alphabet[Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return out;
}
