import { mainContainer } from "../../devfile/spec.ts";
import { EDITOR_PORT, SSH_PORT } from "../../kubernetes/settings.ts";
import { type Probe, supported, unsupported } from "./probe.ts";
import { startWorkspaceServer } from "./workspace-server.ts";

export const endpointHttp: Probe = {
  id: "endpoint.http",
  notApplicable({ spec }) {
    const ports = publicHttpPorts(spec);
    return ports.length === 0 ? "the main container declares no public http/https endpoint" : undefined;
  },
  async run({ ws, spec }) {
    const evidence: string[] = [];
    let failed = false;
    for (const port of publicHttpPorts(spec)) {
      const server = await startWorkspaceServer(ws, port);
      try {
        const url = ws.url(port, "/probe");
        const res = await ws.fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = await res.text();
        const ok = res.status === 200 && body.startsWith(server.token);
        failed ||= !ok;
        evidence.push(
          `${server.evidence}; GET ${url} → ${res.status}${ok ? " with its token" : `: ${body.slice(0, 80)}`}`,
        );
      } finally {
        await server.stop();
      }
    }
    return failed ? unsupported(evidence.join("; ")) : supported(evidence.join("; "));
  },
};

function publicHttpPorts(spec: Parameters<typeof mainContainer>[0]): number[] {
  return mainContainer(spec)
    .endpoints.filter(
      (e) =>
        e.exposure === "public" &&
        (e.protocol === "http" || e.protocol === "https") &&
        e.targetPort !== EDITOR_PORT &&
        e.targetPort !== SSH_PORT,
    )
    .map((e) => e.targetPort)
    .filter((p, i, all) => all.indexOf(p) === i)
    .slice(0, 3);
}
