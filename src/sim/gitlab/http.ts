// A small router for the simulator: matches method + path, merges query and body parameters the way
// Grape does (JSON or form-encoded), and turns ApiError into GitLab-shaped JSON answers. Parameters are
// parsed into prototype-free objects, so a key such as `__proto__` is an ordinary key and never reaches
// Object.prototype. Malformed requests get what GitLab's HandleMalformedStrings middleware answers.

import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./errors.ts";

export interface Reply {
  status: number;
  body?: unknown;
  /** Sent as is (no JSON encoding) when set. */
  raw?: Buffer | string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RequestContext {
  req: IncomingMessage;
  /** For noticing a client that went away during a long poll. */
  res: ServerResponse;
  params: Record<string, string>;
  input: Record<string, unknown>;
  rawBody: Buffer;
  url: URL;
  baseUrl: string;
}

type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;

/** Larger bodies are refused with 413 (GitLab's NGINX refuses well before its Rails sees them). */
export const MAX_BODY = 32 * 1024 * 1024;
/** How long a refused body is still read (and discarded) so the client sees the 413 instead of a reset. */
const LINGER_MS = 30_000;

/** GitLab's answer to an unparseable path, query or body (Gitlab::Middleware::HandleMalformedStrings). */
const malformed = () => new ApiError(400, {}, {}, "Bad Request");

export class Router {
  private readonly routes: { method: string; pattern: RegExp; keys: string[]; handler: Handler }[] = [];

  on(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:([a-z_]+)(\*)?/g, (_, key: string, star: string | undefined) => {
        keys.push(key);
        return star ? "(.+)" : "([^/]+)";
      })}$`,
    );
    this.routes.push({ method, pattern, keys, handler });
    return this;
  }

  async handle(req: IncomingMessage, res: ServerResponse, baseUrl: string): Promise<void> {
    let reply: Reply;
    try {
      const url = new URL(req.url ?? "/", baseUrl);
      const path = url.pathname;
      if (!wellFormed(path) || !wellFormed(url.search.replace(/\+/g, " "))) throw malformed();
      const candidates = this.routes.filter((r) => r.pattern.test(path));
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        reply =
          candidates.length > 0
            ? { status: 405, body: { message: "405 Method Not Allowed" } }
            : { status: 404, body: { error: "404 Not Found" } };
      } else {
        const match = route.pattern.exec(path)!;
        const params: Record<string, string> = Object.create(null);
        route.keys.forEach((k, i) => {
          params[k] = decodeURIComponent(match[i + 1]!);
        });
        const rawBody = await readBody(req);
        const input = Object.assign(
          Object.create(null),
          queryObject(url.searchParams),
          parseBody(req, rawBody),
        );
        reply = await route.handler({ req, res, params, input, rawBody, url, baseUrl });
      }
    } catch (err) {
      if (err instanceof ApiError)
        reply =
          err.raw === undefined
            ? { status: err.status, body: err.body, headers: err.headers }
            : { status: err.status, raw: err.raw, headers: err.headers };
      else {
        process.stderr.write(
          `gitlab-sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        reply = { status: 500, body: { message: "500 Internal Server Error" } };
      }
    }
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = { ...reply.headers };
    let payload: Buffer | string | undefined;
    if (reply.raw !== undefined) {
      payload = reply.raw;
      headers["Content-Type"] = reply.contentType ?? "text/plain";
    } else if (reply.body !== undefined) {
      payload = JSON.stringify(reply.body);
      headers["Content-Type"] = "application/json";
    }
    res.writeHead(reply.status, headers);
    res.end(payload);
  }
}

/**
 * The whole body, or a 413 once it passes MAX_BODY. The rest of a refused body is read and dropped for a
 * while (as NGINX's lingering close does) so the client reads the 413 rather than a connection reset.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  const tooLarge = () => {
    req.removeAllListeners("data");
    req.on("data", () => {});
    setTimeout(() => req.destroy(), LINGER_MS).unref();
    return new ApiError(413, { message: "413 Request Entity Too Large" }, { Connection: "close" });
  };
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(tooLarge());
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Percent-encoding that decodes to UTF-8 without NUL bytes, as GitLab requires of paths and parameters. */
function wellFormed(text: string): boolean {
  try {
    return !decodeURIComponent(text).includes("\0");
  } catch {
    return false;
  }
}

/** Rails-style query parameters: `a[]=1&a[]=2` → array, `v[0][key]=x` → nested; objects without prototype. */
function queryObject(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [name, value] of params) assignPath(out, name, value);
  return out;
}

function assignPath(target: Record<string, unknown>, name: string, value: string): void {
  const parts = name.replace(/\]/g, "").split("[");
  let node: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i]!;
    const last = i === parts.length - 1;
    const nextIsArray = !last && parts[i + 1] === "";
    if (Array.isArray(node)) {
      if (key === "") {
        if (last) node.push(value);
        else {
          const child: Record<string, unknown> | unknown[] = nextIsArray ? [] : Object.create(null);
          node.push(child);
          node = child;
        }
        continue;
      }
      // Rack refuses `a[]=1&a[x]=2` (ParameterTypeError), which GitLab answers with 400.
      throw malformed();
    }
    const holder = node as Record<string, unknown>;
    if (last) holder[key] = value;
    else {
      holder[key] ??= nextIsArray ? [] : Object.create(null);
      const child = holder[key];
      if (typeof child !== "object" || child === null || Array.isArray(child) !== nextIsArray)
        throw malformed();
      node = child as Record<string, unknown>;
    }
  }
}

function parseBody(req: IncomingMessage, raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/json")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"), withoutPrototype);
    } catch {
      throw malformed();
    }
    // Rails keeps a JSON body that is not an object under `_json`; no endpoint here reads it.
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return Object.create(null);
    return parsed as Record<string, unknown>;
  }
  if (type.includes("application/x-www-form-urlencoded")) {
    const text = raw.toString("utf8");
    if (!wellFormed(text.replace(/\+/g, " "))) throw malformed();
    return queryObject(new URLSearchParams(text));
  }
  return Object.create(null);
}

/** JSON.parse reviver: every object comes out without a prototype, so `__proto__` is an ordinary key. */
function withoutPrototype(_key: string, value: unknown): unknown {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    Object.setPrototypeOf(value, null);
  return value;
}
