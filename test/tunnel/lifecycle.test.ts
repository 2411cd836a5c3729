import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../src/tunnel/bench/sshd.ts";
import { startAgent, startServer, startTargetApp, workspace } from "./helpers.ts";

const openFds = () => readdirSync("/proc/self/fd").length;
const tcpHandles = () =>
  process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPServerWrap").length;

async function settle(check: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

describe("agent lifecycle", () => {
  it("1,000 agent connect/disconnect cycles leave no sockets, sessions or listeners behind", async () => {
    const app = await startTargetApp();
    const ws = workspace("ws-cycle", [app.port]);
    const server = await startServer([ws]);
    try {
      const warm = await startAgent(server.agentUrl!, ws);
      await warm.stop();
      await settle(() => server.metrics.agentsConnected === 0);
      const fdsBefore = openFds();
      const handlesBefore = tcpHandles();
      for (let i = 0; i < 1000; i++) {
        const agent = await startAgent(server.agentUrl!, ws);
        await agent.stop();
      }
      await settle(
        () => server.metrics.agentsConnected === 0 && openFds() <= fdsBefore && tcpHandles() <= handlesBefore,
      );
      expect(server.metrics.agentsConnected).toBe(0);
      expect(server.metrics.agentConnectsTotal).toBe(1001);
      expect(server.workspaces.get(ws.name)?.online).toBe(false);
      expect(openFds()).toBeLessThanOrEqual(fdsBefore);
      expect(tcpHandles()).toBeLessThanOrEqual(handlesBefore);
      expect(server.routes.size).toBe(1);
    } finally {
      await server.stop();
      await app.close();
    }
  });

  it("an agent reconnects by itself, with backoff, when its server comes back", async () => {
    const app = await startTargetApp();
    const ws = workspace("ws-comeback", [app.port]);
    const port = await freePort();
    let server = await startServer([ws], (b) => b.withAgentListener({ port }));
    const agent = await startAgent(server.agentUrl!, ws);
    try {
      const events: string[] = [];
      agent.on("disconnected", () => events.push("disconnected"));
      await server.stop();
      await settle(() => events.includes("disconnected"));
      expect(agent.state).not.toBe("connected");
      const reconnected = new Promise<void>((resolve) => agent.once("connected", () => resolve()));
      server = await startServer([ws], (b) => b.withAgentListener({ port }));
      await reconnected;
      expect(server.workspaces.get(ws.name)?.online).toBe(true);
      const r = await fetch(`${server.userUrl}/-/ws/${ws.name}/${app.port}/whoami`, {
        headers: { authorization: `Bearer ${ws.userToken}` },
      });
      expect(await r.text()).toBe("app");
    } finally {
      await agent.stop();
      await server.stop();
      await app.close();
    }
  });

  it("an agent with no route to the server dials its unix socket; stop removes the socket", async () => {
    const app = await startTargetApp();
    const ws = workspace("ws-socket", [app.port]);
    const dir = mkdtempSync(join(tmpdir(), "wsparity-socket-"));
    const path = join(dir, "agent.sock");
    const server = await startServer([ws], (b) => b.withAgentSocket(path));
    try {
      expect(server.agentSocketUrl).toBe(`unix://${path}`);
      const agent = await startAgent(server.agentSocketUrl!, ws);
      try {
        const r = await fetch(`${server.userUrl}/-/ws/${ws.name}/${app.port}/whoami`, {
          headers: { authorization: `Bearer ${ws.userToken}` },
        });
        expect(await r.text()).toBe("app");
      } finally {
        await agent.stop();
      }
    } finally {
      await server.stop();
      await app.close();
    }
    expect(existsSync(path)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
