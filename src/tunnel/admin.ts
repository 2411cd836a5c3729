import type { IncomingMessage, ServerResponse } from "node:http";
import { type AgentRegistry, type AgentWorkspace, sameSecret } from "./agent-registry.ts";
import type { TunnelMetrics } from "./metrics.ts";
import type { RouteTable } from "./routes.ts";
import { SIGN_IN_QUERY, type SignInStore } from "./sign-in.ts";
import { bearerCredential, tokenAdmits } from "./user-auth.ts";

type Reply = (res: ServerResponse, status: number, message: string, headers?: Record<string, string>) => void;

const ADMIN_PREFIX = "/-/admin/workspaces";
const MAX_ADMIN_BODY = 64 * 1024;
const SIGN_IN_CODES = "/-/sign-in-codes";
const STOP_SUFFIX = "/stop";
/** How long POST …/stop waits for the agent's answer before it says the agent did not stop. */
const STOP_WAIT_MS = 10_000;

/**
 * The listener's own endpoints, for requests that name no workspace: /healthz, /metrics, and (when an
 * admin token is set) PUT/DELETE /-/admin/workspaces/<name> to add or remove a CI workspace at run time, GET
 * for whether its agent is connected and POST …/<name>/stop to ask that agent to end its job, and
 * POST /-/sign-in-codes, where a user token buys a one-time browser sign-in link for one workspace port.
 */
export class AdminApi {
  constructor(
    private readonly routes: RouteTable,
    private readonly registry: AgentRegistry,
    private readonly metrics: TunnelMetrics,
    private readonly signIns: SignInStore,
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
    if (path === SIGN_IN_CODES) {
      this.#signInCode(req, res, reply);
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

  /** `POST /-/sign-in-codes?workspace=<name>&port=<n>[&path=/p]` with the user token as a bearer token. */
  #signInCode(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
    req.resume();
    if (req.method !== "POST") {
      reply(res, 405, `use POST ${SIGN_IN_CODES}?workspace=<name>&port=<n>`, { allow: "POST" });
      return;
    }
    const url = req.url ?? "";
    const query = new URLSearchParams(url.includes("?") ? url.slice(url.indexOf("?") + 1) : "");
    const workspace = query.get("workspace") ?? "";
    const port = Number(query.get("port"));
    const path = query.get("path") ?? "/";
    const route = this.routes.get(workspace);
    if (!route || !Number.isInteger(port) || !path.startsWith("/") || path.startsWith("//")) {
      reply(
        res,
        400,
        `name a known workspace and one of its ports: ${SIGN_IN_CODES}?workspace=<name>&port=<n>[&path=/a/path]`,
      );
      return;
    }
    const credential = bearerCredential(req.headers);
    if (!credential || !tokenAdmits(route, credential.token)) {
      reply(
        res,
        401,
        `a sign-in code needs one of workspace ${workspace}'s user tokens as "Authorization: Bearer"`,
        {
          "www-authenticate": 'Bearer realm="wsparity"',
        },
      );
      return;
    }
    if (!route.ports.includes(port)) {
      reply(res, 403, `port ${port} is not an endpoint of workspace ${workspace}`);
      return;
    }
    const { code, expiresAt } = this.signIns.mint({ workspace, port }, credential.token);
    const listenerPort = (req.headers.host ?? "").match(/:(\d+)$/)?.[1];
    const scheme = "encrypted" in req.socket ? "https" : "http";
    const target = new URL(
      path,
      `${scheme}://${port}-${workspace}.${this.domain}${listenerPort ? `:${listenerPort}` : ""}`,
    );
    target.searchParams.set(SIGN_IN_QUERY, code);
    reply(
      res,
      201,
      JSON.stringify({ url: target.href, code, expiresAt: new Date(expiresAt).toISOString() }),
      {
        "content-type": "application/json",
        "cache-control": "no-store",
      },
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
    const stop = path.endsWith(STOP_SUFFIX);
    try {
      name = decodeURIComponent(path.slice(ADMIN_PREFIX.length + 1, stop ? -STOP_SUFFIX.length : undefined));
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
    if (stop || (req.method === "GET" && name)) {
      req.resume();
      const agent = this.registry.get(name);
      if (!agent) {
        reply(res, 404, `workspace ${name} is not known`);
        return;
      }
      if (!stop) {
        reply(res, 200, JSON.stringify({ workspace: name, online: agent.online, ports: agent.ports }), {
          "content-type": "application/json",
        });
        return;
      }
      if (req.method !== "POST") {
        reply(res, 405, `use POST ${ADMIN_PREFIX}/<workspace>${STOP_SUFFIX}`, { allow: "POST" });
        return;
      }
      void agent.requestStop(STOP_WAIT_MS).then((stopped) =>
        reply(res, 200, JSON.stringify({ workspace: name, stopped }), {
          "content-type": "application/json",
        }),
      );
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
