// The tunnel server's admin API as a client uses it over HTTP (the harness's CI path, or anyone holding the
// admin token): register a CI workspace's tokens before its job starts, ask whether its agent is connected,
// ask the agent to end its job, and remove the workspace.
import type { Dispatcher } from "undici";

export interface TunnelAdminOptions {
  /** The tunnel's user listener (where /-/admin/workspaces is served). */
  url: string;
  adminToken: string;
  dispatcher?: Dispatcher;
}

export class TunnelAdminClient {
  constructor(private readonly options: TunnelAdminOptions) {}

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const url = new URL(`/-/admin/workspaces/${path}`, this.options.url);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.options.adminToken}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
        signal: AbortSignal.timeout(20_000),
      } as RequestInit);
    } catch (err) {
      throw new Error(
        `the tunnel's admin API at ${url.origin} did not answer ${method}: ${(err as Error).message}`,
      );
    }
    return res;
  }

  private async expect(res: Response, status: number, what: string): Promise<Response> {
    if (res.status !== status)
      throw new Error(
        `the tunnel refused to ${what}: ${res.status} ${(await res.text()).trim().slice(0, 200)}`,
      );
    return res;
  }

  async add(workspace: string, agentToken: string, userTokens: string[]): Promise<void> {
    const res = await this.call("PUT", encodeURIComponent(workspace), { agentToken, userTokens });
    await (await this.expect(res, 201, `add workspace ${workspace}`)).arrayBuffer();
  }

  /** Whether the workspace's agent is connected now; false when the tunnel does not know the workspace. */
  async online(workspace: string): Promise<boolean> {
    const res = await this.call("GET", encodeURIComponent(workspace));
    if (res.status === 404) {
      await res.arrayBuffer();
      return false;
    }
    return (
      (await (await this.expect(res, 200, `read workspace ${workspace}`)).json()) as { online: boolean }
    ).online;
  }

  /** Asks the workspace's agent to end its job; false when it is offline or did not answer in time. */
  async requestStop(workspace: string): Promise<boolean> {
    const res = await this.call("POST", `${encodeURIComponent(workspace)}/stop`);
    if (res.status === 404) {
      await res.arrayBuffer();
      return false;
    }
    return (
      (await (await this.expect(res, 200, `stop workspace ${workspace}`)).json()) as { stopped: boolean }
    ).stopped;
  }

  async remove(workspace: string): Promise<void> {
    const res = await this.call("DELETE", encodeURIComponent(workspace));
    if (res.status !== 404) await this.expect(res, 204, `remove workspace ${workspace}`);
    await res.arrayBuffer();
  }
}
