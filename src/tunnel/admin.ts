import type { IncomingMessage, ServerResponse } from "node:http";
import { type AgentRegistry, type AgentWorkspace, sameSecret } from "./agent-registry.ts";
import type { TunnelMetrics } from "./metrics.ts";
import type { RouteTable } from "./routes.ts";

type Reply = (res: ServerResponse, status: number, message: string, headers?: Record<string, string>) => void;

const ADMIN_PREFIX = "/-/admin/workspaces";
const MAX_ADMIN_BODY = 64 * 1024;

/**
 * The listener's own endpoints, for requests that name no workspace: /healthz, /metrics, and (when an
 * admin token is set) PUT/DELETE /-/admin/workspaces/<name> to add or remove a CI workspace at run time.
 */
export class AdminApi {
  constructor(
    private readonly routes: RouteTable,
    private readonly registry: AgentRegistry,
    private readonly metrics: TunnelMetrics,
    private readonly adminToken: string | undefined,
    private readonly domain: string,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      req.resume();
      const body = JSON.stringify({
        status: "ok",
        workspaces: this.routes.size,
        agentsConnected: this.metrics.agentsConnected,
      });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (path === "/metrics" && req.method === "GET") {
      req.resume();
      const body = this.metrics.render(this.routes.size);
      res.writeHead(200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "content-length": Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    if (path.startsWith(ADMIN_PREFIX)) {
      this.#admin(req, res, reply, path);
      return;
    }
    req.resume();
    reply(
      res,
      404,
      `no workspace in Host or path: use <port>-<workspace>.${this.domain} or /-/ws/<workspace>/<port>/`,
    );
  }

  #admin(req: IncomingMessage, res: ServerResponse, reply: Reply, path: string): void {
    const given = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!this.adminToken || !given || !sameSecret(given, this.adminToken)) {
      req.resume();
      reply(
        res,
        401,
        "the admin API needs Authorization: Bearer <admin token> (tunnel serve --admin-token-file)",
      );
      return;
    }
    let name: string;
    try {
      name = decodeURIComponent(path.slice(ADMIN_PREFIX.length + 1));
    } catch {
      req.resume();
      reply(res, 400, `${path}: the workspace name has malformed %-encoding`);
      return;
    }
    if (req.method === "GET" && name === "") {
      req.resume();
      reply(res, 200, JSON.stringify({ workspaces: this.routes.names() }), {
        "content-type": "application/json",
      });
      return;
    }
    if (req.method === "DELETE" && name) {
      req.resume();
      const removed = this.registry.remove(name) || this.routes.unregister(name);
      if (!removed) {
        reply(res, 404, `workspace ${name} is not known`);
        return;
      }
      this.metrics.response(204);
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.method !== "PUT" || !name) {
      req.resume();
      reply(res, 405, `use PUT or DELETE ${ADMIN_PREFIX}/<workspace>`);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ADMIN_BODY) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > MAX_ADMIN_BODY) {
        reply(res, 413, `body larger than ${MAX_ADMIN_BODY} bytes`);
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Partial<AgentWorkspace>;
        if (typeof body.agentToken !== "string") throw new Error("agentToken (string) is required");
        if (!Array.isArray(body.userTokens) || !body.userTokens.every((t) => typeof t === "string")) {
          throw new Error("userTokens (array of strings) is required");
        }
        this.registry.add({
          workspace: name,
          agentToken: body.agentToken,
          userTokens: body.userTokens,
          ...(body.ports ? { ports: body.ports } : {}),
        });
        reply(res, 201, JSON.stringify({ workspace: name }), { "content-type": "application/json" });
      } catch (err) {
        reply(res, 400, `workspace ${name}: ${(err as Error).message}`);
      }
    });
  }
}
