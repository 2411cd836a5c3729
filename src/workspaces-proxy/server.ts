// The workspaces proxy, in gitlab-workspaces-proxy's role: users reach <port>-<workspace>.<dns_zone>; the
// proxy asks GitLab whether the user's token may enter that workspace, then carries HTTP, WebSocket and
// CONNECT (raw TCP) to the workspace Service's port inside the cluster.
import { randomBytes } from "node:crypto";
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { GitLabUserAuth } from "./gitlab-auth.ts";
import { asPooledSocket } from "./pooled-stream.ts";
import { UpstreamError, type Upstreams } from "./upstream.ts";

export const SESSION_COOKIE = "gitlab-workspaces-proxy-session";

export interface WorkspacesProxyOptions {
  dnsZone: string;
  auth: GitLabUserAuth;
  upstreams: Upstreams;
  host?: string;
  port?: number;
  /** Serve users over HTTPS, as GitLab's proxy does behind its ingress (workspace URLs are https://…). */
  tls?: { key: string; cert: string };
}

interface Target {
  workspace: string;
  port: number;
}

class ProxyRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

export class WorkspacesProxy {
  private server: Server | undefined;
  private readonly hostPattern: RegExp;
  /** Session cookie → the GitLab token it stands for; the token itself never goes to the browser. */
  private readonly sessions = new Map<string, string>();
  private readonly sockets = new Set<Duplex>();
  private readonly pools = new Map<string, Agent>();
  port = 0;

  constructor(private readonly opts: WorkspacesProxyOptions) {
    const zone = opts.dnsZone.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    this.hostPattern = new RegExp(`^(\\d{1,5})-([a-z0-9]([-a-z0-9]*[a-z0-9])?)\\.${zone}(:\\d+)?$`, "i");
  }

  /** The URL of a workspace port as users write it. */
  url(workspace: string, port: number, path = "/"): string {
    const scheme = this.opts.tls ? "https" : "http";
    return `${scheme}://${port}-${workspace}.${this.opts.dnsZone}:${this.port}${path}`;
  }

