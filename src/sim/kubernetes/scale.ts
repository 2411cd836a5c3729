// The scale subresource of Deployments and ReplicaSets (autoscaling/v1 Scale), which `kubectl scale` uses.
import type { KubeObject } from "../../kubernetes/objects.ts";

export const SCALABLE = new Set(["Deployment", "ReplicaSet"]);

export function scaleOf(o: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = o.metadata;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 1 },
    status: {
      replicas: o.status?.replicas ?? 0,
      selector: Object.entries(o.spec?.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    },
  };
}

/** The object with the replicas a Scale asks for. */
export function withScale(o: KubeObject, scale: KubeObject): KubeObject {
  const replicas = scale.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new Error(`spec.replicas must be a whole number of 0 or more, got ${JSON.stringify(replicas)}`);
  }
  return { ...o, spec: { ...o.spec, replicas } };
}
