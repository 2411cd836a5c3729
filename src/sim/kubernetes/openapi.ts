// /openapi/v2 and /openapi/v3 for the served kinds, built from the same upstream protobuf definitions the simulator
// decodes with: each message becomes a schema named as Kubernetes names it (io.k8s.api.apps.v1.DeploymentSpec), with
// the field comments as descriptions and the `+optional`, `+patchMergeKey`, `+listType` tags as kube-openapi turns
// them into `required` and `x-kubernetes-*` extensions. kubectl explain and kubectl's field validation read these.
// biome-ignore-all lint/suspicious/noExplicitAny: OpenAPI documents are free-form JSON
import { createHash } from "node:crypto";
import protobuf from "protobufjs";
import { SERVER_VERSION } from "./discovery.ts";
import { encodeOpenApiV2 } from "./openapi-v2-protobuf.ts";
import { INLINE_FIELDS, messageType, SPECIAL } from "./protobuf.ts";
import { apiVersionOf, RESOURCE_TYPES, type ResourceType } from "./resources.ts";

type Ref = (name: string) => string;

/** Kubernetes' schema name of a protobuf message: k8s.io.api.apps.v1.Deployment → io.k8s.api.apps.v1.Deployment. */
function schemaName(type: protobuf.Type): string {
  return type.fullName.replace(/^\.k8s\.io\./, "io.k8s.");
}

function description(comment: string | null | undefined): string | undefined {
  if (!comment) return undefined;
  // Go doc comments wrap lines within a paragraph; OpenAPI descriptions join them and keep paragraph breaks.
  const text = comment
    .split("\n")
    .filter((l) => !l.trim().startsWith("+") && !l.includes("TODO"))
    .map((l) => l.trim())
    .join("\n")
    .split(/\n{2,}/)
    .map((p) => p.replace(/\n/g, " "))
    .join("\n\n")
    .trim();
  return text || undefined;
}

function tags(comment: string | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (comment ?? "").split("\n")) {
    const m = line.trim().match(/^\+([\w.-]+)(?:=(.*))?$/);
    if (m) out.set(m[1]!, m[2] ?? "");
  }
  return out;
}

const SPECIAL_SCHEMAS: Record<string, Record<string, unknown>> = {
  time: { type: "string", format: "date-time" },
  duration: { type: "string" },
  quantity: { type: "string" },
  "int-or-string": { type: "string", format: "int-or-string", "x-kubernetes-int-or-string": true },
  raw: { type: "object" },
  fields: { type: "object" },
};

/** Every schema reachable from `roots`, keyed by Kubernetes' schema name. */
function schemas(roots: protobuf.Type[], ref: Ref, v3: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const pending = [...roots];
  while (pending.length) {
    const type = pending.pop()!;
    const name = schemaName(type);
    if (out[name]) continue;
    const special = SPECIAL[type.fullName];
    if (special) {
      out[name] = { description: description(type.comment), ...SPECIAL_SCHEMAS[special] };
      continue;
    }
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    const addFields = (t: protobuf.Type) => {
      for (const field of t.fieldsArray) {
        const nested = field.resolvedType;
        if (INLINE_FIELDS.has(field.name) && nested instanceof protobuf.Type && !field.repeated) {
          addFields(nested);
          continue;
        }
        if (nested instanceof protobuf.Type) pending.push(nested);
        const fieldTags = tags(field.comment);
        if (!fieldTags.has("optional")) required.push(field.name);
        properties[field.name] = fieldSchema(field, fieldTags, ref, v3);
      }
    };
    addFields(type);
    out[name] = {
      description: description(type.comment),
      type: "object",
      properties,
      ...(required.length ? { required: required.sort() } : {}),
    };
  }
  return out;
}

function fieldSchema(field: protobuf.Field, fieldTags: Map<string, string>, ref: Ref, v3: boolean) {
  const nested = field.resolvedType;
  let item: Record<string, unknown>;
  if (nested instanceof protobuf.Type)
    item = v3 ? { allOf: [{ $ref: ref(schemaName(nested)) }] } : { $ref: ref(schemaName(nested)) };
  else if (field.type === "bytes") item = { type: "string", format: "byte" };
  else if (field.type === "bool") item = { type: "boolean" };
  else if (field.type === "string") item = { type: "string" };
  else if (field.type === "double" || field.type === "float") item = { type: "number", format: "double" };
  else item = { type: "integer", format: field.type === "int32" ? "int32" : "int64" };
  const extensions: Record<string, unknown> = {};
  const mergeKey = fieldTags.get("patchMergeKey");
  if (mergeKey) extensions["x-kubernetes-patch-merge-key"] = mergeKey;
  const strategy = fieldTags.get("patchStrategy");
  if (strategy) extensions["x-kubernetes-patch-strategy"] = strategy;
  const listType = fieldTags.get("listType");
  if (listType) extensions["x-kubernetes-list-type"] = listType;
  const mapKeys = [...(field.comment ?? "").matchAll(/\+listMapKey=(\S+)/g)].map((m) => m[1]);
  if (mapKeys.length) extensions["x-kubernetes-list-map-keys"] = mapKeys;
  const doc = description(field.comment);
  const base = doc ? { description: doc } : {};
  if (field.map) return { ...base, type: "object", additionalProperties: item, ...extensions };
  if (field.repeated) return { ...base, type: "array", items: item, ...extensions };
  return { ...base, ...item, ...extensions };
}

