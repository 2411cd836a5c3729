// Discovery and OpenAPI documents: what kubectl and client-node read before they talk to a resource.

import { apiVersionOf, RESOURCE_TYPES, type ResourceType } from "./resources.ts";
import { SCALABLE } from "./scale.ts";

export const SERVER_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-wsparity-sim",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.0",
  compiler: "gc",
  platform: "linux/amd64",
};

const IN_CATEGORY_ALL = new Set(["Pod", "Service", "Deployment", "ReplicaSet"]);
const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export function apiVersions(host: string) {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: host }],
  };
}

function groups(): Map<string, ResourceType[]> {
  const out = new Map<string, ResourceType[]>();
  for (const rt of RESOURCE_TYPES) {
    if (!rt.group) continue;
    out.set(apiVersionOf(rt), [...(out.get(apiVersionOf(rt)) ?? []), rt]);
  }
  return out;
}

export function apiGroupList() {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: [...groups().keys()].map((gv) => {
      const [name, version] = gv.split("/") as [string, string];
      return {
        name,
        versions: [{ groupVersion: gv, version }],
        preferredVersion: { groupVersion: gv, version },
      };
    }),
  };
}

export function apiGroup(name: string) {
  const gv = [...groups().keys()].find((k) => k.startsWith(`${name}/`));
  if (!gv) return undefined;
  const version = gv.split("/")[1]!;
  return {
    kind: "APIGroup",
    apiVersion: "v1",
    name,
    versions: [{ groupVersion: gv, version }],
    preferredVersion: { groupVersion: gv, version },
  };
}

export function apiResourceList(group: string, version: string) {
  const types = RESOURCE_TYPES.filter((r) => r.group === group && r.version === version);
  if (!types.length) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const rt of types) {
    resources.push({
      name: rt.plural,
      singularName: rt.singular,
      namespaced: rt.namespaced,
      kind: rt.kind,
      verbs: rt.review ? ["create"] : VERBS,
      ...(rt.shortNames.length ? { shortNames: rt.shortNames } : {}),
      ...(IN_CATEGORY_ALL.has(rt.kind) ? { categories: ["all"] } : {}),
    });
    if (rt.hasStatus) {
      resources.push({
        name: `${rt.plural}/status`,
        singularName: "",
        namespaced: rt.namespaced,
        kind: rt.kind,
        verbs: ["get", "patch", "update"],
      });
    }
    if (SCALABLE.has(rt.kind)) {
      resources.push({
        name: `${rt.plural}/scale`,
        singularName: "",
        namespaced: rt.namespaced,
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: ["get", "patch", "update"],
      });
    }
  }
  const pod = { singularName: "", namespaced: true, kind: "PodExecOptions", verbs: ["create", "get"] };
  if (!group) {
    resources.push(
      { ...pod, name: "pods/exec" },
      { ...pod, name: "pods/attach", kind: "PodAttachOptions" },
      { ...pod, name: "pods/portforward", kind: "PodPortForwardOptions" },
      { ...pod, name: "pods/log", kind: "Pod", verbs: ["get"] },
      { ...pod, name: "pods/ephemeralcontainers", kind: "Pod", verbs: ["get", "patch", "update"] },
    );
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}
