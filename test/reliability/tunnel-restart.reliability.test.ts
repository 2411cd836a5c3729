import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceAgent } from "../../src/agent/index.ts";
import { type Workspace, workspace } from "../tunnel/helpers.ts";
import { spawnTunnelServer, type TunnelServerProcess } from "../tunnel/server-process.ts";
import { peakPerWindow, reliabilityAgent, until } from "./agents.ts";
import { type Bundles, buildBundles } from "./bundles.ts";
import { recordRow } from "./table.ts";

const AGENTS_PER_TRANSPORT = 100;
const RECOVERY_BOUND_S = 5;

describe("a tunnel server restart with 100 agents on every transport", () => {
  let bundles: Bundles;
  beforeAll(async () => {
    bundles = await buildBundles();
  });
  afterAll(() => bundles?.remove());

  for (const secure of [false, true]) {
    const transports = secure ? (["tls", "wss"] as const) : (["tcp", "ws", "unix"] as const);
    it(`brings every ${transports.join(", ")} agent back within ${RECOVERY_BOUND_S} s of the server listening again, spread out`, async () => {
      const socket = join(tmpdir(), `wsparity-restart-${process.pid}-${Date.now()}.sock`);
      const groups = transports.map((transport) => ({
        transport,
        workspaces: Array.from({ length: AGENTS_PER_TRANSPORT }, (_, i) =>
          workspace(`r-${transport}-${i}`, [8080]),
        ),
      }));
      const all: Workspace[] = groups.flatMap((g) => g.workspaces);
      const flags = secure ? ["--self-signed", "--agent-tls"] : ["--agent-socket", socket];
      let server: TunnelServerProcess = await spawnTunnelServer({
        workspaces: all,
        flags,
        cli: bundles.tunnel,
      });
      const urlOf = (transport: string) =>
        ({
          tcp: server.agentUrl,
          tls: server.agentUrl,
          ws: server.agentWebSocketUrl,
          wss: server.agentWebSocketUrl,
          unix: server.agentSocketUrl!,
        })[transport]!;
      const agents: { transport: string; agent: WorkspaceAgent; connects: number[] }[] = [];
      try {
        for (const group of groups)
          for (const ws of group.workspaces) {
            const one = reliabilityAgent(urlOf(group.transport), ws);
            agents.push({ transport: group.transport, ...one });
            one.agent.start();
          }
        await until("every agent to connect", () => agents.every((a) => a.connects.length === 1), 60_000);
        const { userPort, agentPort } = server;
        const stopped = Date.now();
        await server.stop();
        server = await spawnTunnelServer({
          workspaces: all,
          flags,
          cli: bundles.tunnel,
          userPort,
          agentPort,
        });
        const listening = Date.now();
        await until(
          "every agent to reconnect",
          () => agents.every((a) => a.connects.length >= 2),
          60_000,
        ).catch(() => undefined);
        for (const transport of transports) {
          const mine = agents.filter((a) => a.transport === transport);
          const back = mine.filter((a) => a.connects.length >= 2);
          const times = back.map((a) => a.connects[1]!);
          const recovery = times.length ? (Math.max(...times) - listening) / 1000 : Number.POSITIVE_INFINITY;
          const peak = peakPerWindow(times, 100);
          const ok = back.length === mine.length && recovery <= RECOVERY_BOUND_S && peak < mine.length;
          recordRow({
            check: `restart: ${transport} agents`,
            did: `${mine.length} agents; server stopped (SIGTERM) and started on the same ports (down ${((listening - stopped) / 1000).toFixed(1)} s)`,
            figure: `${back.length}/${mine.length} back, last ${recovery.toFixed(2)} s after listening; peak ${peak} hellos/100 ms`,
            ok,
          });
          expect(back.length, transport).toBe(mine.length);
          expect(recovery, transport).toBeLessThanOrEqual(RECOVERY_BOUND_S);
          expect(peak, `${transport}: reconnects must be spread by jitter, not all at once`).toBeLessThan(
            mine.length,
          );
        }
      } finally {
        await Promise.all(agents.map((a) => a.agent.stop()));
        await server.stop();
      }
    }, 180_000);
  }
});
