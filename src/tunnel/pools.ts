import http from "node:http";
import type { Duplex } from "node:stream";
import type { TunnelMetrics } from "./metrics.ts";
import type { WorkspaceRoute } from "./routes.ts";

const FREE_STREAM_IDLE_MS = 4000;

/**
 * Keep-alive connection pools, one per workspace port, so a user's keep-alive requests reuse one stream
 * (and one TCP connection inside the workspace) instead of opening a new one per request.
 */
export class StreamPools {
  readonly #pools = new Map<string, { route: WorkspaceRoute; epoch: number; agent: http.Agent }>();

  constructor(private readonly metrics: TunnelMetrics) {}

  get(route: WorkspaceRoute, port: number): http.Agent {
    const key = `${route.workspace}:${port}`;
    const epoch = route.epoch ?? 0;
    const existing = this.#pools.get(key);
    if (existing && existing.route === route && existing.epoch === epoch) return existing.agent;
    if (existing) retire(existing.agent);
    const agent = this.#create(route, port);
    this.#pools.set(key, { route, epoch, agent });
    return agent;
  }

  /** Drops the pools of a workspace whose route changed or went away. */
  retireWorkspace(workspace: string): void {
    for (const [key, pool] of this.#pools) {
      if (pool.route.workspace === workspace) {
        retire(pool.agent);
        this.#pools.delete(key);
      }
    }
  }

  close(): void {
    for (const pool of this.#pools.values()) pool.agent.destroy();
    this.#pools.clear();
  }

  #create(route: WorkspaceRoute, port: number): http.Agent {
    const metrics = this.metrics;
    // Idle streams are dropped before common keep-alive timeouts inside workspaces (node's is 5 s), so a request
    // rarely lands on a connection the workspace is just closing.
    const agent = new http.Agent({
      keepAlive: true,
      maxFreeSockets: 1024,
      scheduling: "lifo",
      timeout: FREE_STREAM_IDLE_MS,
    });
    const keep = agent.keepSocketAlive.bind(agent);
    // A stream whose far end has closed cannot carry another request.
    agent.keepSocketAlive = (socket) => !socket.readableEnded && !socket.destroyed && keep(socket);
    agent.createConnection = ((_options: unknown, callback: (err: Error | null, socket?: Duplex) => void) => {
      route.connect(port).then(
        (stream) => {
          metrics.streamOpened();
          stream.once("close", () => metrics.streamClosed());
          stream.once("end", () => {
            // The workspace closed this connection; if it sits idle in the pool, drop it now.
            if (!(stream as Duplex & { _httpMessage?: unknown })._httpMessage) stream.destroy();
          });
          callback(null, asSocket(stream));
        },
        (err: Error) => callback(err),
      );
      return undefined;
    }) as unknown as http.Agent["createConnection"];
    return agent;
  }
}

function retire(agent: http.Agent): void {
  agent.keepSocketAlive = () => false;
  for (const sockets of Object.values(agent.freeSockets))
    for (const socket of sockets ?? []) socket.destroy();
}

/** Gives a byte stream that is not a net.Socket (an HTTP/2 stream) the few socket methods http.Agent calls. */
export function asSocket(stream: Duplex): Duplex {
  const socket = stream as Duplex & Record<string, unknown>;
  const self = () => socket;
  socket.setKeepAlive ??= self;
  socket.setNoDelay ??= self;
  socket.ref ??= self;
  socket.unref ??= self;
  socket.setTimeout ??= self;
  socket.destroySoon ??= () => {
    socket.end();
    socket.once("finish", () => socket.destroy());
  };
  // http.ClientRequest corks a request's head (a latin1 string) with its body; an HTTP/2 stream's writev
  // of mixed strings and buffers garbles the head's first bytes, so every chunk goes down as a Buffer.
  const writev = socket._writev as
    | ((chunks: { chunk: unknown; encoding: BufferEncoding }[], cb: (err?: Error | null) => void) => void)
    | undefined;
  if (writev) {
    socket._writev = (
      chunks: { chunk: unknown; encoding: BufferEncoding }[],
      cb: (err?: Error | null) => void,
    ) =>
      writev.call(
        socket,
        chunks.map(({ chunk, encoding }) =>
          typeof chunk === "string"
            ? { chunk: Buffer.from(chunk, encoding), encoding: "buffer" as BufferEncoding }
            : { chunk, encoding },
        ),
        cb,
      );
  }
  return socket;
}
