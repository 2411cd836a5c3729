import { WorkspaceAgent } from "../../src/agent/index.ts";
import { silentLog } from "../../src/tunnel/index.ts";
import type { Workspace } from "../tunnel/helpers.ts";

/**
 * An in-process agent with the CLI's own reconnect policy (backoff 250 ms doubling to 30 s, jitter), so a
 * hundred of them cost one process; `connects` holds the time of every successful hello.
 */
export function reliabilityAgent(
  server: string,
  ws: Workspace,
): { agent: WorkspaceAgent; connects: number[] } {
  const connects: number[] = [];
  const agent = new WorkspaceAgent({
    server: new URL(server),
    workspace: ws.name,
    token: ws.agentToken,
    ports: ws.ports,
    targetHost: "127.0.0.1",
    insecure: true,
    backoff: { initialMs: 250, maxMs: 30_000 },
    connectTimeoutMs: 10_000,
    log: silentLog,
  });
  agent.on("connected", () => connects.push(Date.now()));
  return { agent, connects };
}

export async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The most events in any window of `windowMs`. */
export function peakPerWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}
