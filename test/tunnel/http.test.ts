import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceAgent } from "../../src/agent/index.ts";
import type { StartedTunnelServer } from "../../src/tunnel/index.ts";
import {
  curl,
  hostHeader,
  startAgent,
  startServer,
  startTargetApp,
  type Workspace,
  workspace,
} from "./helpers.ts";

describe("HTTP/1.1 through the tunnel, with curl", () => {
  let app: Awaited<ReturnType<typeof startTargetApp>>;
  let server: StartedTunnelServer;
  let agent: WorkspaceAgent;
  let ws: Workspace;
  let auth: string;

  beforeAll(async () => {
    app = await startTargetApp();
    ws = workspace("ws-http", [app.port]);
    server = await startServer([ws]);
    agent = await startAgent(server.agentUrl!, ws);
    auth = `Authorization: Bearer ${ws.userToken}`;
  });
  afterAll(async () => {
    await agent.stop();
    await server.stop();
    await app.close();
  });

  it("routes Host: <port>-<workspace>.<domain> to the workspace and hides the tunnel token", async () => {
    const r = await curl(["-H", hostHeader(ws, app.port), "-H", auth, `${server.userUrl}/echo?q=1`]);
    expect(r.status).toBe(200);
    const echoed = JSON.parse(r.stdout);
    expect(echoed.url).toBe("/echo?q=1");
    expect(echoed.headers.host).toBe(`${app.port}-${ws.name}.localtest`);
    expect(echoed.headers.authorization).toBeUndefined();
    expect(echoed.headers["x-forwarded-proto"]).toBe("http");
  });

  it("routes the path form /-/ws/<workspace>/<port>/… with the prefix removed", async () => {
    const r = await curl([
      "-H",
      auth,
      "--data-binary",
      "posted",
      `${server.userUrl}/-/ws/${ws.name}/${app.port}/echo?a=b`,
    ]);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.stdout)).toMatchObject({ method: "POST", url: "/echo?a=b", body: "posted" });
  });

  it("reuses one connection for keep-alive requests", async () => {
    const url = `${server.userUrl}/-/ws/${ws.name}/${app.port}/echo`;
    const r = await curl([
      "-H",
      auth,
      url,
      url,
      url,
      "-o",
      "/dev/null",
      "-o",
      "/dev/null",
      "-o",
      "/dev/null",
      "-w",
      "%{num_connects}\n",
    ]);
    expect(r.code).toBe(0);
    // curl prints num_connects per URL: 1 for the first, 0 for the reused ones.
    expect(r.stdout.trim().split("\n").slice(0, 3).map(Number)).toEqual([1, 0, 0]);
  });

  it("carries a chunked 12 MiB upload and a 24 MiB download intact (both beyond one flow-control window)", async () => {
    const body = randomBytes(12 * 1024 * 1024);
    const up = await curl(
      [
        "-H",
        auth,
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "@-",
        `${server.userUrl}/-/ws/${ws.name}/${app.port}/sha256`,
      ],
      body,
    );
    expect(up.status).toBe(200);
    expect(JSON.parse(up.stdout)).toEqual({
      sha256: createHash("sha256").update(body).digest("hex"),
      bytes: body.length,
    });
    const down = await curl([
      "-H",
      auth,
      `${server.userUrl}/-/ws/${ws.name}/${app.port}/bytes/25165824`,
      "-o",
      "/dev/null",
      "-w",
      "%{size_download}\n%{http_code}",
    ]);
    expect(Number(down.stdout)).toBe(24 * 1024 * 1024);
  });

  it("one reader that stops reading does not stall other streams of the same agent", async () => {
    const auth = { authorization: `Bearer ${ws.userToken}` };
    const stalled = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(
          `${server.userUrl}/-/ws/${ws.name}/${app.port}/bytes/${256 * 1024 * 1024}`,
          { headers: auth, agent: false },
          (res) => {
            res.pause();
            resolve(res);
          },
        )
        .on("error", reject);
    });
    try {
      // Let the stalled stream fill every buffer and window it can.
      await new Promise((r) => setTimeout(r, 500));
      const started = Date.now();
      const received = await new Promise<number>((resolve, reject) => {
        http
          .get(
            `${server.userUrl}/-/ws/${ws.name}/${app.port}/bytes/${32 * 1024 * 1024}`,
            { headers: auth, agent: false },
            (res) => {
              let n = 0;
              res.on("data", (c: Buffer) => {
                n += c.length;
              });
              res.on("end", () => resolve(n));
            },
          )
          .on("error", reject);
      });
      expect(received).toBe(32 * 1024 * 1024);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(stalled.readableEnded).toBe(false);
    } finally {
      stalled.destroy();
    }
  });

  it("carries pipelined downloads larger than every buffer, in order and whole", async () => {
    const size = 8 * 1024 * 1024;
    const head = `GET /-/ws/${ws.name}/${app.port}/bytes/${size} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ws.userToken}\r\n\r\n`;
    const received = await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect(Number(new URL(server.userUrl).port), "127.0.0.1");
      const chunks: Buffer[] = [];
      let total = 0;
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        total += chunk.length;
        // Two bodies and two heads of a few hundred bytes each.
        if (total >= 2 * size + 2 * 100 && Buffer.concat(chunks).lastIndexOf("\r\n\r\n") !== -1) {
          const all = Buffer.concat(chunks);
          const second = all.indexOf("HTTP/1.1 200", 1);
          if (second !== -1 && all.length - (all.indexOf("\r\n\r\n", second) + 4) >= size) {
            socket.destroy();
            resolve(all);
          }
        }
      });
      socket.on("error", reject);
      socket.write(head + head);
    });
    const firstBody = received.indexOf("\r\n\r\n") + 4;
    const second = received.indexOf("HTTP/1.1 200", firstBody);
    expect(second - firstBody).toBe(size);
    const secondBody = received.indexOf("\r\n\r\n", second) + 4;
    expect(received.length - secondBody).toBe(size);
  });

  it("streams a response as it is produced", async () => {
    const firstChunkAfterMs = await new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const req = http.get(
        `${server.userUrl}/-/ws/${ws.name}/${app.port}/drip`,
        { headers: { authorization: `Bearer ${ws.userToken}` } },
        (res) => {
          res.once("data", () => {
            resolve(Date.now() - started);
            req.destroy();
          });
        },
      );
      req.on("error", reject);
    });
    expect(firstChunkAfterMs).toBeLessThan(2000);
  });

  it("does not reuse a pooled stream whose workspace connection has closed", async () => {
    // A server that closes idle keep-alive connections after 100 ms without announcing it (as many do).
    const closer = net.createServer((socket) => {
      let idle: NodeJS.Timeout | undefined;
      socket.on("data", () => {
        clearTimeout(idle);
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nshort");
        idle = setTimeout(() => socket.end(), 100);
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => closer.listen(0, "127.0.0.1", resolve));
    const port = (closer.address() as net.AddressInfo).port;
    const route = server.workspaces.get(ws.name)!;
    route.config.ports!.push(port);
    agent.options.ports.push(port);
    try {
      const url = `${server.userUrl}/-/ws/${ws.name}/${port}/`;
      const ask = async () => {
        const r = await fetch(url, { headers: { authorization: `Bearer ${ws.userToken}` } });
        return `${r.status} ${await r.text()}`;
      };
      expect(await ask()).toBe("200 short");
      await new Promise((r) => setTimeout(r, 400));
      expect(await ask()).toBe("200 short");
      await new Promise((r) => setTimeout(r, 400));
      expect(await Promise.all(Array.from({ length: 8 }, ask))).toEqual(Array(8).fill("200 short"));
    } finally {
      route.config.ports!.pop();
      agent.options.ports.pop();
      closer.close();
    }
  });

  it("serves /healthz and Prometheus /metrics", async () => {
    const health = await curl([`${server.userUrl}/healthz`]);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: "ok", agentsConnected: 1 });
    const metrics = await curl([`${server.userUrl}/metrics`]);
    expect(metrics.stdout).toMatch(/^wsparity_tunnel_agents_connected 1$/m);
    expect(metrics.stdout).toMatch(/^wsparity_tunnel_streams_total [1-9]\d*$/m);
    expect(metrics.stdout).toMatch(/^wsparity_tunnel_response_latency_seconds_count [1-9]\d*$/m);
  });
});

describe("a request's bytes on a fresh workspace stream", () => {
  it("arrive intact when the head and the body are written together (fetch POST)", async () => {
    const received: Buffer[] = [];
    const target = net.createServer((socket) =>
      socket.on("data", (d) => {
        received.push(d);
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      }),
    );
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", () => resolve()));
    const port = (target.address() as net.AddressInfo).port;
    const ws = workspace("ws-intact", [port]);
    const server = await startServer([ws]);
    const agent = await startAgent(server.agentUrl!, ws);
    try {
      const res = await fetch(`${server.userUrl}/-/ws/${ws.name}/${port}/echo`, {
        method: "POST",
        headers: { authorization: `Bearer ${ws.userToken}`, "content-type": "application/json" },
        body: JSON.stringify({ command: "uname -m" }),
      });
      expect(res.status).toBe(200);
      const request = Buffer.concat(received).toString("latin1");
      expect(request.startsWith("POST /echo HTTP/1.1\r\n")).toBe(true);
      expect(request.endsWith('\r\n\r\n{"command":"uname -m"}')).toBe(true);
    } finally {
      await agent.stop();
      await server.stop();
      target.close();
    }
  });
});
