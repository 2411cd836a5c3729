import { mainVolumeMounts } from "./data-paths.ts";
import { execInWorkspace } from "./editor-client.ts";
import { type RestartProbe, supported, unsupported } from "./probe.ts";
import { simJobPodPathsShared } from "./sim-tier.ts";

interface Written {
  token: string;
  places: { label: string; file: string; written: boolean }[];
}

/** An ephemeral volume is mounted and writable, and starts empty again after a restart. */
export const volumeEphemeral: RestartProbe<Written> = {
  id: "volume.ephemeral",
  phase: "restart",
  notApplicable: (ctx) =>
    mainVolumeMounts(ctx.spec, true).length === 0
      ? "the main container mounts no ephemeral volume"
      : simJobPodPathsShared(ctx),
  async prepare({ ws, spec }) {
    const token = `ephemeral-${Math.random().toString(36).slice(2, 10)}`;
    const places = [];
    for (const m of mainVolumeMounts(spec, true)) {
      const file = `'${m.path}/.wsparity-${token}'`;
      const out = await execInWorkspace(ws, `echo ${token} > ${file}`);
      places.push({ label: `volume ${m.volume} at ${m.path}`, file, written: out.exitCode === 0 });
    }
    return { token, places };
  },
  async verify({ ws }, state, restart) {
    if (!restart.ok) return unsupported(`the restart failed: ${restart.error}`);
    const checks: string[] = [];
    let wrong = 0;
    for (const place of state.places) {
      if (!place.written) {
        wrong++;
        checks.push(`${place.label}: not writable`);
        continue;
      }
      const out = await execInWorkspace(ws, `test -e ${place.file}`);
      const emptied = out.exitCode !== 0;
      if (!emptied) wrong++;
      checks.push(
        `${place.label}: ${emptied ? "writable, and empty again after the restart" : "still holds data from before the restart"}`,
      );
    }
    return wrong === 0 ? supported(checks.join("; ")) : unsupported(checks.join("; "));
  },
};
