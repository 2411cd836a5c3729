import { DATA_DIR, mainVolumeMounts } from "./data-paths.ts";
import { execInWorkspace } from "./editor-client.ts";
import { degraded, type RestartProbe, supported, unsupported } from "./probe.ts";
import { simJobPodPathsShared } from "./sim-tier.ts";

interface Written {
  token: string;
  places: { label: string; file: string; written: boolean }[];
}

/** Data written before a restart is there after it: in the workspace data folder and each persistent volume. */
export const volumePersistent: RestartProbe<Written> = {
  id: "volume.persistent",
  phase: "restart",
  notApplicable: simJobPodPathsShared,
  async prepare({ ws, spec }) {
    const token = `persist-${Math.random().toString(36).slice(2, 10)}`;
    const targets = [
      { label: "workspace data ($PROJECTS_ROOT)", dir: DATA_DIR },
      ...mainVolumeMounts(spec, false).map((m) => ({
        label: `volume ${m.volume} at ${m.path}`,
        dir: `'${m.path}'`,
      })),
    ];
    const places = [];
    for (const t of targets) {
      const file = `${t.dir}/.wsparity-${token}`;
      const out = await execInWorkspace(ws, `mkdir -p ${t.dir} && echo ${token} > ${file}`);
      places.push({ label: t.label, file, written: out.exitCode === 0 });
    }
    return { token, places };
  },
  async verify({ ws }, state, restart) {
    if (!restart.ok) return unsupported(`the restart failed: ${restart.error}`);
    const checks: string[] = [];
    let kept = 0;
    for (const place of state.places) {
      if (!place.written) {
        checks.push(`${place.label}: could not write before the restart`);
        continue;
      }
      // Read, then remove: on hosts without isolation these paths are the host's own folders.
      const out = await execInWorkspace(
        ws,
        `cat ${place.file}; status=$?; rm -f ${place.file}; exit $status`,
      );
      const ok = out.stdout.trim() === state.token;
      if (ok) kept++;
      checks.push(`${place.label}: ${ok ? "kept" : "lost"}`);
    }
    const evidence = `after a ${restart.durationMs.toFixed(0)} ms restart: ${checks.join("; ")}`;
    if (kept === state.places.length) return supported(evidence);
    return kept > 0 ? degraded(evidence) : unsupported(evidence);
  },
};
