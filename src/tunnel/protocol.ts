import type { Duplex } from "node:stream";

/**
 * The agent ↔ server wire protocol, version 1 (docs/tunnel-protocol.md):
 * one JSON line each way (hello, reply), then HTTP/2 with reversed roles over the same byte stream:
 * the agent, which dialled, is the HTTP/2 server; the tunnel server is the HTTP/2 client and opens one
 * CONNECT stream per user connection.
 */
export const PROTOCOL = "wsparity-tunnel/1";
export const MAX_LINE_BYTES = 8192;
export const AGENT_WEBSOCKET_PATH = "/-/agent";
/**
 * The largest WebSocket message the server takes from an agent, which bounds what one unauthenticated
 * connection can make it buffer before the hello is checked. HTTP/2 writes reach the WebSocket in chunks of
 * at most 16 KiB (measured), so 1 MiB leaves ample room.
 */
export const AGENT_WEBSOCKET_MAX_MESSAGE_BYTES = 1024 * 1024;
/** The stream the server opens with `:method = POST` to tell the agent to stop for good (it answers 200). */
export const STOP_PATH = "/-/stop";

export interface AgentHello {
  protocol: typeof PROTOCOL;
  workspace: string;
  token: string;
  /** Ports the agent will forward to on 127.0.0.1; informational for the server when it has its own list. */
  ports: number[];
  agent: string;
}

export type ServerReply =
  | { ok: true; heartbeatMs: number }
  | { ok: false; status: 400 | 401 | 403 | 404 | 409 | 503; error: string };

/** Flow-control windows: a stream moves at most window ÷ round-trip time, so the 64 KiB default is far too small. */
export const STREAM_WINDOW_BYTES = 8 * 1024 * 1024;
export const CONNECTION_WINDOW_BYTES = 64 * 1024 * 1024;
export const H2_SETTINGS = {
  initialWindowSize: STREAM_WINDOW_BYTES,
  maxConcurrentStreams: 100_000,
  maxFrameSize: 64 * 1024,
  enablePush: false,
};
/** MiB of buffered frames nghttp2 may hold per session before it refuses new streams. */
export const H2_MAX_SESSION_MEMORY_MIB = 512;

export function encodeLine(message: AgentHello | ServerReply): Buffer {
  return Buffer.from(`${JSON.stringify(message)}\n`);
}

/**
 * Reads one newline-terminated line from a stream, then pauses it and puts back any bytes after the line,
 * so the HTTP/2 session that takes the stream over sees them.
 */
export function readLine(stream: Duplex, timeoutMs: number, maxBytes = MAX_LINE_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (err: Error | null, line?: string) => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onError);
      if (err) reject(err);
      else resolve(line!);
    };
    const onData = (chunk: Buffer) => {
      const newline = chunk.indexOf(10);
      if (newline === -1) {
        chunks.push(chunk);
        length += chunk.length;
        if (length > maxBytes) finish(new ProtocolError(400, `first line longer than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk.subarray(0, newline));
      length += newline;
      stream.pause();
      const rest = chunk.subarray(newline + 1);
      if (rest.length > 0) stream.unshift(rest);
      if (length > maxBytes) finish(new ProtocolError(400, `first line longer than ${maxBytes} bytes`));
      else finish(null, Buffer.concat(chunks).toString("utf8"));
    };
    const onEnd = () => finish(new ProtocolError(400, "connection closed before the first line"));
    const onError = (err: Error) => finish(err);
    const timer = setTimeout(
      () => finish(new ProtocolError(400, `no first line within ${timeoutMs} ms`)),
      timeoutMs,
    );
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("close", onEnd);
    stream.once("error", onError);
    stream.resume();
  });
}

export class ProtocolError extends Error {
  override name = "ProtocolError";
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

export function parseHello(line: string): AgentHello {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError(400, "hello is not JSON");
  }
  const hello = value as Partial<AgentHello> | null;
  if (!hello || typeof hello !== "object") throw new ProtocolError(400, "hello is not an object");
  if (hello.protocol !== PROTOCOL) {
    throw new ProtocolError(
      400,
      `unsupported protocol ${JSON.stringify(hello.protocol)}, expected ${PROTOCOL}`,
    );
  }
  if (typeof hello.workspace !== "string" || hello.workspace.length === 0) {
    throw new ProtocolError(400, "hello.workspace must be a non-empty string");
  }
  if (typeof hello.token !== "string") throw new ProtocolError(400, "hello.token must be a string");
  const ports = Array.isArray(hello.ports) ? hello.ports : [];
  if (!ports.every(isPort)) throw new ProtocolError(400, "hello.ports must be TCP port numbers");
  return {
    protocol: PROTOCOL,
    workspace: hello.workspace,
    token: hello.token,
    ports,
    agent: typeof hello.agent === "string" ? hello.agent.slice(0, 200) : "unknown",
  };
}

export function parseReply(line: string): ServerReply {
  const reply = JSON.parse(line) as ServerReply;
  if (typeof reply !== "object" || reply === null || typeof reply.ok !== "boolean") {
    throw new Error(`tunnel server sent an unexpected reply: ${line.slice(0, 200)}`);
  }
  return reply;
}

export function isPort(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}
