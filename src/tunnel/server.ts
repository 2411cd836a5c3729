import { chmodSync, rmSync } from "node:fs";
import type http from "node:http";
import net, { type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { AdminApi } from "./admin.ts";
import { acceptAgent } from "./agent-listener.ts";
import { AgentRegistry, type AgentWorkspace } from "./agent-registry.ts";
import { silentLog, type TunnelLog } from "./log.ts";
import { TunnelMetrics } from "./metrics.ts";
import { AGENT_WEBSOCKET_PATH } from "./protocol.ts";
import { RouteTable } from "./routes.ts";
import { SIGN_IN_QUERY, SignInStore } from "./sign-in.ts";
import { createUserServer } from "./user-listener.ts";

export interface TlsMaterial {
  key: string | Buffer;
  cert: string | Buffer;
}

export interface ListenerSpec {
  port: number;
  host?: string;
  tls?: TlsMaterial;
}

export interface TunnelLimits {
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** A tunnelled connection that one side has half-closed is cut after this long without a byte either way. */
  halfCloseIdleMs: number;
  helloTimeoutMs: number;
  heartbeatMs: number;
  replaceGraceMs: number;
}

export const DEFAULT_LIMITS: TunnelLimits = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  halfCloseIdleMs: 30_000,
  helloTimeoutMs: 10_000,
  heartbeatMs: 15_000,
  replaceGraceMs: 10_000,
};

/** A running tunnel server. */
export interface StartedTunnelServer {
  readonly domain: string;
  /** `http://127.0.0.1:<port>` or `https://…`: where users connect. */
  readonly userUrl: string;
  /** `tcp://…` or `tls://…`: where agents connect (absent when no agent listener was asked for). */
  readonly agentUrl: string | undefined;
  /** `ws://…/-/agent` or `wss://…`: agents on networks that pass only HTTP. */
  readonly agentWebSocketUrl: string;
  /** `unix:///path`: agents in sandboxes that share a folder with this host but have no route to it. */
  readonly agentSocketUrl: string | undefined;
  readonly userPort: number;
  readonly routes: RouteTable;
  readonly workspaces: AgentRegistry;
  readonly metrics: TunnelMetrics;
  /** The URL of a workspace port in host form, e.g. http://8080-ws1.localtest:PORT/. */
  workspaceUrl(workspace: string, port: number, path?: string): string;
  /**
   * A one-time browser sign-in link for a workspace port (host form, `?wsparity_code=…`, valid for a minute,
   * exchanged for a session cookie on that host). `userToken` must be one of the workspace's user tokens.
   */
  signInUrl(workspace: string, port: number, userToken: string, path?: string): string;
  stop(): Promise<void>;
}

/** Builds a tunnel server: `new TunnelServerBuilder().withDomain(…).withUserListener(…).start()`. */
export class TunnelServerBuilder {
  #domain = "wsparity.localtest";
  #user: ListenerSpec = { port: 0, host: "127.0.0.1" };
  #agent: ListenerSpec | undefined;
  #agentSocket: string | undefined;
  #limits: TunnelLimits = { ...DEFAULT_LIMITS };
  #workspaces: AgentWorkspace[] = [];
  #adminToken: string | undefined;
  #log: TunnelLog = silentLog;

  withDomain(domain: string): this {
    this.#domain = domain.toLowerCase().replace(/^\.+|\.+$/g, "");
    return this;
  }

  withUserListener(spec: ListenerSpec): this {
    this.#user = { host: "127.0.0.1", ...spec };
    return this;
  }

  /** A plain agent listener on a unix socket at `path` (replaced if a stale one is there). */
  withAgentSocket(path: string): this {
    this.#agentSocket = path;
    return this;
  }

  withAgentListener(spec: ListenerSpec): this {
    this.#agent = { host: "127.0.0.1", ...spec };
    return this;
  }

  withLimits(limits: Partial<TunnelLimits>): this {
    this.#limits = { ...this.#limits, ...limits };
    return this;
  }

  withWorkspace(workspace: AgentWorkspace): this {
    this.#workspaces.push(workspace);
    return this;
  }

  withAdminToken(token: string): this {
    this.#adminToken = token;
    return this;
  }

  withLog(log: TunnelLog): this {
    this.#log = log;
    return this;
  }

