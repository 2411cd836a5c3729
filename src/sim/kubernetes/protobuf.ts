// Kubernetes' protobuf wire format (application/vnd.kubernetes.protobuf) for the served kinds, from the upstream
// generated.proto files: objects travel as the 4-byte magic `k8s\0` followed by a runtime.Unknown envelope whose
// `raw` is the object's message; watch streams carry length-prefixed WatchEvents without the envelope.
// biome-ignore-all lint/suspicious/noExplicitAny: converts between arbitrary JSON and protobufjs plain objects
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

export const PROTOBUF = "application/vnd.kubernetes.protobuf";
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const PROTO_DIR = fileURLToPath(new URL("../../../schemas/kubernetes-proto/", import.meta.url));

const META = "k8s.io.apimachinery.pkg.apis.meta.v1";
/** The protobuf package of each API group the simulator serves. */
const PACKAGES: Record<string, string> = {
  "": "k8s.io.api.core.v1",
  apps: "k8s.io.api.apps.v1",
  "networking.k8s.io": "k8s.io.api.networking.v1",
  autoscaling: "k8s.io.api.autoscaling.v1",
  "authorization.k8s.io": "k8s.io.api.authorization.v1",
  "authentication.k8s.io": "k8s.io.api.authentication.v1",
  "discovery.k8s.io": "k8s.io.api.discovery.v1",
  policy: "k8s.io.api.policy.v1",
  batch: "k8s.io.api.batch.v1",
  "meta.k8s.io": META,
};
const FILES = [
  "k8s.io/api/core/v1/generated.proto",
  "k8s.io/api/apps/v1/generated.proto",
  "k8s.io/api/networking/v1/generated.proto",
  "k8s.io/api/autoscaling/v1/generated.proto",
  "k8s.io/api/authorization/v1/generated.proto",
  "k8s.io/api/authentication/v1/generated.proto",
  "k8s.io/api/discovery/v1/generated.proto",
  "k8s.io/api/policy/v1/generated.proto",
  "k8s.io/api/batch/v1/generated.proto",
];

// Messages whose JSON form is not an object of their fields (apimachinery's custom marshalers).
const TIME = `.${META}.Time`;
const MICRO_TIME = `.${META}.MicroTime`;
const DURATION = `.${META}.Duration`;
const FIELDS_V1 = `.${META}.FieldsV1`;
const QUANTITY = ".k8s.io.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING = ".k8s.io.apimachinery.pkg.util.intstr.IntOrString";
const RAW_EXTENSION = ".k8s.io.apimachinery.pkg.runtime.RawExtension";
/** How the special messages look in JSON, for the decoder and the OpenAPI documents. */
export const SPECIAL: Record<string, "time" | "duration" | "quantity" | "int-or-string" | "raw" | "fields"> =
  {
    [TIME]: "time",
    [MICRO_TIME]: "time",
    [DURATION]: "duration",
    [QUANTITY]: "quantity",
    [INT_OR_STRING]: "int-or-string",
    [RAW_EXTENSION]: "raw",
    [FIELDS_V1]: "fields",
  };
/** Go's zero time.Time in Unix seconds. */
const ZERO_TIME_SECONDS = -62135596800;

/**
 * Go pointer fields whose zero value means something (`replicas: 0`, `runAsUser: 0`, `automountServiceAccountToken:
 * false`). Go writes every non-pointer field, zero or not, to protobuf, but leaves zero values out of JSON
 * (omitempty); on the wire the two look alike, so zeros are dropped except in these fields.
 */
const MEANINGFUL_ZERO = new Set([
  "replicas",
  "revisionHistoryLimit",
  "terminationGracePeriodSeconds",
  "gracePeriodSeconds",
  "activeDeadlineSeconds",
  "runAsUser",
  "runAsGroup",
  "fsGroup",
  "runAsNonRoot",
  "readOnlyRootFilesystem",
  "privileged",
  "allowPrivilegeEscalation",
  "automountServiceAccountToken",
  "enableServiceLinks",
  "shareProcessNamespace",
  "setHostnameAsFQDN",
  "hostUsers",
  "immutable",
  "optional",
  "defaultMode",
  "mode",
  "orphanDependents",
  "controller",
  "blockOwnerDeletion",
  "allowed",
  "denied",
  "ready",
  "started",
  "restartCount",
]);

/** Go structs embedded with `json:",inline"`: a field of their own in protobuf, their fields in the parent in JSON. */
export const INLINE_FIELDS = new Set([
  "volumeSource",
  "persistentVolumeSource",
  "ephemeralContainerCommon",
  "localObjectReference",
  "ingressRuleValue",
  "handler",
]);

