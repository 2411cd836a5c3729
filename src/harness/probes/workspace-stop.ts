import { EDITOR_PORT } from "../../kubernetes/settings.ts";
import type { WorkspaceHandle } from "../workspace.ts";
import { type StopProbe, supported, unsupported } from "./probe.ts";

async function stillThere(
  ws: WorkspaceHandle,
): Promise<{ reachable: boolean; answer: string; leftovers: string[] }> {
  const url = ws.url(EDITOR_PORT, "/healthz");
  let answer: string;
  let reachable = false;
  try {
    const res = await ws.fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    reachable = res.status === 200;
    answer = `GET ${url} → ${res.status}`;
  } catch (err) {
    answer = `GET ${url} failed (${(err as Error).message})`;
  }
  return { reachable, answer, leftovers: await ws.leftovers() };
}

/**
 * Stop frees everything: the URL no longer reaches the workspace and nothing it ran remains. Both
 * paths stop asynchronously (pods terminate, jobs cancel), so it waits up to half the probe's time.
 */
export const workspaceStop: StopProbe = {
  id: "workspace.stop",
  phase: "stop",
  async run({ ws, timeoutMs }) {
    const t0 = performance.now();
    await ws.stop();
    const stopMs = performance.now() - t0;
    const deadline = t0 + timeoutMs / 2;
    let seen = await stillThere(ws);
    while ((seen.reachable || seen.leftovers.length > 0) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await stillThere(ws);
    }
    const freedMs = performance.now() - t0;
    const left = seen.leftovers.length === 0 ? "nothing left running" : `left: ${seen.leftovers.join(", ")}`;
    const evidence = `stop returned after ${stopMs.toFixed(0)} ms; after ${freedMs.toFixed(0)} ms ${seen.answer}; ${left}`;
    return !seen.reachable && seen.leftovers.length === 0 ? supported(evidence) : unsupported(evidence);
  },
};
