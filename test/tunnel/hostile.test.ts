import net from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { PROTOCOL } from "../../src/tunnel/protocol.ts";
import { openFds, rssMiB, settleFds } from "./fds.ts";
import { token, type Workspace, workspace } from "./helpers.ts";
import { rawExchange } from "./raw.ts";
import { spawnAgent, spawnTunnelServer, type TunnelServerProcess } from "./server-process.ts";

// Requests that once killed the tunnel server (issue 12). The server runs as its own process, so a crash
// (an exception or a native assertion) shows as an exited process, not as a lost test worker.
describe("tunnel server under hostile requests", () => {
  let server: TunnelServerProcess;
  let a: Workspace;
  const adminToken = token();

  beforeAll(async () => {
    a = workspace("ws-a", [8080]);
    server = await spawnTunnelServer({ workspaces: [a], adminToken });
  });
  beforeEach(async () => {
    if (server.alive()) return;
    await server.stop();
    server = await spawnTunnelServer({ workspaces: [a], adminToken });
  });
  afterAll(async () => {
    await server.stop();
  });

  const expectAlive = async () => {
    const health = await rawExchange(server.userPort, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2000);
    expect(health.status, server.stderr()).toBe(200);
    expect(server.alive()).toBe(true);
  };

  it("answers a protocol-relative request target naming a workspace by Host with 401, and lives (defect 1)", async () => {
    const answer = await rawExchange(
      server.userPort,
      "GET //?x HTTP/1.1\r\nHost: 8080-ws-a.localtest\r\n\r\n",
    );
    expect(answer.status).toBe(401);
    await expectAlive();
  });

  it("answers an absolute-form target with a bad authority with 400, and lives (defect 1)", async () => {
    const answer = await rawExchange(
      server.userPort,
      "GET http://%zz/?x HTTP/1.1\r\nHost: 8080-ws-a.localtest\r\n\r\n",
    );
    expect(answer.status).toBe(400);
    await expectAlive();
  });

  it("refuses a WebSocket upgrade to //?x without a token with 401, and lives (defect 1)", async () => {
    const answer = await rawExchange(
      server.userPort,
      "GET //?x HTTP/1.1\r\nHost: 8080-ws-a.localtest\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    expect(answer.status).toBe(401);
    await expectAlive();
  });

  it("answers an admin DELETE with a malformed %-escape with 400, and lives (defect 3)", async () => {
    const answer = await rawExchange(
      server.userPort,
      `DELETE /-/admin/workspaces/%E0%A4%A HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminToken}\r\n\r\n`,
    );
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("%-encoding");
    await expectAlive();
  });

  it("answers an admin DELETE with 204 and no body (defect 3)", async () => {
    const body = JSON.stringify({ agentToken: token(), userTokens: [token()], ports: [1] });
    const put = await rawExchange(
      server.userPort,
      `PUT /-/admin/workspaces/ws-gone HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminToken}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(put.status).toBe(201);
    const answer = await rawExchange(
      server.userPort,
      `DELETE /-/admin/workspaces/ws-gone HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminToken}\r\nConnection: close\r\n\r\n`,
    );
    expect(answer.status).toBe(204);
    expect(answer.text.toLowerCase()).not.toContain("content-length");
    expect(answer.text.endsWith("\r\n\r\n")).toBe(true);
  });

  it("survives 300 WebSocket agents that drop right after a valid hello (defect 2)", async () => {
    for (let cycle = 0; cycle < 300 && server.alive(); cycle++) {
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(server.agentWebSocketUrl, { perMessageDeflate: false });
        ws.on("error", () => resolve());
        ws.on("close", () => resolve());
        ws.on("open", () => {
          ws.send(
            `${JSON.stringify({ protocol: PROTOCOL, workspace: a.name, token: a.agentToken, ports: [8080], agent: "test" })}\n`,
          );
          ws.terminate();
        });
      });
    }
    await expectAlive();
  }, 90_000);

  it("closes the connection of a refused request whose body drips in slowly (defect 6)", async () => {
    const started = Date.now();
    const cut = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<number>((resolve) => {
            const socket = net.connect(server.userPort, "127.0.0.1");
            socket.write(
              "POST /upload HTTP/1.1\r\nHost: 8080-ws-a.localtest\r\nContent-Length: 1000000\r\n\r\nx",
            );
            const drip = setInterval(() => socket.write("x"), 100);
            const giveUp = setTimeout(() => socket.destroy(), 15_000);
            socket.on("data", () => {});
            socket.on("error", () => {});
            socket.on("close", () => {
              clearInterval(drip);
              clearTimeout(giveUp);
              resolve(Date.now() - started);
            });
          }),
      ),
    );
    expect(Math.max(...cut)).toBeLessThan(5000);
    await expectAlive();
  });

  it("bounds what an unauthenticated WebSocket agent can make the server buffer before its hello (defect 5)", async () => {
    const before = rssMiB(server.pid);
    const closes = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<number>((resolve) => {
            const ws = new WebSocket(server.agentWebSocketUrl, { perMessageDeflate: false });
            ws.on("open", () => ws.send(Buffer.alloc(12 * 1024 * 1024, 120)));
            ws.on("close", (code) => resolve(code));
            ws.on("error", () => {});
          }),
      ),
    );
    expect(closes).toEqual(Array(6).fill(1009));
    // Buffering the six 12 MiB messages (the defect) cost 116–172 MiB; refused at their headers, what is left is
    // socket reads and garbage not yet collected, measured at up to 33 MiB on a busy machine.
    expect(rssMiB(server.pid) - before).toBeLessThan(64);
    await expectAlive();
  }, 90_000);
});

describe("half-closed tunnelled connections (issue 12 defect 5)", () => {
  it("are cut once idle, on the server and on the agent, when the workspace never closes its half", async () => {
    const held = new Set<net.Socket>();
    const app = net.createServer({ allowHalfOpen: true }, (socket) => {
      held.add(socket);
      socket.on("data", () => {});
      socket.on("error", () => {});
      socket.on("close", () => held.delete(socket));
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    const port = (app.address() as net.AddressInfo).port;
    const ws = workspace("ws-half", [port]);
    const server = await spawnTunnelServer({ workspaces: [ws], flags: ["--half-close-idle-ms", "500"] });
    const agent = spawnAgent(server.agentUrl, ws);
    try {
      await agent.connected(1);
      const serverFds = openFds(server.pid);
      const agentFds = openFds(agent.pid);
      const clients = await Promise.all(
        Array.from(
          { length: 20 },
          () =>
            new Promise<net.Socket>((resolve) => {
              const socket = net.connect({ port: server.userPort, host: "127.0.0.1", allowHalfOpen: true });
              socket.write(
                `CONNECT ${ws.name}:${port} HTTP/1.1\r\nHost: ${ws.name}:${port}\r\nProxy-Authorization: Bearer ${ws.userToken}\r\n\r\n`,
              );
              socket.once("data", () => {
                socket.end("bye");
                resolve(socket);
              });
              socket.on("error", () => {});
            }),
        ),
      );
      expect(clients).toHaveLength(20);
      expect(await settleFds(server.pid, serverFds, 8000)).toBeLessThanOrEqual(serverFds);
      expect(await settleFds(agent.pid, agentFds, 8000)).toBeLessThanOrEqual(agentFds);
      for (const client of clients) client.destroy();
    } finally {
      await agent.stop();
      await server.stop();
      for (const socket of held) socket.destroy();
      app.close();
    }
  }, 90_000);
});
