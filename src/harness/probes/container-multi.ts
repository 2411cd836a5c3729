import { type Probe, supported, unsupported } from "./probe.ts";
import { listensInWorkspace } from "./workspace-server.ts";

/** A devfile assumes sidecars share localhost with the main container: their ports answer on 127.0.0.1. */
export const containerMulti: Probe = {
  id: "container.multi",
  notApplicable: ({ spec }) =>
    spec.containers.some((c) => !c.main && c.endpoints.length > 0)
      ? undefined
      : "no sidecar container declares an endpoint",
  async run({ ws, spec, timeoutMs }) {
    const checks: string[] = [];
    let missing = 0;
    for (const sidecar of spec.containers.filter((c) => !c.main && c.endpoints.length > 0)) {
      for (const endpoint of sidecar.endpoints.slice(0, 2)) {
        const ok = await listensInWorkspace(
          ws,
          endpoint.targetPort,
          Math.max(1, Math.floor(timeoutMs / 4000)),
        );
        if (!ok) missing++;
        checks.push(
          `${sidecar.name}:${endpoint.targetPort} ${ok ? "answers" : "does not answer"} on the main container's 127.0.0.1`,
        );
      }
    }
    return missing === 0 ? supported(checks.join("; ")) : unsupported(checks.join("; "));
  },
};