let root: protobuf.Root | undefined;

export function schema(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => `${PROTO_DIR}${target}`;
  r.loadSync(FILES, { keepCase: true, alternateCommentMode: true });
  r.resolveAll();
  root = r;
  return r;
}

/** The message type of a kind (`apps/v1`, `Deployment`), or undefined when the simulator has none. */
export function messageType(apiVersion: string, kind: string): protobuf.Type | undefined {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
  const pkgs = [PACKAGES[group], META].filter(Boolean) as string[];
  for (const pkg of pkgs) {
    const t = schema().lookup(`${pkg}.${kind}`);
    if (t instanceof protobuf.Type) return t;
  }
  return undefined;
}

export class ProtobufError extends Error {}

/** `k8s\0` + runtime.Unknown{typeMeta, raw}: the body of a protobuf request or response. */
export function encodeObject(o: { apiVersion?: string; kind?: string; [field: string]: unknown }): Buffer {
  const apiVersion = o.apiVersion ?? "";
  const kind = o.kind ?? "";
  const type = messageType(apiVersion, kind);
  if (!type) throw new ProtobufError(`no protobuf serialization for ${apiVersion} ${kind}`);
  const raw = type.encode(type.fromObject(toProto(type, o))).finish();
  const unknown = schema().lookupType("k8s.io.apimachinery.pkg.runtime.Unknown");
  const envelope = unknown.encode(
    unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: "", contentType: "" }),
  );
  return Buffer.concat([MAGIC, envelope.finish()]);
}

/** Decodes a `k8s\0`-prefixed body into the object's JSON form, with apiVersion and kind from the envelope. */
export function decodeObject(body: Uint8Array): Record<string, any> {
  if (body.length < 4 || !MAGIC.equals(Buffer.from(body.subarray(0, 4)))) {
    throw new ProtobufError(
      "provided object is not a Kubernetes protobuf object: the k8s\\0 prefix is missing",
    );
  }
  const unknownType = schema().lookupType("k8s.io.apimachinery.pkg.runtime.Unknown");
  let unknown: any;
  try {
    unknown = unknownType.toObject(unknownType.decode(body.subarray(4)), { bytes: Buffer as any });
  } catch (err) {
    throw new ProtobufError(`the runtime.Unknown envelope could not be decoded: ${(err as Error).message}`);
  }
  const apiVersion: string = unknown.typeMeta?.apiVersion ?? "";
  const kind: string = unknown.typeMeta?.kind ?? "";
  const type = messageType(apiVersion, kind);
  if (!type) throw new ProtobufError(`no kind "${kind}" is registered for version "${apiVersion}"`);
  let message: protobuf.Message;
  try {
    message = type.decode(unknown.raw ?? new Uint8Array());
  } catch (err) {
    throw new ProtobufError(`${kind} could not be decoded: ${(err as Error).message}`);
  }
  const plain = type.toObject(message, { longs: Number, bytes: String, defaults: false });
  return { apiVersion, kind, ...fromProto(type, plain) };
}

