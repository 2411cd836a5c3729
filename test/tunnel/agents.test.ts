import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WorkspaceAgent } from "../../src/agent/index.ts";
import { silentLog } from "../../src/tunnel/index.ts";
import { PROTOCOL } from "../../src/tunnel/protocol.ts";
import { startAgent, startServer, startTargetApp, type Workspace, workspace } from "./helpers.ts";
import { spawnAgent, spawnTunnelServer } from "./server-process.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function get(url: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

/** A long download through the tunnel: counts the chunks and notices when it is cut. */
function drip(url: string, token: string) {
  let ticks = 0;
  let ended = false;
  const req = http.get(url, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
    res.on("data", () => ticks++);
    res.on("close", () => {
      ended = true;
    });
  });
  req.on("error", () => {
    ended = true;
  });
  return { ticks: () => ticks, ended: () => ended, stop: () => req.destroy() };
}

function impostorFor(server: string, ws: Workspace, targetHost: string): WorkspaceAgent {
  return new WorkspaceAgent({
    server: new URL(server),
    workspace: ws.name,
    token: ws.agentToken,
    ports: ws.ports,
    targetHost,
    backoff: { initialMs: 100, maxMs: 200 },
    connectTimeoutMs: 5000,
    log: silentLog,
  });
}

describe("a second agent for a workspace (issue 12 defect 7)", () => {
  it("is refused with a reason while the first answers; the first keeps the workspace and its streams", async () => {
    const first = await startTargetApp({ host: "127.0.0.1", name: "first" });
    const second = await startTargetApp({ host: "127.0.0.2", port: first.port, name: "second" });
    const ws = workspace("ws-dup", [first.port]);
    const server = await startServer([ws], (b) => b.withLimits({ replaceGraceMs: 300 }));
    cleanups.push(
      () => first.close(),
      () => second.close(),
      () => server.stop(),
    );
    const rightful = await startAgent(server.agentUrl!, ws);
    cleanups.push(() => rightful.stop());
    const base = `${server.userUrl}/-/ws/${ws.name}/${first.port}`;
    const long = drip(`${base}/drip`, ws.userToken);
    cleanups.push(async () => long.stop());
    await until("the long download to start", () => long.ticks() > 0);
    let disconnects = 0;
    rightful.on("disconnected", () => disconnects++);

    const impostor = impostorFor(server.agentWebSocketUrl, ws, "127.0.0.2");
    const refusals: [number, string][] = [];
    impostor.on("rejected", (status, error) => refusals.push([status, error]));
    impostor.start();
    cleanups.push(() => impostor.stop());
    // The impostor retries every 100-200 ms: ten refusals would have been ten takeovers before.
    await until("ten refusals", () => refusals.length >= 10);
    expect(refusals[0]![0]).toBe(409);
    expect(refusals[0]![1]).toMatch(/ws-dup already has a connected agent \(127\.0\.0\.1:\d+, since \d{4}-/);
    expect(await get(`${base}/whoami`, ws.userToken)).toBe("first");
    const before = long.ticks();
    await until("the long download to go on", () => long.ticks() > before + 5);
    expect(long.ended()).toBe(false);
    expect(disconnects).toBe(0);
    expect(server.metrics.agentReplacementsTotal).toBe(0);

    await impostor.stop();
    expect(rightful.state).toBe("connected");
    expect(await get(`${base}/whoami`, ws.userToken)).toBe("first");
  });

  it("takes over from a first agent that went silent without closing its connection", async () => {
    const app = await startTargetApp({ name: "new" });
    const ws = workspace("ws-silent", [app.port]);
    const server = await startServer([ws]);
    cleanups.push(
      () => app.close(),
      () => server.stop(),
    );
    // A hello and nothing after it: the server attaches the agent, whose HTTP/2 side never answers.
    const silent = net.connect(Number(new URL(server.agentUrl!).port), "127.0.0.1");
    cleanups.push(async () => silent.destroy());
    silent.write(
      `${JSON.stringify({ protocol: PROTOCOL, workspace: ws.name, token: ws.agentToken, ports: ws.ports, agent: "silent" })}\n`,
    );
    await until("the silent agent to be attached", () => server.metrics.agentsConnected === 1);
    const started = Date.now();
    const successor = await startAgent(server.agentUrl!, ws);
    cleanups.push(() => successor.stop());
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await get(`${server.userUrl}/-/ws/${ws.name}/${app.port}/whoami`, ws.userToken)).toBe("new");
  });
});

describe("an idle WebSocket agent and a server restart (issue 12 defect 7)", () => {
  it("reconnects to the restarted server, and then ends on SIGTERM", async () => {
    const ws = workspace("ws-idle", [8080]);
    let server = await spawnTunnelServer({ workspaces: [ws] });
    cleanups.push(() => server.stop());
    const agent = spawnAgent(server.agentWebSocketUrl, ws);
    cleanups.push(() => agent.stop().catch(() => undefined));
    await agent.connected(1);
    const { userPort, agentPort } = server;
    await server.stop();
    server = await spawnTunnelServer({ workspaces: [ws], userPort, agentPort });
    await agent.connected(2, 30_000);
    expect(await agent.stop(5000)).toBeLessThan(5000);
    expect((await agent.exited).code).toBe(0);
  }, 90_000);
});
