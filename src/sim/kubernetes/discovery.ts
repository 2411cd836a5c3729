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
      verbs: VERBS,
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
    resources.push({ ...pod, name: "pods/exec" }, { ...pod, name: "pods/log", kind: "Pod", verbs: ["get"] });
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

/** /openapi/v3: one document per group version. */
export function openApiV3Index() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of new Set(RESOURCE_TYPES.map(apiVersionOf))) {
    const p = gv.includes("/") ? `apis/${gv}` : `api/${gv}`;
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${OPENAPI_HASH}` };
  }
  return { paths };
}

const OPENAPI_HASH = "0123456789ABCDEF";

const FIELD_VALIDATION = {
  name: "fieldValidation",
  in: "query",
  description: "Strict, Warn or Ignore; the simulator accepts all three and rejects nothing.",
  schema: { type: "string", uniqueItems: true },
};

/** A minimal valid OpenAPI 3 document for one group version: each kind's paths and a free-form schema. */
export function openApiV3Document(group: string, version: string) {
  const types = RESOURCE_TYPES.filter((r) => r.group === group && r.version === version);
  if (!types.length) return undefined;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const rt of types) {
    const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
    const schemaName = `io.wsparity.sim.${rt.group || "core"}.${rt.version}.${rt.kind}`;
    schemas[schemaName] = {
      type: "object",
      description: `${rt.kind} as the simulator stores it.`,
      "x-kubernetes-group-version-kind": [gvk],
      "x-kubernetes-preserve-unknown-fields": true,
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
    };
    const ref = { $ref: `#/components/schemas/${schemaName}` };
    const response = { "200": { description: "OK", content: { "application/json": { schema: ref } } } };
    const op = (verb: string) => ({
      operationId: `${verb}${rt.kind}`,
      "x-kubernetes-action": verb,
      "x-kubernetes-group-version-kind": gvk,
      parameters: [FIELD_VALIDATION],
      responses: response,
    });
    const item = rt.namespaced
      ? `${prefix}/namespaces/{namespace}/${rt.plural}/{name}`
      : `${prefix}/${rt.plural}/{name}`;
    const collection = rt.namespaced
      ? `${prefix}/namespaces/{namespace}/${rt.plural}`
      : `${prefix}/${rt.plural}`;
    paths[item] = { get: op("get"), put: op("put"), patch: op("patch"), delete: op("delete") };
    paths[collection] = { get: op("list"), post: op("post") };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas },
  };
}

/** /openapi/v2: a minimal valid Swagger 2.0 document for the served kinds. */
export function openApiV2Document() {
  const definitions: Record<string, unknown> = {};
  for (const rt of RESOURCE_TYPES) {
    definitions[`io.wsparity.sim.${rt.group || "core"}.${rt.version}.${rt.kind}`] = {
      type: "object",
      "x-kubernetes-group-version-kind": [{ group: rt.group, version: rt.version, kind: rt.kind }],
    };
  }
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: SERVER_VERSION.gitVersion },
    paths: {},
    definitions,
  };
}