  async start(): Promise<StartedTunnelServer> {
    const domain = this.#domain;
    const limits = this.#limits;
    const log = this.#log;
    const metrics = new TunnelMetrics();
    const routes = new RouteTable();
    const registry = new AgentRegistry(routes, metrics, log, {
      replaceGraceMs: limits.replaceGraceMs,
      heartbeatMs: limits.heartbeatMs,
    });
    for (const workspace of this.#workspaces) registry.add(workspace);
    const acceptAgentStream = (stream: Duplex, peer: string) =>
      void acceptAgent(stream, peer, registry, metrics, log, {
        helloTimeoutMs: limits.helloTimeoutMs,
        heartbeatMs: limits.heartbeatMs,
      });
    const signIns = new SignInStore();
    const admin = new AdminApi(routes, registry, metrics, signIns, this.#adminToken, domain);
    const sockets = new Set<Duplex>();
    const track = (socket: Duplex) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    };

    const userServer: http.Server = createUserServer(
      { routes, metrics, log, admin, signIns, acceptAgentStream },
      { domain, tls: this.#user.tls, ...limits },
    );
    userServer.on("connection", track);
    const userPort = await listen(userServer, this.#user);

    let agentServer: NetServer | undefined;
    let agentPort: number | undefined;
    if (this.#agent) {
      const onAgentSocket = (socket: Socket) => {
        track(socket);
        socket.setNoDelay(true);
        acceptAgentStream(socket, `${socket.remoteAddress}:${socket.remotePort}`);
      };
      agentServer = this.#agent.tls
        ? tls.createServer({ ...this.#agent.tls, handshakeTimeout: limits.helloTimeoutMs }, onAgentSocket)
        : net.createServer({ noDelay: true }, onAgentSocket);
      if (this.#agent.tls) agentServer.on("connection", track);
      agentServer.on("tlsClientError", () => metrics.error("agent_tls"));
      agentPort = await listen(agentServer, this.#agent);
    }
    let socketServer: NetServer | undefined;
    const socketPath = this.#agentSocket;
    if (socketPath) {
      rmSync(socketPath, { force: true });
      socketServer = net.createServer((socket) => {
        track(socket);
        acceptAgentStream(socket, `unix:${socketPath}`);
      });
      await new Promise<void>((resolve, reject) => {
        socketServer!.once("error", reject);
        socketServer!.listen(socketPath, () => resolve());
      });
      // Sandboxed agents may run as any user.
      chmodSync(socketPath, 0o666);
    }
    const userScheme = this.#user.tls ? "https" : "http";
    const userHost = urlHost(this.#user.host ?? "127.0.0.1");
    log("tunnel-server-started", {
      user: `${userScheme}://${userHost}:${userPort}`,
      agent: agentPort,
      domain,
    });

    return {
      domain,
      userUrl: `${userScheme}://${userHost}:${userPort}`,
      agentUrl: this.#agent
        ? `${this.#agent.tls ? "tls" : "tcp"}://${urlHost(this.#agent.host ?? "127.0.0.1")}:${agentPort}`
        : undefined,
      agentWebSocketUrl: `${this.#user.tls ? "wss" : "ws"}://${userHost}:${userPort}${AGENT_WEBSOCKET_PATH}`,
      agentSocketUrl: socketPath ? `unix://${socketPath}` : undefined,
      userPort,
      routes,
      workspaces: registry,
      metrics,
      workspaceUrl: (workspace, port, path = "/") =>
        `${userScheme}://${port}-${workspace}.${domain}:${userPort}${path}`,
      signInUrl: (workspace, port, userToken, path = "/") => {
        const { code } = signIns.mint({ workspace, port }, userToken);
        const url = new URL(path, `${userScheme}://${port}-${workspace}.${domain}:${userPort}`);
        url.searchParams.set(SIGN_IN_QUERY, code);
        return url.href;
      },
      stop: async () => {
        registry.closeAll();
        const closing = [userServer, agentServer, socketServer].filter((x) => x !== undefined).map(close);
        for (const socket of sockets) socket.destroy();
        userServer.closeAllConnections?.();
        await Promise.all(closing);
        if (socketPath) rmSync(socketPath, { force: true });
        log("tunnel-server-stopped", {});
      },
    };
  }
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function listen(server: NetServer, spec: ListenerSpec): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(spec.port, spec.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
