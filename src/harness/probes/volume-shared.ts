import type { WorkspaceSpec } from "../../devfile/spec.ts";
import { execInWorkspace } from "./editor-client.ts";
import { type Probe, supported, unsupported } from "./probe.ts";
import { simJobPodPathsShared } from "./sim-tier.ts";

/**
 * A sidecar endpoint with the attribute `wsparity/serves-volume: <volume>` serves that volume's files
 * over HTTP: the only way to see, from the user's side, what another container sees in a volume.
 */
export const SERVES_VOLUME = "wsparity/serves-volume";

function pairs(spec: WorkspaceSpec) {
  const main = spec.containers.find((c) => c.main);
  if (!main) return [];
  return spec.containers.flatMap((sidecar) =>
    sidecar.main
      ? []
      : sidecar.endpoints.flatMap((e) => {
          const volume = e.attributes[SERVES_VOLUME];
          const mainMount = main.volumeMounts.find((m) => m.name === volume);
          return typeof volume === "string" &&
            mainMount &&
            sidecar.volumeMounts.some((m) => m.name === volume)
            ? [{ sidecar: sidecar.name, port: e.targetPort, volume, mainPath: mainMount.path }]
            : [];
        }),
  );
}

export const volumeShared: Probe = {
  id: "volume.shared",
  notApplicable: (ctx) =>
    pairs(ctx.spec).length === 0
      ? `no sidecar endpoint has the attribute ${SERVES_VOLUME} for a volume the main container mounts`
      : simJobPodPathsShared(ctx),
  async run({ ws, spec, timeoutMs }) {
    const checks: string[] = [];
    let wrong = 0;
    for (const p of pairs(spec)) {
      const token = `shared-${Math.random().toString(36).slice(2, 10)}`;
      const file = `.wsparity-${token}`;
      const read = `"$WSPARITY_NODE" -e 'require("http").get("http://127.0.0.1:${p.port}/${file}", r => { let b = ""; r.on("data", c => b += c); r.on("end", () => { process.stdout.write(b); process.exit(r.statusCode === 200 ? 0 : 1); }); }).on("error", e => { console.error(e.message); process.exit(2); })'`;
      const out = await execInWorkspace(
        ws,
        // Retry for half the probe's time by the clock, not by count: under QEMU each node start takes seconds.
        `echo ${token} > '${p.mainPath}/${file}' && end=$(( $(date +%s) + ${Math.max(1, Math.floor(timeoutMs / 2 / 1000))} )); while :; do ${read} && exit 0; [ "$(date +%s)" -lt "$end" ] || exit 1; sleep 0.25; done`,
        { timeoutMs },
      );
      const ok = out.exitCode === 0 && out.stdout.trim() === token;
      if (!ok) wrong++;
      checks.push(
        `wrote ${p.mainPath}/${file} in the main container; ${p.sidecar} ${ok ? "served it back" : `did not serve it (${(out.stdout + out.stderr).trim().slice(0, 80)})`}`,
      );
      await execInWorkspace(ws, `rm -f '${p.mainPath}/${file}'`);
    }
    return wrong === 0 ? supported(checks.join("; ")) : unsupported(checks.join("; "));
  },
};