/** One watch event as a protobuf stream frame: 4-byte big-endian length, then the WatchEvent without envelope. */
export function encodeWatchFrame(
  type: string,
  object: { apiVersion?: string; kind?: string; [field: string]: unknown },
): Buffer {
  const event = schema().lookupType(`${META}.WatchEvent`);
  const bytes = event.encode(event.fromObject({ type, object: { raw: encodeObject(object) } })).finish();
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Splits a protobuf watch stream into events (the client side of encodeWatchFrame). */
export function decodeWatchFrames(stream: Buffer): { type: string; object: Record<string, any> }[] {
  const event = schema().lookupType(`${META}.WatchEvent`);
  const out: { type: string; object: Record<string, any> }[] = [];
  let at = 0;
  while (at + 4 <= stream.length) {
    const length = stream.readUInt32BE(at);
    if (at + 4 + length > stream.length) break;
    const e = event.toObject(event.decode(stream.subarray(at + 4, at + 4 + length)), {
      bytes: Buffer as any,
    }) as any;
    out.push({ type: e.type, object: decodeObject(e.object.raw) });
    at += 4 + length;
  }
  return out;
}

function toProto(type: protobuf.Type, value: any): any {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  const out: Record<string, any> = {};
  for (const field of type.fieldsArray) {
    if (isInline(field)) out[field.name] = toProto(field.resolvedType as protobuf.Type, value);
  }
  for (const [name, v] of Object.entries(value)) {
    const field = Object.hasOwn(type.fields, name) ? type.fields[name] : undefined;
    if (!field || v === null || v === undefined || isInline(field)) continue;
    const convert = (item: any) => fieldToProto(field, item);
    if (field.map) {
      out[name] = Object.fromEntries(Object.entries(v as object).map(([k, item]) => [k, convert(item)]));
    } else if (field.repeated) out[name] = Array.isArray(v) ? v.map(convert) : [];
    else out[name] = convert(v);
  }
  return out;
}

function isInline(field: protobuf.Field): boolean {
  return INLINE_FIELDS.has(field.name) && field.resolvedType instanceof protobuf.Type && !field.repeated;
}

function fieldToProto(field: protobuf.Field, v: any): any {
  const t = field.resolvedType;
  if (!(t instanceof protobuf.Type)) return v;
  switch (t.fullName) {
    case TIME:
    case MICRO_TIME:
      return timeToProto(String(v));
    case QUANTITY:
      return { string: String(v) };
    case INT_OR_STRING:
      return typeof v === "number" ? { type: 0, intVal: v } : { type: 1, strVal: String(v) };
    case RAW_EXTENSION:
      return { raw: Buffer.from(JSON.stringify(v)) };
    case FIELDS_V1:
      return { Raw: Buffer.from(JSON.stringify(v)) };
    case DURATION:
      return { duration: durationNanos(String(v)) };
    default:
      return toProto(t, v);
  }
}

function fromProto(type: protobuf.Type, value: any): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [name, v] of Object.entries(value ?? {})) {
    const field = Object.hasOwn(type.fields, name) ? type.fields[name] : undefined;
    if (!field) continue;
    if (isInline(field)) {
      Object.assign(out, fromProto(field.resolvedType as protobuf.Type, v));
      continue;
    }
    const convert = (item: any) => fieldFromProto(field, item);
    if (field.map) {
      out[name] = Object.fromEntries(Object.entries(v as object).map(([k, item]) => [k, convert(item)]));
      continue;
    }
    if (field.repeated) {
      out[name] = (v as any[]).map(convert);
      continue;
    }
    const converted = convert(v);
    if (converted === undefined) continue;
    const zero = converted === "" || converted === 0 || converted === false;
    if (zero && !MEANINGFUL_ZERO.has(name)) continue;
    out[name] = converted;
  }
  return out;
}

function fieldFromProto(field: protobuf.Field, v: any): any {
  const t = field.resolvedType;
  if (!(t instanceof protobuf.Type)) return v;
  switch (t.fullName) {
    case TIME:
    case MICRO_TIME: {
      // apimachinery writes the zero time as an empty message (older writers: Go's zero seconds); JSON omits it.
      if (v.seconds === undefined || Number(v.seconds) === ZERO_TIME_SECONDS) return undefined;
      return timeFromProto(Number(v.seconds), Number(v.nanos ?? 0), t.fullName === MICRO_TIME);
    }
    case QUANTITY:
      return v.string ?? "0";
    case INT_OR_STRING:
      return Number(v.type ?? 0) === 1 ? (v.strVal ?? "") : (v.intVal ?? 0);
    case RAW_EXTENSION:
    case FIELDS_V1: {
      const raw = Buffer.from(v.raw ?? v.Raw ?? "", "base64").toString("utf8");
      return raw ? JSON.parse(raw) : {};
    }
    case DURATION:
      return formatDuration(Number(v.duration ?? 0));
    default:
      return fromProto(t, v);
  }
}

function timeToProto(text: string): { seconds: number; nanos: number } {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ProtobufError(`"${text}" is not an RFC 3339 time`);
  const fraction = text.match(/\.(\d+)/)?.[1] ?? "";
  return { seconds: Math.floor(ms / 1000), nanos: Number(fraction.padEnd(9, "0").slice(0, 9)) };
}

function timeFromProto(seconds: number, nanos: number, micro: boolean): string {
  const base = new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "");
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`;
}

const UNIT_NANOS: Record<string, number> = { h: 3.6e12, m: 6e10, s: 1e9, ms: 1e6, us: 1e3, µs: 1e3, ns: 1 };

function durationNanos(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/([\d.]+)(h|ms|m|s|us|µs|ns)/g))
    total += Number(n) * UNIT_NANOS[unit!]!;
  return Math.round(total);
}

function formatDuration(nanos: number): string {
  const s = nanos / 1e9;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s - h * 3600 - m * 60;
  if (h) return `${h}h${m}m${rest}s`;
  if (m) return `${m}m${rest}s`;
  return `${rest}s`;
}
