// Decodes a JSON object into a served kind as kube-apiserver's Go decoder does, with the kind's fields and types from
// the upstream protobuf definitions: a wrong type is a 400 with encoding/json's message, unknown fields are dropped and
// reported (fieldValidation Strict: 400 "strict decoding error"; Warn, the default: a warning; Ignore: silently).
// biome-ignore-all lint/suspicious/noExplicitAny: walks arbitrary JSON
import protobuf from "protobufjs";
import { ApiError, badRequest } from "./errors.ts";
import { setOwn } from "./patch.ts";
import { INLINE_FIELDS, messageType, SPECIAL } from "./protobuf.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export interface Decoded<T> {
  object: T;
  /** Paths of the unknown fields that were dropped, as kube-apiserver names them (`spec.containers[0].foo`). */
  unknown: string[];
}

const INT_RANGE: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

interface Walk {
  unknown: string[];
  /** The first type error, as encoding/json keeps it while decoding on. */
  typeError?: string;
  /** The same error as server-side apply's structured-merge-diff words it (`.spec.replicas: expected …`). */
  applyError?: string;
}

/** A kind's request body decoded, or 400 BadRequest as kube-apiserver words it. */
export function decodeKind<T>(
  apiVersion: string,
  kind: string,
  body: unknown,
  validation: FieldValidation,
): Decoded<T> {
  const type = messageType(apiVersion, kind);
  if (!type) return { object: body as T, unknown: [] };
  const walk: Walk = { unknown: [] };
  const version = apiVersion.split("/").pop();
  let object: any;
  if (!isObject(body)) {
    walk.typeError = `json: cannot unmarshal ${jsonType(body)} into Go value of type ${goType(type)}`;
  } else {
    const { apiVersion: av, kind: k, ...rest } = body;
    object = { ...(av === undefined ? {} : { apiVersion: av }), ...(k === undefined ? {} : { kind: k }) };
    Object.assign(object, decodeMessage(type, rest, "", "", walk));
  }
  if (walk.typeError)
    throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${walk.typeError}`);
  if (validation === "Strict" && walk.unknown.length) {
    throw badRequest(`strict decoding error: ${walk.unknown.map((u) => `unknown field "${u}"`).join(", ")}`);
  }
  return { object, unknown: validation === "Ignore" ? [] : walk.unknown };
}

/**
 * Server-side apply's check of an applied configuration against the kind's schema: unknown fields and wrong types are
 * errors whatever fieldValidation says. kube-apiserver returns these as a bare 500 (kubernetes/kubernetes#122480,
 * #139253: `failed to create typed patch object (ns/name; apps/v1, Kind=Deployment): .spec.x: field not declared in
 * schema`).
 */
export function checkApplied(apiVersion: string, kind: string, body: Record<string, any>): void {
  const type = messageType(apiVersion, kind);
  if (!type) return;
  const walk: Walk = { unknown: [] };
  const { apiVersion: _a, kind: _k, ...rest } = body;
  decodeMessage(type, rest, "", "", walk);
  const problem = walk.applyError ?? (walk.unknown[0] && `.${walk.unknown[0]}: field not declared in schema`);
  if (!problem) return;
  const meta = body.metadata ?? {};
  const nn = meta.namespace ? `${meta.namespace}/${meta.name}` : `/${meta.name ?? ""}`;
  const gvk = `${apiVersion.includes("/") ? apiVersion : `/${apiVersion}`}, Kind=${kind}`;
  throw new ApiError(500, "", `failed to create typed patch object (${nn}; ${gvk}): ${problem}`);
}

export function fieldValidationOf(url: URL): FieldValidation {
  const v = url.searchParams.get("fieldValidation");
  if (v === null || v === "") return "Warn";
  if (v === "Strict" || v === "Warn" || v === "Ignore") return v;
  throw new ApiError(
    400,
    "BadRequest",
    `fieldValidation must be one of "Ignore", "Warn", or "Strict", but got "${v}"`,
  );
}

function decodeMessage(
  type: protobuf.Type,
  value: Record<string, any>,
  path: string,
  goPath: string,
  walk: Walk,
) {
  const out: Record<string, any> = {};
  const fields = jsonFields(type);
  for (const [name, v] of Object.entries(value)) {
    const found = fields.get(name);
    const at = path ? `${path}.${name}` : name;
    if (!found) {
      walk.unknown.push(at);
      continue;
    }
    if (v === null || v === undefined) continue;
    const goAt = goPath ? `${goPath}.${name}` : name;
    const decoded = decodeField(found.field, v, at, `${found.owner.name}.${goAt}`, goAt, walk);
    if (decoded !== undefined) out[name] = decoded;
  }
  return out;
}

/** A message's JSON fields, with those of embedded (inline) structs, and the struct that declares each. */
function jsonFields(type: protobuf.Type): Map<string, { field: protobuf.Field; owner: protobuf.Type }> {
  const out = new Map<string, { field: protobuf.Field; owner: protobuf.Type }>();
  for (const field of type.fieldsArray) {
    if (INLINE_FIELDS.has(field.name) && field.resolvedType instanceof protobuf.Type && !field.repeated) {
      for (const [k, v] of jsonFields(field.resolvedType)) out.set(k, v);
    } else out.set(field.name, { field, owner: type });
  }
  return out;
}

function decodeField(field: protobuf.Field, v: any, path: string, where: string, goPath: string, walk: Walk) {
  const fail = (goTypeName: string) => {
    walk.typeError ??= `json: cannot unmarshal ${jsonType(v)} into Go struct field ${where} of type ${goTypeName}`;
    walk.applyError ??= `.${path}: expected ${field.map ? "map" : "list"}, got ${smdType(v)}`;
    return undefined;
  };
  if (field.map) {
    if (!isObject(v)) return fail(`map[string]${elementGoType(field)}`);
    const out: Record<string, any> = {};
    for (const [k, item] of Object.entries(v)) {
      if (item === null) continue;
      const d = decodeValue(field, item, `${path}[${k}]`, where, goPath, walk);
      if (d !== undefined) setOwn(out, k, d);
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(v)) return fail(`[]${elementGoType(field)}`);
    return v.map((item, i) => decodeValue(field, item, `${path}[${i}]`, where, goPath, walk) ?? null);
  }
  return decodeValue(field, v, path, where, goPath, walk);
}

function decodeValue(field: protobuf.Field, v: any, path: string, where: string, goPath: string, walk: Walk) {
  const fail = () => {
    const value = typeof v === "number" ? `number ${v}` : jsonType(v);
    walk.typeError ??= `json: cannot unmarshal ${value} into Go struct field ${where} of type ${elementGoType(field)}`;
    walk.applyError ??= `.${path}: expected ${smdExpected(field)}, got ${smdType(v)}`;
    return undefined;
  };
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) {
    switch (SPECIAL[t.fullName]) {
      case "time":
      case "duration":
        return typeof v === "string" ? v : fail();
      case "quantity":
      case "int-or-string":
        return typeof v === "string" || (typeof v === "number" && Number.isFinite(v)) ? v : fail();
      case "raw":
        return v;
      case "fields":
        return isObject(v) ? v : fail();
    }
    if (!isObject(v)) return fail();
    return decodeMessage(t, v, path, goPath, walk);
  }
  switch (field.type) {
    case "string":
      return typeof v === "string" ? v : fail();
    case "bool":
      return typeof v === "boolean" ? v : fail();
    case "bytes":
      return typeof v === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0 ? v : fail();
    case "double":
    case "float":
      return typeof v === "number" ? v : fail();
    default: {
      const range = INT_RANGE[field.type] ?? INT_RANGE.int64!;
      if (typeof v !== "number" || !Number.isInteger(v) || v < range[0] || v > range[1]) return fail();
      return v;
    }
  }
}

/** Go's name for a protobuf message type: `v1.DeploymentSpec`, `resource.Quantity`, `intstr.IntOrString`. */
export function goType(type: protobuf.Type): string {
  const pkg = type.parent?.name ?? "";
  return `${pkg}.${type.name}`;
}

function elementGoType(field: protobuf.Field): string {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return goType(t);
  const scalar: Record<string, string> = { double: "float64", float: "float32", bytes: "[]uint8" };
  return scalar[field.type] ?? field.type;
}

function smdExpected(field: protobuf.Field): string {
  if (field.resolvedType instanceof protobuf.Type) {
    const special = SPECIAL[field.resolvedType.fullName];
    return special === "quantity" || special === "int-or-string"
      ? "string or number"
      : special
        ? "string"
        : "map";
  }
  if (field.type === "string" || field.type === "bytes") return "string";
  if (field.type === "bool") return "boolean";
  return "numeric (int or float)";
}

function smdType(v: unknown): string {
  if (Array.isArray(v)) return "list";
  if (typeof v === "object" && v !== null) return "map";
  if (typeof v === "boolean") return "boolean";
  return typeof v;
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "object") return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