  async start(): Promise<this> {
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res);
    const server = this.opts.tls ? createHttpsServer(this.opts.tls, handle) : createServer(handle);
    server.on(
      "upgrade",
      (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head),
    );
    server.on(
      "connect",
      (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onConnect(req, socket, head),
    );
    server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private target(host: string | undefined): Target {
    const match = host ? this.hostPattern.exec(host) : null;
    if (!match) throw new ProxyRefusal(400, "could not find upstream workspace upstream not found");
    return { port: Number(match[1]), workspace: match[2]!.toLowerCase() };
  }

  /** The user's GitLab token: bearer, proxy bearer (CONNECT), or the session cookie an earlier answer set. */
  private credential(headers: IncomingHttpHeaders): { token: string; fromCookie: boolean } | undefined {
    const bearer = (v: string | undefined) => v?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    const token = bearer(headers.authorization) ?? bearer(headers["proxy-authorization"]);
    if (token) return { token, fromCookie: false };
    for (const part of (headers.cookie ?? "").split(";")) {
      const [name, value] = part.trim().split("=");
      const session = name === SESSION_COOKIE && value ? this.sessions.get(value) : undefined;
      if (session) return { token: session, fromCookie: true };
    }
    return undefined;
  }

  private async admit(
    target: Target,
    headers: IncomingHttpHeaders,
  ): Promise<{ token: string; fromCookie: boolean }> {
    const credential = this.credential(headers);
    if (!credential)
      throw new ProxyRefusal(
        401,
        `sign in: send a GitLab token (Authorization: Bearer …) to open workspace ${target.workspace}`,
        {
          "www-authenticate": 'Bearer realm="GitLab workspaces"',
        },
      );
    const decision = await this.opts.auth.decide(credential.token, target.workspace);
    if (!decision.allowed) throw new ProxyRefusal(403, decision.reason ?? "not allowed");
    return credential;
  }

  private async upstream(target: Target): Promise<Duplex> {
    try {
      return await this.opts.upstreams.connect(target.workspace, target.port);
    } catch (err) {
      if (err instanceof UpstreamError) throw new ProxyRefusal(err.status, err.message);
      throw err;
    }
  }

  /**
   * Keep-alive connections to one workspace port, as a reverse proxy keeps them to a Service: a request does
   * not pay for a new connection into the pod. A restart or stop ends the pod's processes and so its connections.
   */
  private pool(target: Target): Agent {
    const key = `${target.workspace}:${target.port}`;
    let agent = this.pools.get(key);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 64 });
      agent.createConnection = ((_options: unknown, done: (err: Error | null, socket?: Socket) => void) => {
        this.opts.upstreams.connect(target.workspace, target.port).then(
          (stream) => done(null, asPooledSocket(stream)),
          (err: Error) => done(err),
        );
        return undefined;
      }) as unknown as Agent["createConnection"];
      this.pools.set(key, agent);
    }
    return agent;
  }

  private forwardedHeaders(req: IncomingMessage): IncomingHttpHeaders {
    const headers: IncomingHttpHeaders = { ...req.headers };
    delete headers.authorization;
    for (const h of HOP_BY_HOP) delete headers[h];
    if (headers.cookie) {
      const kept = headers.cookie
        .split(";")
        .filter((p) => p.trim().split("=")[0] !== SESSION_COOKIE)
        .join(";")
        .trim();
      if (kept) headers.cookie = kept;
      else delete headers.cookie;
    }
    return headers;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const target = this.target(req.headers.host);
      const credential = await this.admit(target, req.headers);
      const extra: Record<string, string> = {};
      if (!credential.fromCookie) {
        const session = randomBytes(24).toString("base64url");
        this.sessions.set(session, credential.token);
        extra["set-cookie"] = `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Lax`;
      }
      const upstream = request({
        method: req.method,
        path: req.url,
        headers: this.forwardedHeaders(req),
        agent: this.pool(target),
      });
      upstream.on("response", (answer) => {
        const headers = { ...answer.headers, ...extra };
        for (const h of HOP_BY_HOP) delete headers[h];
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      });
      upstream.on("error", (err) =>
        this.fail(
          res,
          err instanceof UpstreamError
            ? new ProxyRefusal(err.status, err.message)
            : new ProxyRefusal(502, `workspace ${target.workspace}: ${err.message}`),
        ),
      );
      req.pipe(upstream);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private fail(res: ServerResponse, err: unknown): void {
    const refusal =
      err instanceof ProxyRefusal
        ? err
        : new ProxyRefusal(500, `the proxy failed: ${(err as Error).message}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(refusal.status, {
      "content-type": "text/plain; charset=utf-8",
      connection: "close",
      ...refusal.headers,
    });
    res.end(`${refusal.message}\n`);
  }

  private refuseRaw(socket: Duplex, err: unknown): void {
    const refusal =
      err instanceof ProxyRefusal
        ? err
        : new ProxyRefusal(500, `the proxy failed: ${(err as Error).message}`);
    const body = `${refusal.message}\n`;
    const extra = Object.entries(refusal.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`,
    );
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => {});
    try {
      const target = this.target(req.headers.host);
      await this.admit(target, req.headers);
      const stream = await this.upstream(target);
      const headers = this.forwardedHeaders(req);
      headers.connection = "Upgrade";
      headers.upgrade = req.headers.upgrade;
      const lines = Object.entries(headers).flatMap(([k, v]) =>
        v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((one) => `${k}: ${one}\r\n`),
      );
      stream.write(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join("")}\r\n`);
      if (head.length) stream.write(head);
      this.splice(socket, stream);
    } catch (err) {
      this.refuseRaw(socket, err);
    }
  }

  private async onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => {});
    try {
      const target = this.target(req.url);
      await this.admit(target, req.headers);
      const stream = await this.upstream(target);
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) stream.write(head);
      this.splice(socket, stream);
    } catch (err) {
      this.refuseRaw(socket, err);
    }
  }

  private splice(a: Duplex, b: Duplex): void {
    b.on("error", () => a.destroy());
    a.on("error", () => b.destroy());
    a.on("close", () => b.destroy());
    b.on("close", () => a.destroy());
    a.pipe(b);
    b.pipe(a);
  }
}
