import { timingSafeEqual } from "node:crypto";
import type { ClientHttp2Session, ClientHttp2Stream } from "node:http2";
import type { Duplex } from "node:stream";
import { isWorkspaceName } from "./address.ts";
import type { TunnelLog } from "./log.ts";
import type { TunnelMetrics } from "./metrics.ts";
import { type AgentHello, isPort, ProtocolError, STOP_PATH } from "./protocol.ts";
import { RouteError, type RouteTable, type WorkspaceRoute } from "./routes.ts";

/** A CI workspace the server accepts an agent for. */
export interface AgentWorkspace {
  workspace: string;
  /** The agent's secret: registers this workspace and no other. */
  agentToken: string;
  userTokens: string[];
  /** Declared endpoints. Omitted: the ports the agent announces in its hello. */
  ports?: number[];
}

/** A route whose backend is whichever agent is connected for the workspace right now. */
export class AgentRoute implements WorkspaceRoute {
  epoch = 0;
  session: ClientHttp2Session | undefined;
  /** Who the connected agent is, for the reason a second agent is refused. */
  holder: { peer: string; since: Date } | undefined;
  #announcedPorts: number[] = [];

  constructor(readonly config: AgentWorkspace) {}

  get workspace(): string {
    return this.config.workspace;
  }

  get ports(): readonly number[] {
    return this.config.ports ?? this.#announcedPorts;
  }

  get userTokens(): readonly string[] {
    return this.config.userTokens;
  }

  get online(): boolean {
    return this.session !== undefined && !this.session.closed && !this.session.destroyed;
  }

  attach(session: ClientHttp2Session, hello: AgentHello, peer: string): void {
    this.session = session;
    this.holder = { peer, since: new Date() };
    this.#announcedPorts = hello.ports;
    this.epoch++;
  }

  detach(session: ClientHttp2Session): boolean {
    if (this.session !== session) return false;
    this.session = undefined;
    this.holder = undefined;
    this.epoch++;
    return true;
  }

  /**
   * Asks the connected agent to stop for good (`POST /-/stop`): it answers 200, closes its session and does
   * not reconnect, so the process that runs it (a CI job's script) ends with exit code 0. Resolves true when
   * the agent answered 200; false when it is offline, refused (an older agent answers 405) or did not answer
   * within `timeoutMs`.
   */
  requestStop(timeoutMs = 10_000): Promise<boolean> {
    const session = this.session;
    if (!session || session.closed || session.destroyed) return Promise.resolve(false);
    let stream: ClientHttp2Stream;
    try {
      stream = session.request({ ":method": "POST", ":path": STOP_PATH }, { endStream: true });
    } catch {
      return Promise.resolve(false);
    }
    // The agent closes its session right after answering: an error then must not go unhandled.
    stream.on("error", () => {});
    return new Promise((resolve) => {
      const done = (answer: boolean) => {
        clearTimeout(timer);
        stream.off("close", onClose);
        if (!answer) stream.destroy();
        resolve(answer);
      };
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      stream.once("response", (headers) => {
        stream.resume();
        done(Number(headers[":status"]) === 200);
      });
      stream.once("close", onClose);
    });
  }

  connect(port: number): Promise<Duplex> {
    const session = this.session;
    if (!session || session.closed || session.destroyed) {
      return Promise.reject(new RouteError(503, `the agent of workspace ${this.workspace} is offline`));
    }
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(
        { ":method": "CONNECT", ":authority": `127.0.0.1:${port}` },
        { endStream: false },
      );
    } catch (err) {
      return Promise.reject(
        new RouteError(503, `the agent of workspace ${this.workspace} is going away: ${err}`),
      );
    }
    return new Promise((resolve, reject) => {
      const fail = (error: RouteError) => {
        stream.off("close", onClose);
        stream.off("error", onError);
        stream.destroy();
        reject(error);
      };
      const onClose = () => fail(new RouteError(502, `the agent closed the stream to port ${port}`));
      const onError = (err: Error) =>
        fail(new RouteError(502, `stream to port ${port} failed: ${err.message}`));
      stream.once("response", (headers) => {
        const status = Number(headers[":status"]);
        if (status === 200) {
          stream.off("close", onClose);
          stream.off("error", onError);
          resolve(stream);
          return;
        }
        const reason = String(headers["wsparity-error"] ?? `status ${status}`);
        fail(
          new RouteError(
            status === 403 ? 403 : 502,
            `the agent of ${this.workspace} refused port ${port}: ${reason}`,
          ),
        );
      });
      stream.once("close", onClose);
      stream.once("error", onError);
    });
  }
}

export interface AgentRegistryOptions {
  /** How long a replaced agent keeps its open streams before it is cut off. */
  replaceGraceMs: number;
  heartbeatMs: number;
}

/** The CI workspaces, their agent tokens, and the agent session currently serving each. */
export class AgentRegistry {
  readonly #byName = new Map<string, AgentRoute>();

