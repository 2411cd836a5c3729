// Content negotiation as kube-apiserver does it: JSON, YAML and protobuf bodies in, the first acceptable of them out.
import type { IncomingMessage } from "node:http";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { ApiError, badRequest } from "./errors.ts";
import { decodeObject, encodeObject, messageType, PROTOBUF, ProtobufError } from "./protobuf.ts";

export type Format = "json" | "yaml" | "protobuf";

const MEDIA_TYPES: Record<string, Format> = {
  "application/json": "json",
  "application/yaml": "yaml",
  [PROTOBUF]: "protobuf",
};
const ACCEPTED = Object.keys(MEDIA_TYPES).join(", ");
/** kube-apiserver's request body limit (apiserver's `MaxRequestBodyBytes`, 3 MiB). */
export const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

/** The response format for an Accept header, in the client's order of preference; undefined when none is served. */
export function negotiate(accept: string | undefined): Format | undefined {
  if (!accept?.trim()) return "json";
  const offers = accept
    .split(",")
    .map((entry, order) => {
      const [type = "", ...params] = entry.split(";").map((s) => s.trim());
      const q = Number(params.find((p) => p.startsWith("q="))?.slice(2) ?? 1);
      return { type: type.toLowerCase(), q: Number.isNaN(q) ? 0 : q, order };
    })
    .filter((o) => o.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { type } of offers) {
    if (MEDIA_TYPES[type]) return MEDIA_TYPES[type];
    if (type === "*/*" || type === "application/*") return "json";
  }
  return undefined;
}

export const notAcceptable = () =>
  new ApiError(406, "NotAcceptable", `only the following media types are accepted: ${ACCEPTED}`);

export const unsupportedMediaType = (accepted = ACCEPTED) =>
  new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted}`,
  );

export function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * Reads a request body up to kube-apiserver's limit; 413 beyond it. The rest of a refused body is read and
 * dropped for a while, so the client reads the 413 rather than a connection reset.
 */
export function readRaw(req: IncomingMessage): Promise<Buffer> {
  const tooLarge = () => {
    req.removeAllListeners("data");
    req.on("data", () => {});
    setTimeout(() => req.destroy(), 30_000).unref();
    return new ApiError(
      413,
      "RequestEntityTooLarge",
      `Request entity too large: limit is ${MAX_REQUEST_BYTES}`,
    );
  };
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? 0) > MAX_REQUEST_BYTES) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) reject(tooLarge());
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Decodes an object body by its Content-Type (JSON when none is given, as kube-apiserver assumes). */
export function decodeBody(raw: Buffer, mediaType: string): unknown {
  const format = mediaType ? MEDIA_TYPES[mediaType] : "json";
  if (!format) throw unsupportedMediaType();
  if (format === "protobuf") {
    if (!raw.length) return undefined;
    try {
      return decodeObject(raw);
    } catch (err) {
      if (err instanceof ProtobufError) throw badRequest(err.message);
      throw err;
    }
  }
  const text = raw.toString("utf8");
  if (!text.trim()) return undefined;
  if (nestingDepth(text) > MAX_NESTING_DEPTH) {
    throw badRequest("the request body could not be decoded: exceeded max depth");
  }
  try {
    return format === "json" ? JSON.parse(text, withoutPrototype) : parseYaml(text);
  } catch (err) {
    throw badRequest(`the request body could not be decoded: ${(err as Error).message}`);
  }
}

/** A response body in the negotiated format; objects without a protobuf message (discovery documents) stay JSON. */
export function encodeBody(format: Format, body: unknown): { contentType: string; data: string | Buffer } {
  const typed = body as { apiVersion?: string; kind?: string };
  if (format === "protobuf" && typed?.kind && messageType(typed.apiVersion ?? "v1", typed.kind)) {
    return { contentType: PROTOBUF, data: encodeObject({ apiVersion: "v1", ...typed }) };
  }
  if (format === "yaml") return { contentType: "application/yaml", data: stringifyYaml(body) };
  return { contentType: "application/json", data: JSON.stringify(body) };
}

/** Go's encoding/json (which kube-apiserver decodes with) refuses nesting deeper than this. */
const MAX_NESTING_DEPTH = 10_000;

/** The deepest nesting of objects and arrays (flow collections, for YAML) outside strings. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"') quote = c;
    else if (c === "{" || c === "[") max = Math.max(max, ++depth);
    else if (c === "}" || c === "]") depth--;
  }
  return max;
}

/** JSON.parse reviver: objects without a prototype, so a `__proto__` key is an ordinary field. */
function withoutPrototype(_key: string, value: unknown): unknown {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    Object.setPrototypeOf(value, null);
  return value;
}
