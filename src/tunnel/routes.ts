import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";

/**
 * One workspace as the user listener sees it. Agent-backed routes (the CI path) come from the agent
 * registry; the Kubernetes path registers routes whose `connect` dials the pod directly.
 */
export interface WorkspaceRoute {
  readonly workspace: string;
  /** Declared endpoints: the only ports a user may reach. */
  readonly ports: readonly number[];
  /** Any of these, as a bearer token or cookie, lets a user in. */
  readonly userTokens: readonly string[];
  /**
   * Changes whenever the backend behind the route changes (an agent reconnects, a pod moves);
   * pooled keep-alive connections from an older epoch are dropped instead of reused.
   */
  readonly epoch?: number;
  /** Opens a byte stream to `port` inside the workspace. Rejects with a RouteError to set the user's status. */
  connect(port: number): Promise<Duplex>;
}

/** Why a route could not be reached; `status` is what the user gets. */
export class RouteError extends Error {
  override name = "RouteError";
  constructor(
    readonly status: 403 | 502 | 503,
    message: string,
  ) {
    super(message);
  }
}

export class RouteTable extends EventEmitter<{ change: [workspace: string] }> {
  readonly #routes = new Map<string, WorkspaceRoute>();

  /** Adds a route, replacing any route of the same workspace. */
  register(route: WorkspaceRoute): void {
    this.#routes.set(route.workspace, route);
    this.emit("change", route.workspace);
  }

  unregister(workspace: string): boolean {
    const removed = this.#routes.delete(workspace);
    if (removed) this.emit("change", workspace);
    return removed;
  }

  get(workspace: string): WorkspaceRoute | undefined {
    return this.#routes.get(workspace);
  }

  get size(): number {
    return this.#routes.size;
  }

  names(): string[] {
    return [...this.#routes.keys()];
  }
}
