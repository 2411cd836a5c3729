import http2 from "node:http2";
import type { Duplex } from "node:stream";
import type { AgentRegistry } from "./agent-registry.ts";
import type { TunnelLog } from "./log.ts";
import type { TunnelMetrics } from "./metrics.ts";
import {
  CONNECTION_WINDOW_BYTES,
  encodeLine,
  H2_MAX_SESSION_MEMORY_MIB,
  H2_SETTINGS,
  ProtocolError,
  parseHello,
  readLine,
} from "./protocol.ts";

/** How long the connected agent has to answer a PING before a second agent for its workspace takes over. */
const HOLDER_PING_MS = 2000;

export interface AgentAcceptOptions {
  helloTimeoutMs: number;
  heartbeatMs: number;
}

/**
 * Runs the server side of the protocol on a fresh agent connection (TCP, TLS or a WebSocket stream):
 * reads the hello, checks the token, answers, then becomes the HTTP/2 client over the same stream.
 */
export async function acceptAgent(
  socket: Duplex,
  peer: string,
  registry: AgentRegistry,
  metrics: TunnelMetrics,
  log: TunnelLog,
  options: AgentAcceptOptions,
): Promise<void> {
  socket.on("error", () => socket.destroy());
  let route: ReturnType<AgentRegistry["authenticate"]>;
  let hello: ReturnType<typeof parseHello>;
  try {
    hello = parseHello(await readLine(socket, options.helloTimeoutMs));
    route = registry.authenticate(hello);
    if (await registry.holderAnswers(route, Math.min(options.heartbeatMs, HOLDER_PING_MS))) {
      const holder = route.holder;
      throw new ProtocolError(
        409,
        `workspace ${hello.workspace} already has a connected agent (${holder?.peer ?? "unknown peer"}, since ${holder?.since.toISOString() ?? "?"}); stop that one first`,
      );
    }
  } catch (err) {
    const status = (err as ProtocolError).status ?? 400;
    const message = (err as Error).message;
    metrics.agentRejectsTotal++;
    log("agent-rejected", { peer, status, reason: message });
    if (!socket.destroyed) socket.end(encodeLine({ ok: false, status, error: message }));
    const cut = setTimeout(() => socket.destroy(), 1000);
    cut.unref();
    socket.once("close", () => clearTimeout(cut));
    return;
  }
  // HTTP/2 must not take over a TLS socket with a write still in flight (node asserts), so wait for it.
  const written = await new Promise<boolean>((resolve) =>
    socket.write(encodeLine({ ok: true, heartbeatMs: options.heartbeatMs }), (err) => resolve(!err)),
  );
  if (!written || socket.destroyed || socket.readableEnded || !socket.writable) {
    socket.destroy();
    return;
  }
  const session = http2.connect("http://agent.invalid", {
    createConnection: () => socket,
    settings: H2_SETTINGS,
    maxSessionMemory: H2_MAX_SESSION_MEMORY_MIB,
    peerMaxConcurrentStreams: H2_SETTINGS.maxConcurrentStreams,
  });
  // A transport that goes first (a WebSocket agent dropping right after its hello) must end the session at
  // once: Node's JS-stream socket under HTTP/2 asserts, killing the process, when HTTP/2 writes again into a
  // stream whose last write never completed.
  const dropSession = () => {
    if (!session.destroyed) session.destroy();
  };
  socket.once("end", dropSession);
  socket.once("close", dropSession);
  socket.once("error", dropSession);
  session.on("error", (err) =>
    log("agent-session-error", { workspace: hello.workspace, peer, error: err.message }),
  );
  session.once("connect", () => {
    try {
      session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    } catch {
      // The session may already be gone.
    }
  });
  registry.attach(route, session, socket, hello, peer);
}
