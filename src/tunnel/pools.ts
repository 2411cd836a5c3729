import http from "node:http";
import type { Duplex } from "node:stream";
import type { TunnelMetrics } from "./metrics.ts";
import type { WorkspaceRoute } from "./routes.ts";

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
    const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 1024, scheduling: "lifo" });
    agent.createConnection = ((_options: unknown, callback: (err: Error | null, socket?: Duplex) => void) => {
      route.connect(port).then(
        (stream) => {
          metrics.streamOpened();
          stream.once("close", () => metrics.streamClosed());
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
  return socket;
}
