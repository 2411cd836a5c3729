import { EventEmitter } from "node:events";
import http2, { type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";
import net from "node:net";
import { hostname } from "node:os";
import type { Duplex } from "node:stream";
import type { TunnelLog } from "../tunnel/log.ts";
import {
  CONNECTION_WINDOW_BYTES,
  encodeLine,
  H2_MAX_SESSION_MEMORY_MIB,
  H2_SETTINGS,
  PROTOCOL,
  parseReply,
  readLine,
  STOP_PATH,
} from "../tunnel/protocol.ts";
import { splice } from "../tunnel/splice.ts";
import { dial } from "./dial.ts";

export interface AgentOptions {
  server: URL;
  workspace: string;
  token: string;
  /** Declared ports: the only ones the agent forwards to. */
  ports: number[];
  /**
   * Where a declared port really listens, when elsewhere: a shell job's editor takes a free port, since jobs on
   * one runner host share its ports, and is still reached as the declared port.
   */
  listensAt?: ReadonlyMap<number, number>;
  targetHost: string;
  ca?: string | Buffer;
  insecure?: boolean;
  backoff: { initialMs: number; maxMs: number };
  connectTimeoutMs: number;
  log: TunnelLog;
}

export type AgentState = "connecting" | "connected" | "waiting" | "stopped";

/**
 * For this long after a working session is lost, retries wait at most `RESTART_CEILING_MS` (a server restart
 * takes seconds, and its agents should be back seconds after it listens again); later, the backoff grows to
 * its full ceiling so a long outage costs the server little.
 */
const RESTART_WINDOW_MS = 60_000;
const RESTART_CEILING_MS = 2_000;

/**
 * The workspace agent: dials the tunnel server, authenticates, then serves the server's CONNECT streams by
 * connecting to declared ports on 127.0.0.1. Reconnects with exponential backoff and full jitter, until it
 * is stopped: by `stop()` (SIGINT/SIGTERM in the process) or by the server's `POST /-/stop` stream.
 */
export class WorkspaceAgent extends EventEmitter<{
  connected: [];
  disconnected: [reason: string];
  rejected: [status: number, error: string];
  /** The server asked the agent to stop (`POST /-/stop`); the agent has closed its session and stays down. */
  "stop-requested": [];
}> {
  state: AgentState = "waiting";
  #session: ServerHttp2Session | undefined;
  #transport: Duplex | undefined;
  #attempt = 0;
  #lostAt: number | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #targets = new Set<Duplex>();

  constructor(readonly options: AgentOptions) {
    super();
  }

  start(): this {
    void this.#connect();
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.state = "stopped";
    clearTimeout(this.#retry);
    for (const target of this.#targets) target.destroy();
    // A session must outlive the tick it was created in: node feeds it already-buffered bytes on the next tick
    // and throws if it has been destroyed by then.
    await new Promise((resolve) => setImmediate(resolve));
    const session = this.#session;
    const transport = this.#transport;
    if (session && !session.destroyed) {
      // An HTTP/2 session over a WebSocket stream whose peer vanished may never emit "close": the transport
      // is destroyed too, and the wait is bounded, so SIGTERM always ends the process.
      await new Promise<void>((resolve) => {
        const bounded = setTimeout(resolve, 1000);
        session.once("close", () => {
          clearTimeout(bounded);
          resolve();
        });
        session.destroy();
        transport?.destroy();
      });
    }
    transport?.destroy();
    this.options.log("agent-stopped", { workspace: this.options.workspace });
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const { options } = this;
    this.state = "connecting";
    let stream: Duplex | undefined;
    try {
      stream = await dial(options.server, {
        ca: options.ca,
        insecure: options.insecure,
        timeoutMs: options.connectTimeoutMs,
      });
      if (this.#stopped) {
        stream.destroy();
        return;
      }
      const hello = encodeLine({
        protocol: PROTOCOL,
        workspace: options.workspace,
        token: options.token,
        ports: options.ports,
        agent: `wsparity-agent@${hostname()}`,
      });
      const connection = stream;
      const writing = new Promise<void>((resolve, reject) =>
        connection.write(hello, (err) => (err ? reject(err) : resolve())),
      );
      const reply = parseReply(await readLine(stream, options.connectTimeoutMs));
      // HTTP/2 must not take over a TLS socket with a write still in flight (node asserts).
      await writing;
      if (!reply.ok) {
        stream.destroy();
        options.log("agent-rejected", {
          workspace: options.workspace,
          status: reply.status,
          error: reply.error,
        });
        this.emit("rejected", reply.status, reply.error);
        this.#scheduleReconnect();
        return;
      }
      this.#serve(stream, reply.heartbeatMs);
    } catch (err) {
      stream?.destroy();
      options.log("agent-connect-failed", {
        workspace: options.workspace,
        server: options.server.href,
        error: (err as Error).message,
      });
      this.#scheduleReconnect();
    }
  }

  #serve(stream: Duplex, heartbeatMs: number): void {
    const { options } = this;
    const session = http2.performServerHandshake(stream, {
      settings: H2_SETTINGS,
      maxSessionMemory: H2_MAX_SESSION_MEMORY_MIB,
    });
    this.#session = session;
    this.#transport = stream;
    // The connection is lost when either the session or its transport goes, whichever is first: when the
    // transport goes first (a WebSocket closing under HTTP/2), the session is ended at once, because Node's
    // JS-stream socket asserts if HTTP/2 writes again into a stream whose last write never completed, and such
    // a session may never emit "close" at all (an idle WebSocket agent then never reconnected).
    let lost = false;
    let heartbeat: NodeJS.Timeout | undefined;
    const onLost = () => {
      if (lost) return;
      lost = true;
      clearInterval(heartbeat);
      if (!session.destroyed) session.destroy();
      stream.destroy();
      if (this.#session === session) this.#session = undefined;
      if (this.#transport === stream) this.#transport = undefined;
      if (this.#stopped) return;
      this.#lostAt = Date.now();
      options.log("agent-disconnected", { workspace: options.workspace });
      this.emit("disconnected", "session closed");
      this.#scheduleReconnect();
    };
    stream.once("end", onLost);
    stream.once("close", onLost);
    stream.once("error", onLost);
    this.state = "connected";
    this.#attempt = 0;
    session.once("localSettings", () => {
      try {
        session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      } catch {
        // Session already gone.
      }
    });
    options.log("agent-connected", {
      workspace: options.workspace,
      server: options.server.href,
      ports: options.ports.join(","),
    });
    this.emit("connected");
    session.on("stream", (h2stream, headers) => this.#forward(h2stream, headers));
    session.on("error", (err) =>
      options.log("agent-session-error", { workspace: options.workspace, error: err.message }),
    );
    heartbeat = setInterval(() => {
      const timeout = setTimeout(() => {
        options.log("agent-heartbeat-missed", { workspace: options.workspace });
        onLost();
      }, heartbeatMs * 2);
      try {
        session.ping((err) => {
          clearTimeout(timeout);
          if (err && !session.destroyed) onLost();
        });
      } catch {
        clearTimeout(timeout);
      }
    }, heartbeatMs);
    session.once("close", onLost);
    if (stream.destroyed || stream.readableEnded) onLost();
  }

  #forward(stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const { options } = this;
    stream.on("error", () => stream.destroy());
    const authority = String(headers[":authority"] ?? "");
    const port = Number(authority.slice(authority.lastIndexOf(":") + 1));
    if (headers[":method"] === "POST" && headers[":path"] === STOP_PATH) {
      this.#stopRequested(stream);
      return;
    }
    if (headers[":method"] !== "CONNECT") {
      stream.respond(
        { ":status": 405, "wsparity-error": "only CONNECT streams are served" },
        { endStream: true },
      );
      return;
    }
    if (!options.ports.includes(port)) {
      options.log("agent-port-refused", { workspace: options.workspace, port });
      stream.respond(
        { ":status": 403, "wsparity-error": `port ${port} is not declared` },
        { endStream: true },
      );
      return;
    }
    const local = options.listensAt?.get(port) ?? port;
    const target = net.connect({ host: options.targetHost, port: local, noDelay: true });
    this.#targets.add(target);
    target.once("close", () => this.#targets.delete(target));
    const refuse = (err: Error) => {
      options.log("agent-target-failed", { workspace: options.workspace, port, error: err.message });
      if (!stream.destroyed) {
        stream.respond(
          { ":status": 502, "wsparity-error": `127.0.0.1:${local}: ${err.message}` },
          { endStream: true },
        );
      }
    };
    target.once("error", refuse);
    stream.once("close", () => {
      if (target.connecting) target.destroy();
    });
    target.once("connect", () => {
      target.off("error", refuse);
      if (stream.destroyed) {
        target.destroy();
        return;
      }
      stream.respond({ ":status": 200 });
      splice(stream, target);
    });
  }

  /**
   * The server's stop request: no reconnect from here on, answer 200, and once the answer has left, close the
   * session (open streams are cut, as on SIGTERM). The process then ends with exit code 0 (see run.ts).
   */
  #stopRequested(stream: ServerHttp2Stream): void {
    const { options } = this;
    if (this.#stopped) {
      stream.respond({ ":status": 200 }, { endStream: true });
      return;
    }
    this.#stopped = true;
    this.state = "stopped";
    clearTimeout(this.#retry);
    options.log("agent-stop-requested", { workspace: options.workspace });
    let closing = false;
    const close = () => {
      if (closing) return;
      closing = true;
      void this.stop().then(() => this.emit("stop-requested"));
    };
    stream.once("close", close);
    // A server that keeps its side of the stream open must not keep the agent up.
    setTimeout(close, 2000).unref();
    stream.respond({ ":status": 200 }, { endStream: true });
  }

  #scheduleReconnect(): void {
    if (this.#stopped) return;
    this.state = "waiting";
    const { initialMs, maxMs } = this.options.backoff;
    const justLost = this.#lostAt !== undefined && Date.now() - this.#lostAt < RESTART_WINDOW_MS;
    const ceiling = Math.min(
      justLost ? Math.min(maxMs, RESTART_CEILING_MS) : maxMs,
      initialMs * 2 ** this.#attempt,
    );
    this.#attempt = Math.min(this.#attempt + 1, 30);
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.options.log("agent-reconnect-scheduled", { workspace: this.options.workspace, inMs: delay });
    this.#retry = setTimeout(() => void this.#connect(), delay);
  }
}
