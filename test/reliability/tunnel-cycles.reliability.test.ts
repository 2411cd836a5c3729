import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFds, rssMiB, settleFds } from "../tunnel/fds.ts";
import { startTargetApp, workspace } from "../tunnel/helpers.ts";
import { spawnTunnelServer, type TunnelServerProcess } from "../tunnel/server-process.ts";
import { reliabilityAgent, until } from "./agents.ts";
import { type Bundles, buildBundles } from "./bundles.ts";
import { runCycles } from "./cycles.ts";
import { inspectorOf } from "./inspector.ts";
import { recordRow } from "./table.ts";

const CYCLES = 1000;
const WARM_UP = 20;
/**
 * The JS heap the server may gain over the run, after a forced full GC before and after: what is left is
 * retained objects, not GC slack. A leak of one HTTP/2 session per WebSocket agent (fixed) gained 6 MiB per
 * 1,000 cycles; 3,000 leak-free cycles gain about 0.5 MiB (lazily built caches, code).
 */
const HEAP_GROWTH_MIB = 2;
/**
 * RSS after a forced GC also grows by the allocator's slack, which V8 and glibc keep rather than return to
 * the system: +11 to +13 MiB over these cycles (and +16 with the leak, so RSS cannot tell a leak from slack;
 * the heap can). The RSS bound only catches native memory that grows without the heap.
 */
const RSS_GROWTH_MIB = 24;

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
      const server: TunnelServerProcess = await spawnTunnelServer({
        workspaces,
        flags,
        cli: bundles.tunnel,
        // The test's own inspector on loopback, to force full collections and read the JS heap.
        nodeFlags: ["--inspect=127.0.0.1:0"],
      });
      const inspector = await inspectorOf(server.stderr);
      const urlOf = {
        tcp: server.agentUrl,
        tls: server.agentUrl,
        ws: server.agentWebSocketUrl,
        wss: server.agentWebSocketUrl,
        unix: server.agentSocketUrl!,
      };
      try {
        const serverFds = openFds(server.pid);
        const cycle = (transport: (typeof transports)[number], i: number) => async (lane: number) => {
          const mine = workspaces[i * lanes + lane]!;
          const { agent, connects } = reliabilityAgent(urlOf[transport], mine);
          agent.start();
          try {
            await until("the agent to connect", () => connects.length === 1, 10_000);
          } finally {
            await agent.stop();
          }
        };
        // A few cycles first, so what is built once (modules, TLS contexts, code) is not counted as growth.
        await Promise.all(transports.map((transport, i) => runCycles(WARM_UP, lanes, cycle(transport, i))));
        await inspector.collectGarbage();
        const heapBefore = await inspector.heapUsedMiB();
        const rssBefore = rssMiB(server.pid);
        const results = await Promise.all(
          transports.map(async (transport, i) => ({
            transport,
            failed: await runCycles(CYCLES, lanes, cycle(transport, i)),
          })),
        );
        const leaked = (await settleFds(server.pid, serverFds, 10_000)) - serverFds;
        await inspector.collectGarbage();
        const heapAfter = await inspector.heapUsedMiB();
        const rssAfter = rssMiB(server.pid);
        const memoryOk = heapAfter - heapBefore <= HEAP_GROWTH_MIB && rssAfter - rssBefore <= RSS_GROWTH_MIB;
        for (const { transport, failed } of results) {
          recordRow({
            check: `cycles: agent ${transport}`,
            did: `${CYCLES} agent connections (hello, HTTP/2, stop) over ${transport} (${lanes} workspaces at a time, ${transports.length} transports at once)`,
            figure: `${failed} failed; server fds leaked ${Math.max(0, leaked)}; after a full GC: JS heap ${heapBefore.toFixed(1)} → ${heapAfter.toFixed(1)} MiB (bound +${HEAP_GROWTH_MIB}), RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB (bound +${RSS_GROWTH_MIB})`,
            ok: failed === 0 && leaked <= 0 && memoryOk,
          });
          expect(failed, transport).toBe(0);
        }
        expect(leaked).toBeLessThanOrEqual(0);
        expect(heapAfter - heapBefore, "JS heap growth (MiB) after a full GC").toBeLessThanOrEqual(
          HEAP_GROWTH_MIB,
        );
        expect(rssAfter - rssBefore, "RSS growth (MiB) after a full GC").toBeLessThanOrEqual(RSS_GROWTH_MIB);
      } finally {
        inspector.close();
        await server.stop();
      }
    }, 240_000);
  }
});
