// cli-utils' inventory, as agentk's applier keeps it: a ConfigMap (labelled with its inventory id) whose
// data keys name every object applied under it, so what a later apply no longer holds can be pruned.
import type { KubernetesObject } from "@kubernetes/client-node";

export const INVENTORY_ID_LABEL = "cli-utils.sigs.k8s.io/inventory-id";
export const OWNING_INVENTORY_ANNOTATION = "config.k8s.io/owning-inventory";

export interface ObjectRef {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

/** cli-utils' key of an object in an inventory's data: <namespace>_<name>_<group>_<kind>. */
export function inventoryKey(ref: ObjectRef): string {
  return `${ref.namespace}_${ref.name}_${ref.group}_${ref.kind}`;
}

export function parseInventoryKey(key: string): ObjectRef | undefined {
  const parts = key.split("_");
  if (parts.length !== 4 || parts.some((p, i) => p === "" && i !== 2)) return undefined;
  const [namespace, name, group, kind] = parts as [string, string, string, string];
  return { namespace, name, group, kind };
}

export function refOf(o: KubernetesObject, namespace: string): ObjectRef {
  const apiVersion = o.apiVersion ?? "v1";
  return {
    group: apiVersion.includes("/") ? apiVersion.split("/")[0]! : "",
    kind: o.kind ?? "",
    namespace: o.metadata?.namespace ?? namespace,
    name: o.metadata?.name ?? "",
  };
}

/** The apiVersion to address a ref with: the group's version as this config writes it. */
export function apiVersionOf(ref: ObjectRef): string {
  const versions: Record<string, string> = {
    "": "v1",
    apps: "apps/v1",
    "networking.k8s.io": "networking.k8s.io/v1",
  };
  return versions[ref.group] ?? `${ref.group}/v1`;
}
