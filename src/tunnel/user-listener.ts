import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import {
  parseConnectAuthority,
  parseHostAddress,
  parsePathAddress,
  parseRequestTarget,
  queryOf,
  type WorkspaceAddress,
} from "./address.ts";
import type { AdminApi } from "./admin.ts";
import { batchedWriter } from "./batched-pipe.ts";
import type { TunnelLog } from "./log.ts";
import type { TunnelMetrics } from "./metrics.ts";
import { StreamPools } from "./pools.ts";
import { AGENT_WEBSOCKET_MAX_MESSAGE_BYTES, AGENT_WEBSOCKET_PATH } from "./protocol.ts";
import { RouteError, type RouteTable, type WorkspaceRoute } from "./routes.ts";
import {
  type Grant,
  SESSION_COOKIE,
  SIGN_IN_QUERY,
  type SignInStore,
  withoutTunnelParameters,
} from "./sign-in.ts";
import { splice } from "./splice.ts";
import { type Exchange, exchange } from "./upstream.ts";
import {
  bearerCredential,
  type Credential,
  cookieValue,
  stripCredentials,
  tokenAdmits,
} from "./user-auth.ts";
import { webSocketStream } from "./websocket-stream.ts";

export interface UserListenerOptions {
  domain: string;
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Requests whose header block is larger get 431. */
  maxHeaderBytes: number;
  /** A client that has not sent its full header block by then is cut off (slowloris). */
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  halfCloseIdleMs: number;
}

export interface UserListenerContext {
  routes: RouteTable;
  metrics: TunnelMetrics;
  log: TunnelLog;
  admin: AdminApi;
  signIns: SignInStore;
  acceptAgentStream(stream: Duplex, peer: string): void;
}

interface Target {
  address: WorkspaceAddress;
  /** The host form has an origin of its own, so it takes sign-in codes and session cookies; the path form does not. */
  form: "host" | "path";
  /** The query as sent, with the tunnel's own parameters. */
  query: URLSearchParams | undefined;
  /** What the workspace gets: the path without the tunnel's own parameters. */
  forwardPath: string;
}

interface Admitted {
  route: WorkspaceRoute;
  credential: Credential;
}

interface SignIn {
  grant: Grant;
}

interface Refusal {
  status: 401 | 403 | 404;
  message: string;
  headers?: Record<string, string>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);

