import { EDITOR_PORT } from "../../kubernetes/settings.ts";
import { type StopProbe, supported, unsupported } from "./probe.ts";

/** Stop frees everything: the URL no longer reaches the workspace and nothing it ran remains. */
export const workspaceStop: StopProbe = {
  id: "workspace.stop",
  phase: "stop",
  async run({ ws }) {
    const t0 = performance.now();
    await ws.stop();
    const stopMs = performance.now() - t0;
    const url = ws.url(EDITOR_PORT, "/healthz");
    let answer: string;
    let reachable = false;
    try {
      const res = await fetch(url, { headers: ws.authHeaders(), signal: AbortSignal.timeout(5_000) });
      reachable = res.status === 200;
      answer = `GET ${url} → ${res.status}`;
    } catch (err) {
      answer = `GET ${url} failed (${(err as Error).message})`;
    }
    const leftovers = await ws.leftovers();
    const evidence = `stop took ${stopMs.toFixed(0)} ms; ${answer}; ${leftovers.length === 0 ? "nothing left running" : `left: ${leftovers.join(", ")}`}`;
    return !reachable && leftovers.length === 0 ? supported(evidence) : unsupported(evidence);
  },
};
