import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceAgent } from "../../src/agent/index.ts";
import { type StartedTunnelServer, silentLog } from "../../src/tunnel/index.ts";
import {
  curl,
  hostHeader,
  startAgent,
  startServer,
  startTargetApp,
  type Workspace,
  workspace,
} from "./helpers.ts";

function get(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      })
      .on("error", reject);
  });
}

describe("tunnel security", () => {
  let app: Awaited<ReturnType<typeof startTargetApp>>;
  let other: Awaited<ReturnType<typeof startTargetApp>>;
  let server: StartedTunnelServer;
  let a: Workspace;
  let b: Workspace;
  let offline: Workspace;
  const agents: WorkspaceAgent[] = [];

  beforeAll(async () => {
    app = await startTargetApp({ name: "a" });
    other = await startTargetApp({ name: "undeclared" });
    a = workspace("ws-a", [app.port]);
    b = workspace("ws-b", [app.port]);
    offline = workspace("ws-offline", [app.port]);
    server = await startServer([a, b, offline], (builder) =>
      builder.withLimits({ maxHeaderBytes: 8192, headersTimeoutMs: 600 }),
    );
    agents.push(await startAgent(server.agentUrl!, a), await startAgent(server.agentUrl!, b));
  });
  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await server.stop();
    await app.close();
    await other.close();
  });

  const url = (ws: Workspace, port: number, path = "/whoami") =>
    `${server.userUrl}/-/ws/${ws.name}/${port}${path}`;

  it("A's agent token cannot register B, and an unknown workspace is refused", async () => {
    const impostor = new WorkspaceAgent({
      server: new URL(server.agentUrl!),
      workspace: offline.name,
      token: a.agentToken,
      ports: offline.ports,
      targetHost: "127.0.0.1",
      backoff: { initialMs: 10_000, maxMs: 10_000 },
      connectTimeoutMs: 2000,
      log: silentLog,
    });
    const rejected = new Promise<[number, string]>((resolve) =>
      impostor.once("rejected", (s, e) => resolve([s, e])),
    );
    impostor.start();
    expect(await rejected).toEqual([401, `the agent token is not valid for workspace ${offline.name}`]);
    await impostor.stop();
    expect(server.workspaces.get(offline.name)?.online).toBe(false);
    expect(server.workspaces.get(a.name)?.online).toBe(true);

    const stranger = new WorkspaceAgent({ ...impostor.options, workspace: "ws-nobody" });
    const strangerRejected = new Promise<number>((resolve) => stranger.once("rejected", (s) => resolve(s)));
    stranger.start();
    expect(await strangerRejected).toBe(404);
    await stranger.stop();
  });

  it("answers 401 without a credential, 401 for A's token at B, 403 for an undeclared port, 404 for an unknown workspace", async () => {
    const none = await get(url(a, app.port), {});
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toContain("Bearer");
    const crossed = await get(url(b, app.port), { authorization: `Bearer ${a.userToken}` });
    expect(crossed.status).toBe(401);
    expect(crossed.body).not.toContain("undeclared");
    const undeclared = await get(url(a, other.port), { authorization: `Bearer ${a.userToken}` });
    expect(undeclared.status).toBe(403);
    expect(undeclared.body).toContain(`port ${other.port} is not an endpoint`);
    const unknown = await get(url(workspace("ws-nowhere", []), app.port), {
      authorization: `Bearer ${a.userToken}`,
    });
    expect(unknown.status).toBe(404);
    const ok = await get(url(a, app.port), { authorization: `Bearer ${a.userToken}` });
    expect(ok).toMatchObject({ status: 200, body: "a" });
  });

  it("answers 503 saying the agent is offline", async () => {
    const r = await get(url(offline, app.port), { authorization: `Bearer ${offline.userToken}` });
    expect(r.status).toBe(503);
    expect(r.body).toContain("offline");
  });

  it("the agent itself refuses ports it was not told to forward", async () => {
    server.workspaces.get(a.name)!.config.ports!.push(other.port);
    try {
      const r = await get(url(a, other.port), { authorization: `Bearer ${a.userToken}` });
      expect(r.status).toBe(403);
      expect(r.body).toContain(`port ${other.port} is not declared`);
    } finally {
      server.workspaces.get(a.name)!.config.ports!.pop();
    }
  });

  it("refuses oversized headers with 431", async () => {
    const r = await curl([
      "-H",
      hostHeader(a, app.port),
      "-H",
      `Authorization: Bearer ${a.userToken}`,
      "-H",
      `X-Big: ${"x".repeat(9000)}`,
      `${server.userUrl}/whoami`,
    ]);
    expect(r.status).toBe(431);
  });

  it("cuts off a slowloris client that never finishes its headers", async () => {
    const closedAfterMs = await new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const socket = net.connect(server.userPort, "127.0.0.1", () => {
        socket.write(`GET /whoami HTTP/1.1\r\nHost: ${app.port}-${a.name}.localtest\r\n`);
      });
      const drip = setInterval(() => socket.write("X-Slow: 1\r\n"), 100);
      socket.on("data", () => {});
      socket.on("error", () => {});
      socket.on("close", () => {
        clearInterval(drip);
        resolve(Date.now() - started);
      });
      setTimeout(() => {
        clearInterval(drip);
        socket.destroy();
        reject(new Error("slowloris client was still connected after 5 s"));
      }, 5000);
    });
    expect(closedAfterMs).toBeLessThan(5000);
  });

  it("ends only the dropped agent's streams when an agent goes away mid-stream", async () => {
    const extra = workspace("ws-drop", [app.port]);
    server.workspaces.add({
      workspace: extra.name,
      agentToken: extra.agentToken,
      userTokens: [extra.userToken],
      ports: extra.ports,
    });
    const dropping = await startAgent(server.agentUrl!, extra);
    const watch = (ws: Workspace) => {
      let ticks = 0;
      let ended = false;
      const req = http.get(
        url(ws, app.port, "/drip"),
        { headers: { authorization: `Bearer ${ws.userToken}` }, agent: false },
        (res) => {
          res.on("data", () => ticks++);
          res.on("error", () => {
            ended = true;
          });
          res.on("close", () => {
            ended = true;
          });
        },
      );
      req.on("error", () => {
        ended = true;
      });
      return { ticks: () => ticks, ended: () => ended, stop: () => req.destroy() };
    };
    // Polls instead of fixed sleeps: on a loaded machine the first drip can take longer than any fixed wait.
    const until = async (what: string, ok: () => boolean) => {
      const deadline = Date.now() + 15_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const survivor = watch(a);
    const victim = watch(extra);
    await until("both streams to drip", () => victim.ticks() > 0 && survivor.ticks() > 0);
    await dropping.stop();
    await until("the dropped agent's stream to end", () => victim.ended());
    const before = survivor.ticks();
    await until("the other stream to keep dripping", () => survivor.ticks() > before);
    expect(survivor.ended()).toBe(false);
    expect(survivor.ticks()).toBeGreaterThan(before);
    survivor.stop();
    const after = await get(url(extra, app.port), { authorization: `Bearer ${extra.userToken}` });
    expect(after.status).toBe(503);
  });
});