/** The user-facing HTTP(S) listener: routes by host name or path, checks the user's token, forwards. */
export function createUserServer(ctx: UserListenerContext, options: UserListenerOptions): http.Server {
  const pools = new StreamPools(ctx.metrics);
  ctx.routes.on("change", (workspace) => pools.retireWorkspace(workspace));
  const agentSockets = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: AGENT_WEBSOCKET_MAX_MESSAGE_BYTES,
  });
  const secure = options.tls !== undefined;
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: options.maxHeaderBytes,
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, options.headersTimeoutMs / 2)),
    noDelay: true,
  };
  const server = secure
    ? https.createServer({ ...serverOptions, ...options.tls })
    : http.createServer(serverOptions);

  /** A workspace target; null when the request names none (the listener's own endpoints); a string when malformed. */
  const resolveTarget = (req: IncomingMessage): Target | null | string => {
    const requestTarget = parseRequestTarget(req.url);
    if (!requestTarget) {
      return `request target ${JSON.stringify((req.url ?? "").slice(0, 100))} is neither /path nor http(s)://host/path`;
    }
    const byHost = parseHostAddress(requestTarget.authority ?? req.headers.host, options.domain);
    const query = queryOf(requestTarget.path);
    if (byHost) return { address: byHost, form: "host", query, forwardPath: forwardable(requestTarget.path) };
    const byPath = parsePathAddress(requestTarget.path);
    if (byPath) return { address: byPath, form: "path", query, forwardPath: forwardable(byPath.forwardPath) };
    return null;
  };

  /**
   * Who may pass: a bearer token (Authorization or Proxy-Authorization) on either form; on the host form also
   * the session cookie, and (`signIn`, a GET navigation) a one-time code to exchange for that cookie.
   */
  const admit = (
    target: WorkspaceAddress & { form: Target["form"]; query?: URLSearchParams },
    headers: IncomingHttpHeaders,
    signIn: boolean,
  ): Admitted | SignIn | Refusal => {
    const route = ctx.routes.get(target.workspace);
    if (!route)
      return { status: 404, message: `workspace ${target.workspace} is not known to this tunnel server` };
    const challenge = { "www-authenticate": 'Bearer realm="wsparity"' };
    const invalid = { "www-authenticate": 'Bearer realm="wsparity", error="invalid_token"' };
    let credential = bearerCredential(headers);
    if (!credential && target.form === "host") {
      const id = cookieValue(headers.cookie, SESSION_COOKIE);
      const grant = id ? ctx.signIns.session(id, target) : undefined;
      if (grant) credential = { token: grant.token, source: "session" };
      const code = target.query?.get(SIGN_IN_QUERY);
      if (!credential && code && signIn) {
        const redeemed = ctx.signIns.redeem(code, target);
        if (redeemed && tokenAdmits(route, redeemed.token)) return { grant: redeemed };
        return {
          status: 401,
          message: `the sign-in code is unknown, expired or already used: mint a new one (POST /-/sign-in-codes with the user token)`,
          headers: invalid,
        };
      }
    }
    if (!credential) {
      return {
        status: 401,
        message:
          target.form === "host"
            ? `workspace ${target.workspace} needs a token: send "Authorization: Bearer <token>", or open a one-time sign-in link (POST /-/sign-in-codes with the token) in a browser`
            : `workspace ${target.workspace} needs "Authorization: Bearer <token>": the path form /-/ws/<workspace>/<port>/ shares one origin between workspaces, so it takes no cookies or sign-in codes; browsers use <port>-<workspace>.${options.domain}`,
        headers: challenge,
      };
    }
    if (!tokenAdmits(route, credential.token)) {
      return {
        status: 401,
        message:
          credential.source === "session"
            ? `the session for workspace ${target.workspace} has ended: sign in again`
            : `the token is not valid for workspace ${target.workspace}`,
        headers: invalid,
      };
    }
    if (!route.ports.includes(target.port)) {
      return {
        status: 403,
        message: `port ${target.port} is not an endpoint of workspace ${target.workspace} (endpoints: ${route.ports.join(", ") || "none"})`,
      };
    }
    return { route, credential };
  };

  const forwardedHeaders = (req: IncomingMessage, credential: Credential): IncomingHttpHeaders => {
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    stripCredentials(headers, credential);
    const peer = req.socket.remoteAddress ?? "";
    headers["x-forwarded-for"] = headers["x-forwarded-for"] ? `${headers["x-forwarded-for"]}, ${peer}` : peer;
    headers["x-forwarded-proto"] = secure ? "https" : "http";
    if (req.headers.host) headers["x-forwarded-host"] = req.headers.host;
    return headers;
  };

  const reply = (
    res: ServerResponse,
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ) => {
    ctx.metrics.response(status);
    if (status >= 500) ctx.metrics.error(`http_${status}`);
    const body = `${message}\n`;
    // A body the tunnel answers without reading (a refused request) is not waited for: a client dripping it
    // slowly would otherwise hold the connection for ever.
    const unread = res.req.complete ? {} : { connection: "close" };
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      ...headers,
      ...unread,
    });
    res.end(body);
  };

  server.on("connection", (socket: Socket) => {
    socket.once("close", () => ctx.metrics.userConnectionClosed(socket.bytesRead, socket.bytesWritten));
  });

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const target = resolveTarget(req);
    if (typeof target === "string") {
      req.resume();
      reply(res, 400, target, { connection: "close" });
      return;
    }
    if (!target) {
      ctx.admin.handle(req, res, reply);
      return;
    }
    const navigation = req.method === "GET" || req.method === "HEAD";
    const outcome = admit(
      { ...target.address, form: target.form, query: target.query },
      req.headers,
      navigation,
    );
    if ("status" in outcome) {
      req.resume();
      reply(res, outcome.status, outcome.message, outcome.headers);
      return;
    }
    if ("grant" in outcome) {
      req.resume();
      const session = ctx.signIns.open(outcome.grant);
      const cookie = `${SESSION_COOKIE}=${session.id}; Path=/; Max-Age=${session.maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
      reply(res, 303, "signed in", { location: signedInLocation(target.forwardPath), "set-cookie": cookie });
      return;
    }
    const started = process.hrtime.bigint();
    const pool = pools.get(outcome.route, target.address.port);
    const headers = forwardedHeaders(req, outcome.credential);
    // A request without a body may be sent again when a pooled stream turns out to be closing under it
    // (the workspace closed an idle keep-alive connection at that moment), as browsers do.
    const bodiless =
      (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") &&
      req.headers["content-length"] === undefined &&
      req.headers["transfer-encoding"] === undefined;
    let current: Exchange | undefined;
    res.on("close", () => {
      if (!res.writableFinished) current?.abort();
    });
    const failed = (err: Error) => {
      const status = err instanceof RouteError ? err.status : 502;
      if (!res.headersSent) {
        reply(
          res,
          status,
          err instanceof RouteError ? err.message : `workspace stream failed: ${err.message}`,
        );
      } else {
        ctx.metrics.error("stream_reset");
        res.destroy();
      }
    };
    const send = (attempt: number) => {
      pool.acquire().then(({ stream, reused }) => {
        if (res.destroyed) {
          pool.release(stream, true);
          return;
        }
        let write: (piece: Buffer) => void = () => {};
        const request = { method: req.method ?? "GET", path: target.forwardPath, headers };
        current = exchange(stream, bodiless ? request : { ...request, body: req }, {
          head: (head, framing) => {
            ctx.metrics.observeLatency(Number(process.hrtime.bigint() - started) / 1e9);
            ctx.metrics.response(head.statusCode);
            const raw: string[] = [];
            for (let i = 0; i < head.rawHeaders.length; i += 2) {
              if (!HOP_BY_HOP.has(head.rawHeaders[i]!.toLowerCase()))
                raw.push(head.rawHeaders[i]!, head.rawHeaders[i + 1]!);
            }
            res.writeHead(head.statusCode, head.statusMessage, raw);
            write = batchedWriter(
              res,
              res.socket,
              () => current?.pause(),
              () => current?.resume(),
            );
            // node frames the body for the user as it sees fit (a length, chunked for HTTP/1.1, or up to the close);
            // when it chose chunked and the workspace's body is chunked, the body leaves exactly as it came.
            if (framing.kind !== "chunked") return "raw";
            if (!res.chunkedEncoding) return "data";
            res.chunkedEncoding = false;
            return "raw";
          },
          body: (piece) => write(piece),
          end: () => res.end(),
          error: (err, answered) => {
            if (!answered && bodiless && attempt === 0 && reused && !res.headersSent && !res.destroyed) {
              ctx.metrics.error("reused_stream_retried");
              send(1);
              return;
            }
            failed(err);
          },
          release: (reusable) => pool.release(stream, reusable),
        });
      }, failed);
    };
    if (bodiless) req.resume();
    send(0);
  };

  const refuseRaw = (
    socket: Duplex,
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ) => {
    ctx.metrics.response(status);
    if (status >= 500) ctx.metrics.error(`http_${status}`);
    const body = `${message}\n`;
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`,
    );
  };

  const openRaw = async (
    socket: Duplex,
    admitted: Admitted,
    port: number,
    first: Buffer[],
    established?: string,
  ) => {
    let stream: Duplex;
    try {
      stream = await admitted.route.connect(port);
    } catch (err) {
      const status = err instanceof RouteError ? err.status : 502;
      refuseRaw(socket, status, (err as Error).message);
      return;
    }
    if (socket.destroyed) {
      stream.destroy();
      return;
    }
    if (established) socket.write(established);
    for (const chunk of first) if (chunk.length > 0) stream.write(chunk);
    ctx.metrics.streamOpened();
    splice(socket, stream, () => ctx.metrics.streamClosed(), options.halfCloseIdleMs);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const target = resolveTarget(req);
    if (typeof target === "string") {
      refuseRaw(socket, 400, target);
      return;
    }
    if (!target) {
      if (req.url === AGENT_WEBSOCKET_PATH) {
        agentSockets.handleUpgrade(req, socket, head, (ws) => {
          ctx.acceptAgentStream(webSocketStream(ws), `ws:${req.socket.remoteAddress}`);
        });
      } else {
        refuseRaw(socket, 404, `no workspace in Host or path, and ${req.url} is not ${AGENT_WEBSOCKET_PATH}`);
      }
      return;
    }
    const outcome = admit({ ...target.address, form: target.form }, req.headers, false);
    if ("status" in outcome) {
      refuseRaw(socket, outcome.status, outcome.message, outcome.headers);
      return;
    }
    if ("grant" in outcome) throw new Error("a sign-in code is only exchanged on a GET navigation");
    const headers = forwardedHeaders(req, outcome.credential);
    headers.connection = "Upgrade";
    headers.upgrade = req.headers.upgrade;
    let text = `${req.method} ${target.forwardPath} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) text += `${name}: ${one}\r\n`;
    }
    void openRaw(socket, outcome, target.address.port, [Buffer.from(`${text}\r\n`), head]);
  };

  const onConnect = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const address = parseConnectAuthority(req.url, options.domain);
    if (!address) {
      refuseRaw(
        socket,
        400,
        `CONNECT target must be <port>-<workspace>.${options.domain}:<n> or <workspace>:<port>`,
      );
      return;
    }
    const outcome = admit({ ...address, form: "path" }, req.headers, false);
    if ("status" in outcome) {
      refuseRaw(socket, outcome.status, outcome.message, outcome.headers);
      return;
    }
    if ("grant" in outcome) throw new Error("a sign-in code is only exchanged on a GET navigation");
    void openRaw(socket, outcome, address.port, [head], "HTTP/1.1 200 Connection Established\r\n\r\n");
  };

  // A request the code above did not foresee costs that one connection a 500, never the process.
  const failed = (where: string, err: unknown) => {
    ctx.metrics.error("handler_exception");
    ctx.log("request-handler-failed", { where, error: (err as Error)?.stack ?? String(err) });
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    try {
      onRequest(req, res);
    } catch (err) {
      failed("request", err);
      if (!res.headersSent)
        reply(res, 500, "the tunnel server failed on this request", { connection: "close" });
      else res.destroy();
    }
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      onUpgrade(req, socket, head);
    } catch (err) {
      failed("upgrade", err);
      refuseRaw(socket, 500, "the tunnel server failed on this request");
    }
  });
  server.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      onConnect(req, socket, head);
    } catch (err) {
      failed("connect", err);
      refuseRaw(socket, 500, "the tunnel server failed on this request");
    }
  });

  server.on("close", () => {
    pools.close();
    agentSockets.close();
  });
  return server;
}

/** A request target without the tunnel's own query parameters, which never reach the workspace. */
function forwardable(path: string): string {
  const mark = path.indexOf("?");
  if (mark === -1) return path;
  const query = withoutTunnelParameters(path.slice(mark + 1));
  return query ? `${path.slice(0, mark)}?${query}` : path.slice(0, mark);
}

/**
 * Where a sign-in sends the browser next: the same path and query without the code. The path is never resolved
 * (resolving `/.//evil.example/` gives `//evil.example/`), and leading slashes and backslashes collapse to one,
 * so the Location always stays on the workspace's origin.
 */
export function signedInLocation(path: string): string {
  const clean = forwardable(path);
  return `/${clean.replace(/^[/\\]+/, "")}`;
}
