import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFds, rssMiB, settleFds } from "../tunnel/fds.ts";
import { startTargetApp, workspace } from "../tunnel/helpers.ts";
import { spawnTunnelServer, type TunnelServerProcess } from "../tunnel/server-process.ts";
import { reliabilityAgent, until } from "./agents.ts";
import { type Bundles, buildBundles } from "./bundles.ts";
import { runCycles } from "./cycles.ts";
import { recordRow } from "./table.ts";

const CYCLES = 1000;

describe("1,000 agent connect/close cycles per transport leave no fds behind", () => {
  let bundles: Bundles;
  let app: Awaited<ReturnType<typeof startTargetApp>>;
  beforeAll(async () => {
    bundles = await buildBundles();
    app = await startTargetApp({ name: "cycles" });
  });
  afterAll(async () => {
    bundles?.remove();
    await app.close();
  });

  for (const secure of [false, true]) {
    const transports = secure ? (["tls", "wss"] as const) : (["tcp", "ws", "unix"] as const);
    it(`agent connections over ${transports.join(", ")}`, async () => {
      const socket = join(tmpdir(), `wsparity-cycles-${process.pid}-${Date.now()}.sock`);
      const lanes = 4;
      const workspaces = transports.flatMap((t) =>
        Array.from({ length: lanes }, (_, lane) => workspace(`cycle-${t}-${lane}`, [app.port])),
      );
      const flags = secure ? ["--self-signed", "--agent-tls"] : ["--agent-socket", socket];
      const server: TunnelServerProcess = await spawnTunnelServer({ workspaces, flags, cli: bundles.tunnel });
      const urlOf = {
        tcp: server.agentUrl,
        tls: server.agentUrl,
        ws: server.agentWebSocketUrl,
        wss: server.agentWebSocketUrl,
        unix: server.agentSocketUrl!,
      };
      try {
        const serverFds = openFds(server.pid);
        const rssBefore = rssMiB(server.pid);
        const results = await Promise.all(
          transports.map(async (transport, i) => {
            const failed = await runCycles(CYCLES, lanes, async (lane) => {
              const mine = workspaces[i * lanes + lane]!;
              const { agent, connects } = reliabilityAgent(urlOf[transport], mine);
              agent.start();
              try {
                await until("the agent to connect", () => connects.length === 1, 10_000);
              } finally {
                await agent.stop();
              }
            });
            return { transport, failed };
          }),
        );
        const leaked = (await settleFds(server.pid, serverFds, 10_000)) - serverFds;
        const rssAfter = rssMiB(server.pid);
        for (const { transport, failed } of results) {
          recordRow({
            check: `cycles: agent ${transport}`,
            did: `${CYCLES} agent connections (hello, HTTP/2, stop) over ${transport} (${lanes} workspaces at a time, ${transports.length} transports at once)`,
            figure: `${failed} failed; server fds leaked ${Math.max(0, leaked)}; server RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`,
            ok: failed === 0 && leaked <= 0,
          });
          expect(failed, transport).toBe(0);
        }
        expect(leaked).toBeLessThanOrEqual(0);
      } finally {
        await server.stop();
      }
    }, 240_000);
  }
});
