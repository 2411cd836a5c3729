import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceAgent } from "../../src/agent/index.ts";
import { silentLog } from "../../src/tunnel/index.ts";
import { openFds, rssMiB, settleFds } from "../tunnel/fds.ts";
import { startTargetApp, workspace } from "../tunnel/helpers.ts";
import {
  type AgentProcess,
  spawnAgent,
  spawnTunnelServer,
  type TunnelServerProcess,
} from "../tunnel/server-process.ts";
import { reliabilityAgent, until } from "./agents.ts";
import { type Bundles, buildBundles } from "./bundles.ts";
import { runCycles, userCycles } from "./cycles.ts";
import { inspectorOf } from "./inspector.ts";
import { recordRow } from "./table.ts";

const SOAK = process.env.WSPARITY_SOAK === "1";
const SOAK_MINUTES = Number(process.env.WSPARITY_SOAK_MINUTES ?? 10);
/** What the server's JS heap may gain after warm-up, measured after a full GC: retained objects, not slack. */
const SOAK_HEAP_GROWTH_MIB = 4;

describe("agents under duplicates and time", () => {
  let bundles: Bundles;
  let app: Awaited<ReturnType<typeof startTargetApp>>;
  let server: TunnelServerProcess;
  let rightful: AgentProcess;
  const ws = workspace("dup", [0]);
  /** Workspaces whose agents the soak connects and stops, over TCP and WebSocket, between user cycles. */
  const soakAgents = Array.from({ length: 4 }, (_, i) => workspace(`soak-agent-${i}`, [0]));

  beforeAll(async () => {
    bundles = await buildBundles();
    app = await startTargetApp({ name: "rightful" });
    ws.ports[0] = app.port;
    for (const agentWs of soakAgents) agentWs.ports[0] = app.port;
    server = await spawnTunnelServer({
      workspaces: [ws, ...soakAgents],
      cli: bundles.tunnel,
      // The soak forces full collections through the server's inspector (loopback, this test's own).
      ...(SOAK ? { nodeFlags: ["--inspect=127.0.0.1:0"] } : {}),
    });
    rightful = spawnAgent(server.agentUrl, ws, {}, bundles.agent);
    await rightful.connected(1);
  }, 60_000);
  afterAll(async () => {
    bundles?.remove();
    await rightful.stop().catch(() => undefined);
    await server.stop();
    await app.close();
  });

  it("a second agent is refused with a reason on every transport; the first keeps the workspace and its download", async () => {
    let ticks = 0;
    let cut = false;
    const download = http.get(
      {
        host: "127.0.0.1",
        port: server.userPort,
        path: "/drip",
        agent: false,
        headers: { host: `${app.port}-${ws.name}.localtest`, authorization: `Bearer ${ws.userToken}` },
      },
      (res) => {
        res.on("data", () => ticks++);
        res.on("close", () => {
          cut = true;
        });
      },
    );
    download.on("error", () => {
      cut = true;
    });
    await until("the download to start", () => ticks > 0, 15_000);
    const refusals: string[] = [];
    let takeovers = 0;
    for (const url of [server.agentUrl, server.agentWebSocketUrl]) {
      const impostor = new WorkspaceAgent({
        server: new URL(url),
        workspace: ws.name,
        token: ws.agentToken,
        ports: ws.ports,
        targetHost: "127.0.0.2",
        backoff: { initialMs: 100, maxMs: 200 },
        connectTimeoutMs: 5000,
        log: silentLog,
      });
      let mine = 0;
      impostor.on("rejected", (status, error) => {
        mine++;
        refusals.push(`${status} ${error}`);
      });
      impostor.on("connected", () => takeovers++);
      impostor.start();
      await until("ten refusals", () => mine >= 10, 30_000);
      await impostor.stop();
    }
    const before = ticks;
    await until("the download to go on", () => ticks > before + 5, 10_000);
    download.destroy();
    const all409 = refusals.every((r) => r.startsWith("409 ") && r.includes("already has a connected agent"));
    const reconnects = rightful.stderr().split(" agent-connected ").length - 2;
    recordRow({
      check: "duplicate agents",
      did: `an impostor with the right token retried ${refusals.length} times over tcp and ws (every 100-200 ms) while the rightful agent served a long download`,
      figure: `${refusals.filter((r) => r.startsWith("409 ")).length}/${refusals.length} refused with 409 and a reason; ${takeovers} takeovers; rightful agent reconnects ${reconnects}; download cut: ${cut}`,
      ok: all409 && takeovers === 0 && reconnects === 0 && !cut,
    });
    expect(all409).toBe(true);
    expect(takeovers).toBe(0);
    expect(reconnects).toBe(0);
    expect(cut).toBe(false);
  }, 120_000);

  it.skipIf(!SOAK)(
    `soak: ${SOAK_MINUTES} minutes of mixed traffic keep RSS flat (nightly: WSPARITY_SOAK=1)`,
    async () => {
      const inspector = await inspectorOf(server.stderr);
      const agentCycle = (url: string) => async (lane: number) => {
        const { agent, connects } = reliabilityAgent(url, soakAgents[lane]!);
        agent.start();
        try {
          await until("the agent to connect", () => connects.length === 1, 10_000);
        } finally {
          await agent.stop();
        }
      };
      const samples: number[] = [];
      const deadline = Date.now() + SOAK_MINUTES * 60_000;
      let failed = 0;
      let total = 0;
      let agentCycles = 0;
      let warm: { rss: number; heap: number; fds: number } | undefined;
      while (Date.now() < deadline) {
        for (const kind of ["http", "websocket", "connect"] as const) {
          failed += await runCycles(200, 8, () => userCycles[kind](server.userPort, ws, app.port));
          total += 200;
        }
        // Agents come and go too (a CI job per workspace start), over TCP and WebSocket, two lanes each.
        const [viaTcp, viaWs] = await Promise.all([
          runCycles(20, 2, (lane) => agentCycle(server.agentUrl)(lane)),
          runCycles(20, 2, (lane) => agentCycle(server.agentWebSocketUrl)(lane + 2)),
        ]);
        failed += viaTcp! + viaWs!;
        agentCycles += 40;
        samples.push(rssMiB(server.pid));
        if (samples.length === 3) {
          await inspector.collectGarbage();
          warm = { rss: rssMiB(server.pid), heap: await inspector.heapUsedMiB(), fds: openFds(server.pid) };
        }
      }
      const fds = await settleFds(server.pid, warm!.fds, 10_000);
      await inspector.collectGarbage();
      const end = { rss: rssMiB(server.pid), heap: await inspector.heapUsedMiB() };
      inspector.close();
      const flat = end.rss <= warm!.rss * 1.25 + 10 && end.heap - warm!.heap <= SOAK_HEAP_GROWTH_MIB;
      recordRow({
        check: "soak",
        did: `${SOAK_MINUTES} min of HTTP, WebSocket and CONNECT cycles (${total} connections) and ${agentCycles} agent connect/stop cycles (TCP and WebSocket)`,
        figure: `${failed} failed; after a full GC, warm-up → end: RSS ${warm!.rss.toFixed(0)} → ${end.rss.toFixed(0)} MiB (max between ${Math.max(...samples).toFixed(0)}), JS heap ${warm!.heap.toFixed(1)} → ${end.heap.toFixed(1)} MiB (bound +${SOAK_HEAP_GROWTH_MIB}), fds ${warm!.fds} → ${fds}`,
        ok: failed === 0 && flat && fds <= warm!.fds,
      });
      expect(failed).toBe(0);
      expect(flat).toBe(true);
      expect(fds).toBeLessThanOrEqual(warm!.fds);
    },
    (SOAK_MINUTES + 5) * 60_000,
  );
});
