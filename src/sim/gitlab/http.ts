// A small router for the simulator: matches method + path, merges query and body parameters the way
// Grape does (JSON or form-encoded), and turns ApiError into GitLab-shaped JSON answers.

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

const MAX_BODY = 32 * 1024 * 1024;

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
      const candidates = this.routes.filter((r) => r.pattern.test(path));
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        reply =
          candidates.length > 0
            ? { status: 405, body: { message: "405 Method Not Allowed" } }
            : { status: 404, body: { error: "404 Not Found" } };
      } else {
        const match = route.pattern.exec(path)!;
        const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(match[i + 1]!)]));
        const rawBody = await readBody(req);
        const input = { ...queryObject(url.searchParams), ...parseBody(req, rawBody) };
        reply = await route.handler({ req, res, params, input, rawBody, url, baseUrl });
      }
    } catch (err) {
      if (err instanceof ApiError) reply = { status: err.status, body: err.body, headers: err.headers };
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

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, { message: "413 Request Entity Too Large" }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Rails-style query parameters: `a[]=1&a[]=2` → array, `v[0][key]=x` → nested. */
function queryObject(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
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
          const child: Record<string, unknown> | unknown[] = nextIsArray ? [] : {};
          node.push(child);
          node = child;
        }
        continue;
      }
    }
    const holder = node as Record<string, unknown>;
    if (last) holder[key] = value;
    else {
      holder[key] ??= nextIsArray ? [] : {};
      node = holder[key] as Record<string, unknown>;
    }
  }
}

function parseBody(req: IncomingMessage, raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/json")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      throw new ApiError(400, { error: "The provided content-type 'application/json' is not supported." });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new ApiError(400, { error: "body must be a JSON object" });
    return parsed as Record<string, unknown>;
  }
  if (type.includes("application/x-www-form-urlencoded"))
    return queryObject(new URLSearchParams(raw.toString("utf8")));
  return {};
}
