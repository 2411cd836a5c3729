import type { Duplex } from "node:stream";
import type { TunnelMetrics } from "./metrics.ts";
import type { WorkspaceRoute } from "./routes.ts";

/** Idle streams are dropped before common keep-alive timeouts inside workspaces (node's is 5 s). */
const FREE_STREAM_IDLE_MS = 4000;
const MAX_FREE_STREAMS = 1024;

export interface PooledStream {
  stream: Duplex;
  /** It carried an earlier request: it may turn out to be closing under this one. */
  reused: boolean;
}

/**
 * Keep-alive streams, one pool per workspace port, so a user's keep-alive requests reuse one stream (and one TCP
 * connection inside the workspace) instead of opening a new one per request.
 */
export class StreamPools {
  readonly #pools = new Map<string, { route: WorkspaceRoute; epoch: number; pool: StreamPool }>();

  constructor(private readonly metrics: TunnelMetrics) {}

  get(route: WorkspaceRoute, port: number): StreamPool {
    const key = `${route.workspace}:${port}`;
    const epoch = route.epoch ?? 0;
    const existing = this.#pools.get(key);
    if (existing && existing.route === route && existing.epoch === epoch) return existing.pool;
    existing?.pool.retire();
    const pool = new StreamPool(route, port, this.metrics);
    this.#pools.set(key, { route, epoch, pool });
    return pool;
  }

  /** Drops the pools of a workspace whose route changed or went away. */
  retireWorkspace(workspace: string): void {
    for (const [key, entry] of this.#pools) {
      if (entry.route.workspace === workspace) {
        entry.pool.retire();
        this.#pools.delete(key);
      }
    }
  }

  close(): void {
    for (const entry of this.#pools.values()) entry.pool.retire();
    this.#pools.clear();
  }
}

interface FreeStream {
  stream: Duplex;
  timer: NodeJS.Timeout;
  drop: () => void;
}

export class StreamPool {
  /** Most recently used last: the next request takes the warmest stream. */
  readonly #free: FreeStream[] = [];
  #retired = false;

  constructor(
    private readonly route: WorkspaceRoute,
    private readonly port: number,
    private readonly metrics: TunnelMetrics,
  ) {}

  async acquire(): Promise<PooledStream> {
    const free = this.#free.pop();
    if (free) {
      this.#unwatch(free);
      return { stream: free.stream, reused: true };
    }
    const stream = await this.route.connect(this.port);
    this.metrics.streamOpened();
    stream.once("close", () => this.metrics.streamClosed());
    // Failures surface to whoever uses the stream through its own listeners and 'close'; between exchanges one
    // must not crash the process.
    stream.on("error", () => {});
    return { stream, reused: false };
  }

  /** Takes back a stream that finished an exchange; `reusable` false (or a retired pool, or a full one) closes it. */
  release(stream: Duplex, reusable: boolean): void {
    if (
      !reusable ||
      this.#retired ||
      this.#free.length >= MAX_FREE_STREAMS ||
      stream.destroyed ||
      stream.readableEnded ||
      stream.writableEnded
    ) {
      stream.destroy();
      return;
    }
    // While idle, the workspace may only close the stream: anything it sends is a protocol error.
    const drop = () => {
      const at = this.#free.indexOf(entry);
      if (at !== -1) this.#free.splice(at, 1);
      this.#unwatch(entry);
      stream.destroy();
    };
    const entry: FreeStream = { stream, timer: setTimeout(drop, FREE_STREAM_IDLE_MS), drop };
    entry.timer.unref();
    stream.on("data", drop);
    stream.on("end", drop);
    stream.on("error", drop);
    stream.on("close", drop);
    stream.resume();
    this.#free.push(entry);
  }

  /** No new streams are kept; idle ones are closed. Streams in use finish their exchange and are then closed. */
  retire(): void {
    this.#retired = true;
    for (const entry of this.#free.splice(0)) {
      this.#unwatch(entry);
      entry.stream.destroy();
    }
  }

  #unwatch(entry: FreeStream): void {
    clearTimeout(entry.timer);
    entry.stream.off("data", entry.drop);
    entry.stream.off("end", entry.drop);
    entry.stream.off("error", entry.drop);
    entry.stream.off("close", entry.drop);
    entry.stream.pause();
  }
}
