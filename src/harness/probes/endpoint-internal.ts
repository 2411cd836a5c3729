import type { WorkspaceSpec } from "../../devfile/spec.ts";
import { mainContainer } from "../../devfile/spec.ts";
import { type Probe, supported, unsupported } from "./probe.ts";
import { startWorkspaceServer } from "./workspace-server.ts";

function internalPorts(spec: WorkspaceSpec): number[] {
  return mainContainer(spec)
    .endpoints.filter((e) => e.exposure !== "public")
    .map((e) => e.targetPort)
    .filter((p, i, all) => all.indexOf(p) === i)
    .slice(0, 2);
}

export const endpointInternal: Probe = {
  id: "endpoint.internal",
  notApplicable: ({ spec }) =>
    internalPorts(spec).length === 0
      ? "the main container declares no internal or none-exposure endpoint"
      : undefined,
  async run({ ws, spec }) {
    const evidence: string[] = [];
    let leaked = false;
    for (const port of internalPorts(spec)) {
      const server = await startWorkspaceServer(ws, port);
      try {
        const url = ws.url(port, "/");
        const res = await ws.fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = await res.text();
        const reached = body.startsWith(server.token);
        leaked ||= reached;
        evidence.push(
          `${server.evidence}; GET ${url} → ${res.status}${reached ? " — reached the internal server" : " (refused)"}`,
        );
      } catch (err) {
        evidence.push(`${server.evidence}; GET through the URL failed: ${(err as Error).message} (refused)`);
      } finally {
        await server.stop();
      }
    }
    return leaked ? unsupported(evidence.join("; ")) : supported(evidence.join("; "));
  },
};