const kindType = (rt: ResourceType) => messageType(apiVersionOf(rt), rt.kind);
const gvkOf = (rt: ResourceType) => ({ group: rt.group, kind: rt.kind, version: rt.version });

/** A kind's schema also has TypeMeta's fields (not part of its protobuf message) and names its group version kind. */
function withGvk(defs: Record<string, any>, types: ResourceType[]): void {
  for (const rt of types) {
    const t = kindType(rt);
    const def = t && defs[schemaName(t)];
    if (!def) continue;
    def.properties = { ...TYPE_META, ...def.properties };
    def["x-kubernetes-group-version-kind"] = [gvkOf(rt)];
  }
}

const TYPE_META = {
  apiVersion: {
    description:
      "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    type: "string",
  },
  kind: {
    description:
      "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    type: "string",
  },
};

const FIELD_VALIDATION = {
  name: "fieldValidation",
  in: "query",
  description:
    "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields: Ignore, Warn (the default) or Strict.",
  schema: { type: "string", uniqueItems: true },
};

let v2Cache: unknown;
const v3Cache = new Map<string, unknown>();

/** /openapi/v2: Swagger 2.0 with every served kind's schema. */
export function openApiV2Document() {
  if (v2Cache) return v2Cache;
  const roots = RESOURCE_TYPES.map(kindType).filter((t): t is protobuf.Type => !!t);
  const definitions = schemas(roots, (n) => `#/definitions/${n}`, false);
  withGvk(definitions, RESOURCE_TYPES);
  v2Cache = {
    swagger: "2.0",
    info: { title: "Kubernetes", version: SERVER_VERSION.gitVersion },
    paths: {},
    definitions,
  };
  return v2Cache;
}

let v2ProtobufCache: Buffer | undefined;

/** /openapi/v2 as gnostic's protobuf, what kubectl's client-side validation asks for. */
export function openApiV2Protobuf(): Buffer {
  v2ProtobufCache ??= encodeOpenApiV2(openApiV2Document() as Parameters<typeof encodeOpenApiV2>[0]);
  return v2ProtobufCache;
}

/** /openapi/v3: one document per group version. */
export function openApiV3Index() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of new Set(RESOURCE_TYPES.map(apiVersionOf))) {
    const p = gv.includes("/") ? `apis/${gv}` : `api/${gv}`;
    const [group, version] = gv.includes("/") ? gv.split("/") : ["", gv];
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${documentHash(group!, version!)}` };
  }
  return { paths };
}

function documentHash(group: string, version: string): string {
  return createHash("sha512")
    .update(JSON.stringify(openApiV3Document(group, version)))
    .digest("hex")
    .slice(0, 128)
    .toUpperCase();
}

/** An OpenAPI 3 document for one group version: its kinds' paths and schemas. */
export function openApiV3Document(group: string, version: string) {
  const key = `${group}/${version}`;
  if (v3Cache.has(key)) return v3Cache.get(key);
  const types = RESOURCE_TYPES.filter((r) => r.group === group && r.version === version);
  if (!types.length) return undefined;
  const ref: Ref = (n) => `#/components/schemas/${n}`;
  const roots = types.map(kindType).filter((t): t is protobuf.Type => !!t);
  const components = schemas(roots, ref, true);
  withGvk(components, types);
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, unknown> = {};
  for (const rt of types) {
    const t = kindType(rt);
    if (!t) continue;
    const body = { content: { "application/json": { schema: { $ref: ref(schemaName(t)) } } } };
    const op = (verb: string, withBody = false) => ({
      operationId: `${verb}${rt.group ? rt.group.split(".")[0] : "Core"}${rt.version}${rt.kind}`,
      "x-kubernetes-action": verb,
      "x-kubernetes-group-version-kind": gvkOf(rt),
      parameters: [FIELD_VALIDATION],
      ...(withBody ? { requestBody: body } : {}),
      responses: { "200": { description: "OK", ...body } },
    });
    const collection = rt.namespaced
      ? `${prefix}/namespaces/{namespace}/${rt.plural}`
      : `${prefix}/${rt.plural}`;
    paths[`${collection}/{name}`] = {
      get: op("get"),
      put: op("put", true),
      patch: op("patch", true),
      delete: op("delete"),
    };
    paths[collection] = { get: op("list"), post: op("post", true) };
  }
  const doc = {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas: components },
  };
  v3Cache.set(key, doc);
  return doc;
}
