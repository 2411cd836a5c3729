import type { ContainerSpec } from "../../devfile/spec.ts";
import { inconclusive, type Probe, type ProbeContext, supported, unsupported } from "./probe.ts";
import { listensInWorkspace } from "./workspace-server.ts";

/**
 * Why a sidecar's own server cannot be expected on this cell, when the cause is the tier and not
 * the sharing of localhost: the sim tier runs a container's command on the host, not its image;
 * the image map may run a local stand-in image that does not run the devfile's server.
 */
export function sidecarServerNotRun(ctx: ProbeContext, sidecar: ContainerSpec): string | undefined {
  if (ctx.tier === "sim" && !sidecar.command?.length && !sidecar.args?.length)
    return `the sim tier does not run ${sidecar.name}'s image ${sidecar.image} (it runs a container's command on the host, and ${sidecar.name} declares none), so no server of the devfile's listens`;
  const substitute = ctx.ws.facts.imageMap?.[sidecar.image];
  if (substitute && substitute !== sidecar.image)
    return `this tier runs ${substitute} in place of ${sidecar.name}'s image ${sidecar.image} (the image map), and the stand-in does not run the devfile's server`;
  return undefined;
}

/** A devfile assumes sidecars share localhost with the main container: their ports answer on 127.0.0.1. */
export const containerMulti: Probe = {
  id: "container.multi",
  notApplicable: ({ spec }) =>
    spec.containers.some((c) => !c.main && c.endpoints.length > 0)
      ? undefined
      : "no sidecar container declares an endpoint",
  async run(ctx) {
    const { ws, spec, timeoutMs } = ctx;
    const checks: string[] = [];
    const causes: string[] = [];
    let answered = 0;
    let unexplained = 0;
    for (const sidecar of spec.containers.filter((c) => !c.main && c.endpoints.length > 0)) {
      for (const endpoint of sidecar.endpoints.slice(0, 2)) {
        const ok = await listensInWorkspace(
          ws,
          endpoint.targetPort,
          Math.max(1, Math.floor(timeoutMs / 4000)),
        );
        checks.push(
          `${sidecar.name}:${endpoint.targetPort} ${ok ? "answers" : "does not answer"} on the main container's 127.0.0.1`,
        );
        if (ok) answered++;
        else {
          const cause = sidecarServerNotRun(ctx, sidecar);
          if (!cause) unexplained++;
          else if (!causes.includes(cause)) causes.push(cause);
        }
      }
    }
    const evidence = checks.join("; ");
    if (unexplained > 0) return unsupported(evidence);
    // A port answering shows the shared network; silence the tier explains shows nothing either way.
    if (answered > 0) return supported(causes.length ? `${evidence} (${causes.join("; ")})` : evidence);
    return inconclusive(evidence, causes.join("; "));
  },
};
