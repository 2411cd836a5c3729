// pods/portforward as the kubelet serves it (pkg/kubelet/cri/streaming/portforward in kubernetes/kubernetes):
// - portforward.k8s.io over SPDY/3.1: each forwarded connection is a pair of streams (streamType error and data)
//   sharing a requestID header and naming the pod port in a port header. kubectl 1.30+ tunnels that SPDY session in
//   WebSocket binary messages (subprotocol SPDY/3.1+portforward.k8s.io); older clients upgrade straight to SPDY/3.1.
// - the WebSocket channel protocol (v4.channel.k8s.io, what @kubernetes/client-node speaks): for each ?ports= entry a
//   data channel 2i and an error channel 2i+1, each opened by the port as a little-endian uint16.
import { type Duplex, PassThrough } from "node:stream";
import transport, { type SendWindow, type SpdyConnection, type SpdyStream } from "spdy-transport";
import { createWebSocketStream, type WebSocket } from "ws";

export const PORT_FORWARD_PROTOCOL = "portforward.k8s.io";
export const SPDY_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;
/** The kubelet's channel protocols for port forwarding (v5 is exec-only). */
export const PORT_FORWARD_CHANNEL_PROTOCOLS = ["v4.channel.k8s.io"];
/** How long the kubelet waits for the second stream of a pair (its streamCreationTimeout default). */
const STREAM_PAIR_TIMEOUT_MS = 30_000;

export interface PortForwardTarget {
  pod: string;
  uid: string;
  /** A connection to the port on the pod's localhost. */
  dial(port: number): Promise<Duplex>;
}

/** The kubelet's message when a pod port cannot be reached. */
const forwardError = (target: PortForwardTarget, port: number, err: unknown) =>
  `error forwarding port ${port} to pod ${target.pod}, uid ${target.uid}: ${(err as Error).message ?? err}`;

/** Serves one SPDY/3.1 session of portforward.k8s.io on a byte stream (an upgraded socket or a WebSocket tunnel). */
export function serveSpdyPortForward(socket: Duplex, target: PortForwardTarget): void {
  const session = transport.connection.create(socket, { protocol: "spdy", isServer: true });
  speakSpdystream(session);
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream }>();
  session.on("error", () => socket.destroy());
  session.on("stream", (stream) => {
    unlimitSendWindow(stream);
    stream.on("error", () => stream.destroy());
    const port = Number(header(stream, "port"));
    const type = header(stream, "streamtype");
    if (!Number.isInteger(port) || port < 1 || port > 65535 || (type !== "data" && type !== "error")) {
      stream.abort();
      return;
    }
    stream.respond(200, {});
    // Clients older than the requestID header open the error stream, then the data stream: consecutive odd ids.
    const requestId = header(stream, "requestid") ?? String(type === "error" ? stream.id : stream.id - 2);
    let pair = pairs.get(requestId);
    if (!pair) {
      const created: { data?: SpdyStream; error?: SpdyStream } = {};
      pair = created;
      pairs.set(requestId, created);
      setTimeout(() => {
        if (pairs.get(requestId) !== created) return;
        pairs.delete(requestId);
        created.error?.end(`(request=${requestId}) timed out waiting for streams`);
      }, STREAM_PAIR_TIMEOUT_MS).unref();
    }
    if (pair[type]) {
      (pair.error ?? stream).write(
        `error processing stream for request ${requestId}: ${type} stream already assigned`,
      );
      return;
    }
    pair[type] = stream;
    if (pair.data && pair.error) {
      pairs.delete(requestId);
      forwardStreams(pair.data, pair.error, port, target);
    }
  });
  socket.on("close", () => session.destroyStreams());
}

/** kubectl 1.30+: the SPDY session rides in the WebSocket's binary messages. */
export function serveTunnelledPortForward(ws: WebSocket, target: PortForwardTarget): void {
  const tunnel = createWebSocketStream(ws);
  tunnel.on("error", () => tunnel.destroy());
  serveSpdyPortForward(tunnel, target);
}

