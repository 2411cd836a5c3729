import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFds, rssMiB, settleFds } from "../tunnel/fds.ts";
import { startTargetApp, workspace } from "../tunnel/helpers.ts";
import { type AgentProcess, spawnAgent, spawnTunnelServer } from "../tunnel/server-process.ts";
import { type Bundles, buildBundles } from "./bundles.ts";
import { runCycles, userCycles } from "./cycles.ts";
import { recordRow } from "./table.ts";

const CYCLES = 1000;

describe("1,000 user connect/close cycles per kind leave no fds behind", () => {
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

  it("user connections (HTTP, WebSocket, CONNECT) through a bundled agent", async () => {
    const ws = workspace("cycle-user", [app.port]);
    const server = await spawnTunnelServer({ workspaces: [ws], cli: bundles.tunnel });
    let agent: AgentProcess | undefined;
    try {
      agent = spawnAgent(server.agentUrl, ws, {}, bundles.agent);
      await agent.connected(1);
      await userCycles.http(server.userPort, ws, app.port);
      const serverFds = openFds(server.pid);
      const agentFds = openFds(agent.pid);
      for (const kind of ["http", "websocket", "connect"] as const) {
        const rssBefore = rssMiB(server.pid);
        const failed = await runCycles(CYCLES, 16, () => userCycles[kind](server.userPort, ws, app.port));
        const serverLeaked = (await settleFds(server.pid, serverFds, 10_000)) - serverFds;
        const agentLeaked = (await settleFds(agent.pid, agentFds, 10_000)) - agentFds;
        const ok = failed === 0 && serverLeaked <= 0 && agentLeaked <= 0;
        recordRow({
          check: `cycles: user ${kind}`,
          did: `${CYCLES} ${kind} connections opened, used and closed through a tcp agent (16 at a time)`,
          figure: `${failed} failed; leaked fds: server ${Math.max(0, serverLeaked)}, agent ${Math.max(0, agentLeaked)}; server RSS ${rssBefore.toFixed(0)} → ${rssMiB(server.pid).toFixed(0)} MiB`,
          ok,
        });
        expect(failed, kind).toBe(0);
        expect(serverLeaked, `${kind}: server fds`).toBeLessThanOrEqual(0);
        expect(agentLeaked, `${kind}: agent fds`).toBeLessThanOrEqual(0);
      }
    } finally {
      await agent?.stop().catch(() => undefined);
      await server.stop();
    }
  }, 240_000);
});
