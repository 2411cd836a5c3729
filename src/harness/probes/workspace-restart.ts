import { EDITOR_PORT } from "../../kubernetes/settings.ts";
import { type RestartProbe, supported, unsupported } from "./probe.ts";

interface EditorIdentity {
  pid: number;
  startedAt: string;
  hostname: string;
}

async function editorIdentity(ws: Parameters<RestartProbe["prepare"]>[0]["ws"]): Promise<EditorIdentity> {
  const res = await ws.fetch(ws.url(EDITOR_PORT, "/api/info"), {
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) throw new Error(`GET /api/info → ${res.status}`);
  return (await res.json()) as EditorIdentity;
}

/** After a restart the workspace answers again, from a new editor process. */
export const workspaceRestart: RestartProbe<EditorIdentity> = {
  id: "workspace.restart",
  phase: "restart",
  prepare: ({ ws }) => editorIdentity(ws),
  async verify({ ws }, before, restart) {
    if (!restart.ok)
      return unsupported(`restart failed after ${restart.durationMs.toFixed(0)} ms: ${restart.error}`);
    try {
      const after = await editorIdentity(ws);
      const fresh =
        after.startedAt !== before.startedAt ||
        after.pid !== before.pid ||
        after.hostname !== before.hostname;
      const evidence = `restart took ${restart.durationMs.toFixed(0)} ms; editor before pid ${before.pid} on ${before.hostname}, after pid ${after.pid} on ${after.hostname}`;
      return fresh
        ? supported(evidence)
        : unsupported(`${evidence}: the same editor process still runs, nothing restarted`);
    } catch (err) {
      return unsupported(`the editor does not answer after the restart: ${(err as Error).message}`);
    }
  },
};