function forwardStreams(data: SpdyStream, error: SpdyStream, port: number, target: PortForwardTarget): void {
  // The client half-closes the error stream at once; it only reads from it.
  error.resume();
  target.dial(port).then(
    (upstream) => {
      upstream.on("error", () => upstream.destroy());
      data.pipe(upstream);
      upstream.pipe(data);
      upstream.once("close", () => {
        data.end();
        error.end();
      });
      data.once("close", () => upstream.destroy());
    },
    (err) => {
      error.end(forwardError(target, port, err));
      data.end();
    },
  );
}

/** Serves one v4.channel.k8s.io port-forward session: one connection to each requested port. */
export function serveChannelPortForward(ws: WebSocket, ports: number[], target: PortForwardTarget): void {
  const send = (channel: number, body: Buffer | string) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(body)]));
  };
  // What the client sends before its port's connection is up waits in `inbound`.
  const inbound = ports.map(() => new PassThrough());
  const upstreams: Duplex[] = [];
  let open = ports.length;
  const done = () => {
    if (--open === 0) ws.close(1000);
  };
  ports.forEach((port, i) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(2 * i, portBytes);
    send(2 * i + 1, portBytes);
    target.dial(port).then(
      (upstream) => {
        upstreams.push(upstream);
        upstream.on("error", () => upstream.destroy());
        upstream.on("data", (chunk: Buffer) => send(2 * i, chunk));
        upstream.once("close", done);
        inbound[i]!.pipe(upstream);
      },
      (err) => {
        send(2 * i + 1, forwardError(target, port, err));
        done();
      },
    );
  });
  ws.on("message", (message: Buffer) => {
    const channel = message[0]!;
    if (channel % 2 === 0) inbound[channel / 2]?.write(message.subarray(1));
  });
  ws.on("close", () => {
    for (const upstream of upstreams) upstream.destroy();
  });
  ws.on("error", () => ws.terminate());
}

/** The ports of a v4.channel.k8s.io request, as the kubelet parses ?ports= (repeated or comma-separated). */
export function channelPorts(values: string[]): number[] | string {
  if (!values.length) return `query parameter "port" is required`;
  const ports: number[] = [];
  for (const value of values) {
    if (!value) return `query parameter "port" cannot be empty`;
    for (const p of value.split(",")) {
      const port = /^\d+$/.test(p) ? Number(p) : Number.NaN;
      if (!(port <= 65535)) return `unable to parse "${value}" as a port`;
      if (port < 1) return `port "${value}" must be > 0`;
      ports.push(port);
    }
  }
  return ports;
}

function header(stream: SpdyStream, name: string): string | undefined {
  const value = stream.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Adapts spdy-transport to Kubernetes' SPDY library (spdystream), which kubectl and the kubelet use:
 * - spdy-transport parses SPDY as HTTP and refuses a SYN_STREAM without :method and :path, while spdystream's
 *   streams carry only their own headers: the two pseudo-headers are supplied;
 * - spdystream does no flow control (it never sends WINDOW_UPDATE), so a sender that honours SPDY/3.1's 64 KiB
 *   window stalls after 64 KiB: like the kubelet, this side sends without waiting for window (unlimitSendWindow).
 */
function speakSpdystream(session: SpdyConnection): void {
  const state = session._spdyState;
  const parseKVs = state.parser.parseKVs.bind(state.parser);
  state.parser.parseKVs = (body, callback) =>
    parseKVs(body, (err, headers) =>
      callback(err, err ? headers : { ":method": "POST", ":path": "/", ...headers }),
    );
  unlimit(state.window.send);
}

function unlimitSendWindow(stream: SpdyStream): void {
  unlimit(stream._spdyState.window.send);
}

function unlimit(side: SendWindow): void {
  side.update = (_size, callback) => {
    if (callback) process.nextTick(callback);
  };
}
