import type { Duplex } from "node:stream";
import { openConnectTunnel } from "../../tunnel/index.ts";
import { fetchAsUser } from "../name-resolution.ts";
import type { WorkspaceFacts, WorkspaceHandle } from "../workspace.ts";

export interface Lifecycle {
  restart(): Promise<void>;
  stop(): Promise<void>;
  leftovers(): Promise<string[]>;
  dispose(): Promise<void>;
  ended?(): Promise<string | undefined>;
}

/** The tunnel's user listener and the domain of its host-form names. */
export interface TunnelUserSurface {
  userUrl: string;
  domain: string;
}

/**
 * A CI workspace as its user reaches it through the tunnel's user listener: the path form URL, a bearer
 * token, and CONNECT for raw TCP.
 */
export function userFacingHandle(
  tunnel: TunnelUserSurface,
  name: string,
  userToken: string,
  lifecycle: Lifecycle,
  facts: WorkspaceFacts,
): WorkspaceHandle {
  const authHeaders = () => ({ authorization: `Bearer ${userToken}` });
  return {
    name,
    facts,
    url: (port, path = "/") =>
      `${tunnel.userUrl}/-/ws/${name}/${port}${path.startsWith("/") ? path : `/${path}`}`,
    authHeaders,
    fetch: fetchAsUser(authHeaders, undefined),
    connect: (port): Promise<Duplex> =>
      openConnectTunnel({
        url: new URL(tunnel.userUrl),
        workspace: name,
        port,
        token: userToken,
        domain: tunnel.domain,
        timeoutMs: 10_000,
      }),
    restart: () => lifecycle.restart(),
    stop: () => lifecycle.stop(),
    leftovers: () => lifecycle.leftovers(),
    ...(lifecycle.ended ? { ended: lifecycle.ended } : {}),
    dispose: () => lifecycle.dispose(),
  };
}

/**
 * Polls `check` until it returns true or the time is up; the last failure explains the timeout.
 * `fatal` is asked between attempts and ends the wait at once with its reason (e.g. the job failed).
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  fatal: () => Promise<string | undefined> = async () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = `: ${(err as Error).message}`;
    }
    const reason = await fatal();
    if (reason) throw new Error(`${what} cannot happen: ${reason}`);
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms${last}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** True once the editor answers /healthz through the user URL. */
export async function editorAnswers(handle: WorkspaceHandle, editorPort: number): Promise<boolean> {
  const res = await handle.fetch(handle.url(editorPort, "/healthz"), {
    signal: AbortSignal.timeout(3000),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET /healthz → ${res.status}`);
  return true;
}