  constructor(
    private readonly routes: RouteTable,
    private readonly metrics: TunnelMetrics,
    private readonly log: TunnelLog,
    private readonly options: AgentRegistryOptions,
  ) {}

  add(config: AgentWorkspace): AgentRoute {
    if (!isWorkspaceName(config.workspace)) {
      throw new Error(
        `workspace name ${JSON.stringify(config.workspace)} is not a DNS label (lower-case letters, digits, '-')`,
      );
    }
    if (config.agentToken.length < 16)
      throw new Error(`workspace ${config.workspace}: agentToken is shorter than 16 characters`);
    for (const other of this.#byName.values()) {
      if (other.workspace !== config.workspace && other.config.agentToken === config.agentToken) {
        throw new Error(
          `workspace ${config.workspace}: its agentToken is already the token of ${other.workspace}`,
        );
      }
    }
    if (config.ports && !config.ports.every(isPort))
      throw new Error(`workspace ${config.workspace}: ports must be 1-65535`);
    const previous = this.#byName.get(config.workspace);
    const route = new AgentRoute({
      ...config,
      userTokens: [...config.userTokens],
      ...(config.ports ? { ports: [...config.ports] } : {}),
    });
    if (previous?.session) this.#retire(previous.session);
    this.#byName.set(config.workspace, route);
    this.routes.register(route);
    return route;
  }

  remove(workspace: string): boolean {
    const route = this.#byName.get(workspace);
    if (!route) return false;
    this.#byName.delete(workspace);
    this.routes.unregister(workspace);
    if (route.session) route.session.destroy();
    return true;
  }

  get(workspace: string): AgentRoute | undefined {
    return this.#byName.get(workspace);
  }

  /** Checks a hello: the workspace must exist and the token must be exactly its agent token. */
  authenticate(hello: AgentHello): AgentRoute {
    const route = this.#byName.get(hello.workspace);
    if (!route)
      throw new ProtocolError(404, `workspace ${hello.workspace} is not known to this tunnel server`);
    if (!sameSecret(hello.token, route.config.agentToken)) {
      throw new ProtocolError(401, `the agent token is not valid for workspace ${hello.workspace}`);
    }
    return route;
  }

  /**
   * Whether the agent connected for `route` still answers: a second agent for a workspace is refused while the
   * first answers a PING within `timeoutMs` (so two agents never take turns), and replaces a first one that
   * has gone silent without closing its connection.
   */
  holderAnswers(route: AgentRoute, timeoutMs: number): Promise<boolean> {
    const session = route.session;
    if (!session || session.closed || session.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      try {
        session.ping((err) => {
          clearTimeout(timer);
          resolve(!err);
        });
      } catch {
        clearTimeout(timer);
        resolve(false);
      }
    });
  }

  /**
   * Makes `session` the agent of the route; an older session (silent, or replaced by the admin API) is retired
   * cleanly. The connection is over when the session or its transport closes, whichever is first: a session
   * over a WebSocket whose peer vanished may never emit "close".
   */
  attach(
    route: AgentRoute,
    session: ClientHttp2Session,
    transport: Duplex,
    hello: AgentHello,
    peer: string,
  ): void {
    const previous = route.session;
    route.attach(session, hello, peer);
    this.metrics.agentsConnected++;
    this.metrics.agentConnectsTotal++;
    if (previous) {
      this.metrics.agentReplacementsTotal++;
      this.log("agent-replaced", { workspace: route.workspace, peer });
      this.#retire(previous);
    }
    this.log("agent-connected", {
      workspace: route.workspace,
      peer,
      agent: hello.agent,
      ports: hello.ports.join(","),
    });
    let over = false;
    const gone = () => {
      if (over) return;
      over = true;
      clearInterval(heartbeat);
      if (!session.destroyed) session.destroy();
      transport.destroy();
      this.metrics.agentsConnected--;
      if (route.detach(session)) this.log("agent-disconnected", { workspace: route.workspace, peer });
    };
    const heartbeat = setInterval(() => {
      if (session.destroyed) return;
      const timeout = setTimeout(() => {
        this.log("agent-heartbeat-missed", { workspace: route.workspace, peer });
        gone();
      }, this.options.heartbeatMs * 2);
      timeout.unref();
      try {
        session.ping((err) => {
          clearTimeout(timeout);
          if (err) gone();
        });
      } catch {
        clearTimeout(timeout);
      }
    }, this.options.heartbeatMs);
    heartbeat.unref();
    session.once("close", gone);
    transport.once("close", gone);
    if (transport.destroyed) gone();
  }

  /** Stops new streams on an old session at once, and cuts the ones still open after the grace period. */
  #retire(session: ClientHttp2Session): void {
    for (const route of this.#byName.values()) route.detach(session);
    session.close();
    const cut = setTimeout(() => session.destroy(), this.options.replaceGraceMs);
    cut.unref();
    session.once("close", () => clearTimeout(cut));
  }

  get size(): number {
    return this.#byName.size;
  }

  /** Closes every agent session. */
  closeAll(): void {
    for (const route of this.#byName.values()) route.session?.destroy();
  }
}

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
