import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { PROTOCOL } from "../../src/tunnel/protocol.ts";
import { rssMiB } from "../tunnel/fds.ts";
import { token, workspace } from "../tunnel/helpers.ts";
import { rawExchange } from "../tunnel/raw.ts";
import {
  type AgentProcess,
  spawnAgent,
  spawnTunnelServer,
  type TunnelServerProcess,
} from "../tunnel/server-process.ts";
import { type Bundles, buildBundles } from "./bundles.ts";
import { recordRow } from "./table.ts";

const SEED = Number(process.env.WSPARITY_FUZZ_SEED ?? 20261205);

/** A service that answers every request and every raw connection with its secret. */
async function secretService(secret: string): Promise<{ port: number; close(): void }> {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () =>
      socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${secret.length}\r\nconnection: close\r\n\r\n${secret}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe("isolation, fuzzing, slow clients and memory at every tunnel listener", () => {
  let bundles: Bundles;
  let server: TunnelServerProcess;
  const agents: AgentProcess[] = [];
  const services: { port: number; close(): void }[] = [];
  const secrets = {
    a: `A-${randomBytes(6).toString("hex")}`,
    b: `B-${randomBytes(6).toString("hex")}`,
    c: `C-${randomBytes(6).toString("hex")}`,
    host: `HOST-${randomBytes(6).toString("hex")}`,
  };
  const adminToken = token();
  const socketPath = join(tmpdir(), `wsparity-attacks-${process.pid}.sock`);
  let ports: { a: number; b: number; c: number; host: number };
  let a: ReturnType<typeof workspace>;
  let b: ReturnType<typeof workspace>;
  let c: ReturnType<typeof workspace>;
  /** A workspace no agent serves, whose agent token the fuzzer uses to reach the HTTP/2 stage. */
  let f: ReturnType<typeof workspace>;
  let crashes = 0;

  const alive = async () => {
    if (!server.alive()) return false;
    const health = await rawExchange(server.userPort, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 5000);
    return health.status === 200;
  };
  /** Counts a crash and starts the server again, so one crash does not hide the others. */
  const checkAlive = async () => {
    if (await alive()) return;
    crashes++;
    const { userPort, agentPort } = server;
    await server.stop();
    server = await spawnTunnelServer({
      workspaces: [a, b, f],
      adminToken,
      userPort,
      agentPort,
      cli: bundles.tunnel,
      flags: ["--agent-socket", socketPath, "--headers-timeout-ms", "2000"],
    });
  };

  beforeAll(async () => {
    bundles = await buildBundles();
    for (const secret of [secrets.a, secrets.b, secrets.c, secrets.host])
      services.push(await secretService(secret));
    ports = { a: services[0]!.port, b: services[1]!.port, c: services[2]!.port, host: services[3]!.port };
    a = workspace("ws-a", [ports.a]);
    b = workspace("ws-b", [ports.b]);
    c = workspace("ws-c", [ports.c]);
    f = workspace("ws-fuzz", [ports.a]);
    server = await spawnTunnelServer({
      workspaces: [a, b, c, f],
      adminToken,
      cli: bundles.tunnel,
      flags: ["--agent-socket", socketPath, "--headers-timeout-ms", "2000"],
    });
    for (const ws of [a, b, c]) {
      const agent = spawnAgent(server.agentUrl, ws, {}, bundles.agent);
      agents.push(agent);
      await agent.connected(1);
    }
    // ws-c is stopped: its agent leaves and the workspace is removed; the attacker kept its user token.
    await agents[2]!.stop();
    const removed = await rawExchange(
      server.userPort,
      `DELETE /-/admin/workspaces/ws-c HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminToken}\r\n\r\n`,
    );
    expect(removed.status).toBe(204);
  }, 120_000);
  afterAll(async () => {
    bundles?.remove();
    for (const agent of agents) await agent.stop().catch(() => undefined);
    await server.stop();
    for (const service of services) service.close();
  });

  it("isolation attacks generated with fast-check reach nothing but the attacker's own workspace", async () => {
    const tokenOf = fc.constantFrom(
      a.userToken,
      c.userToken,
      b.userToken.slice(0, -1),
      `${a.userToken} ${b.userToken}`,
    );
    const credential = fc.oneof(
      tokenOf.map((t) => `Authorization: Bearer ${t}\r\n`),
      tokenOf.map((t) => `Proxy-Authorization: Bearer ${t}\r\n`),
      tokenOf.map((t) => `Cookie: wsparity_session=${t}; wsparity_token=${t}\r\n`),
      tokenOf.map((t) => `Authorization: Bearer ${a.userToken}\r\nAuthorization: Bearer ${t}\r\n`),
    );
    const victimPort = fc.constantFrom(ports.b, ports.c, ports.host, 22);
    const victim = fc.constantFrom("ws-b", "ws-c", "WS-B", "ws-b.", "ws%2db", "ws-a/../ws-b");
    const host = fc.oneof(
      fc.tuple(victimPort, victim).map(([p, v]) => `${p}-${v}.localtest`),
      fc.tuple(victimPort, victim).map(([p, v]) => `${p}-${v}.LOCALTEST.:${server.userPort}`),
      victimPort.map((p) => `${p}-ws-a.localtest`),
      fc.constant(`${ports.a}-ws-a.localtest`),
      fc.constant(`${ports.a}-ws-a.localtest\r\nHost: ${ports.b}-ws-b.localtest`),
      fc.constant(`${ports.b}-ws-b.localtest\r\nHost: ${ports.a}-ws-a.localtest`),
      fc.constant("127.0.0.1"),
    );
    const path = fc.oneof(
      fc.constant("/"),
      fc.tuple(victim, victimPort).map(([v, p]) => `/-/ws/${v}/${p}/`),
      victimPort.map((p) => `/-/ws/ws-a/${ports.a}/../../ws-b/${p}/`),
      victimPort.map((p) => `/-/ws/ws-a/${ports.a}/%2e%2e/%2e%2e/ws-b/${p}/`),
      victimPort.map((p) => `/-/ws/ws-a/${p}/`),
      victimPort.map((p) => `/-/ws/ws-a%2f..%2fws-b/${p}/`),
      fc.tuple(victim, victimPort).map(([v, p]) => `http://${p}-${v}.localtest/`),
      victimPort.map((p) => `//${p}-ws-b.localtest/`),
    );
    const upgrade = fc.constantFrom(
      "",
      "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    );
    const httpAttack = fc
      .tuple(fc.constantFrom("GET", "POST", "OPTIONS"), path, host, credential, upgrade)
      .map(
        ([method, p, h, cred, up]) =>
          `${method} ${p} HTTP/1.1\r\nHost: ${h}\r\n${cred}${up}Content-Length: 0\r\n\r\n`,
      );
    const connectTarget = fc.oneof(
      fc.tuple(victim, victimPort).map(([v, p]) => `${v}:${p}`),
      victimPort.map((p) => `ws-a:${p}`),
      victimPort.map((p) => `127.0.0.1:${p}`),
      fc.tuple(victimPort, victim).map(([p, v]) => `${p}-${v}.localtest:443`),
    );
    const connectAttack = fc
      .tuple(connectTarget, credential)
      .map(
        ([target, cred]) =>
          `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${cred}\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
    const attacks = fc.sample(fc.oneof(httpAttack, connectAttack), { numRuns: 400, seed: SEED });
    let successes = 0;
    const examples: string[] = [];
    for (const attack of attacks) {
      const answer = await rawExchange(server.userPort, attack, 3000);
      if ([secrets.b, secrets.c, secrets.host].some((s) => answer.text.includes(s))) {
        successes++;
        if (examples.length < 3) examples.push(attack.split("\r\n")[0]!);
      }
    }
    await checkAlive();
    const own = await rawExchange(
      server.userPort,
      `GET / HTTP/1.1\r\nHost: ${ports.a}-ws-a.localtest\r\nAuthorization: Bearer ${a.userToken}\r\n\r\n`,
    );
    recordRow({
      check: "isolation: generated attacks",
      did: `${attacks.length} requests (fast-check seed ${SEED}): Host/path/absolute-form/CONNECT to another workspace, a stopped one or the host; duplicated headers, encodings, A's and a stopped workspace's tokens`,
      figure: `${successes} attack successes; ${crashes} crashes; own workspace still answers: ${own.text.includes(secrets.a)}`,
      ok: successes === 0 && crashes === 0 && own.text.includes(secrets.a),
    });
    expect(examples).toEqual([]);
    expect(successes).toBe(0);
    expect(own.text).toContain(secrets.a);
  }, 300_000);

  /** The fuzzer's generated inputs: HTTP requests, admin requests, agent hellos, and bytes after a valid hello. */
  const generators = () => {
    const bytes = fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((u) => Buffer.from(u));
    const line = fc.string({ unit: "binary", maxLength: 300 });
    const requestLine = fc.oneof(
      fc
        .tuple(fc.constantFrom("GET", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "PATCH", "X"), line)
        .map(([m, t]) => `${m} ${t} HTTP/1.1`),
      line,
    );
    const header = fc
      .tuple(
        fc.oneof(
          fc.constantFrom(
            "Host",
            "Authorization",
            "Cookie",
            "Upgrade",
            "Connection",
            "Transfer-Encoding",
            "Content-Length",
            "Proxy-Authorization",
          ),
          line,
        ),
        line,
      )
      .map(([n, v]) => `${n}: ${v}`);
    const userRequest = fc.oneof(
      fc
        .tuple(requestLine, fc.array(header, { maxLength: 8 }))
        .map(([r, hs]) => Buffer.from(`${r}\r\n${hs.join("\r\n")}\r\n\r\n`, "latin1")),
      bytes,
    );
    const adminRequest = fc
      .tuple(
        fc.constantFrom("GET", "PUT", "DELETE", "POST"),
        fc.oneof(line, fc.constantFrom("%E0%A4%A", "%", "ws-a", "..", "")),
        fc.oneof(fc.json(), line),
      )
      .map(([m, name, body]) =>
        Buffer.from(
          `${m} /-/admin/workspaces/${name.replace(/[\r\n ]/g, "")} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminToken}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          "latin1",
        ),
      );
    const hello = fc.oneof(
      fc.json().map((j) => Buffer.from(`${j}\n`)),
      fc
        .record({
          protocol: fc.constantFrom(PROTOCOL, "x"),
          workspace: fc.constantFrom("ws-a", "ws-b", "", "ws-zz"),
          token: fc.constantFrom(a.agentToken, "x"),
          ports: fc.anything(),
        })
        .map((h) => Buffer.from(`${JSON.stringify(h)}\n`)),
      bytes,
    );
    // After a valid hello, garbage where HTTP/2 frames belong (the server is the HTTP/2 client there).
    const framesAfterHello = bytes.map((b) =>
      Buffer.concat([
        Buffer.from(
          `${JSON.stringify({ protocol: PROTOCOL, workspace: f.name, token: f.agentToken, ports: [1], agent: "fuzz" })}\n`,
        ),
        b,
      ]),
    );
    return { bytes, userRequest, adminRequest, hello, framesAfterHello };
  };
  const fuzzRuns = 150;
  /** Hellos the server accepted: past them, the fuzzer's bytes reach the HTTP/2 session, not the hello check. */
  let helloAccepted = 0;
  const noteAnswer = (chunk: Buffer) => {
    if (chunk.subarray(0, 10).toString("latin1") === '{"ok":true') helloAccepted++;
  };
  /** Sends each case on its own connection, ten at a time, each cut after 300 ms. */
  const sendCases = async (cases: Buffer[], deliver: (payload: Buffer) => Promise<void>) => {
    for (let i = 0; i < cases.length; i += 10)
      await Promise.all(cases.slice(i, i + 10).map((c) => deliver(c).catch(() => undefined)));
  };
  const rawDelivery = (connect: () => net.Socket) => (payload: Buffer) =>
    new Promise<void>((resolve) => {
      const socket = connect();
      socket.on("error", () => resolve());
      socket.on("close", () => resolve());
      socket.once("data", (chunk: Buffer) => noteAnswer(chunk));
      socket.write(payload);
      setTimeout(() => socket.destroy(), 300);
    });

  it("a fuzzer at every listener crashes nothing", async () => {
    const before = crashes;
    const { userRequest, adminRequest, hello, framesAfterHello } = generators();
    const runs = fuzzRuns;
    const counts: Record<string, number> = {};
    const accepted: Record<string, number> = {};
    const send = async (name: string, cases: Buffer[], deliver: (payload: Buffer) => Promise<void>) => {
      counts[name] = cases.length;
      const acceptedBefore = helloAccepted;
      await sendCases(cases, deliver);
      accepted[name] = helloAccepted - acceptedBefore;
      await checkAlive();
    };
    const raw = rawDelivery;
    const user = raw(() => net.connect(server.userPort, "127.0.0.1"));
    const agentTcp = raw(() => net.connect(server.agentPort, "127.0.0.1"));
    const agentUnix = raw(() => net.connect(socketPath));
    const agentWs = (payload: Buffer) =>
      new Promise<void>((resolve) => {
        const socket = new WebSocket(server.agentWebSocketUrl, { perMessageDeflate: false });
        socket.on("open", () => {
          socket.send(payload);
          setTimeout(() => socket.terminate(), 300);
        });
        socket.on("close", () => resolve());
        socket.on("error", () => resolve());
      });
    await send(
      "user listener: request lines and headers",
      fc.sample(userRequest, { numRuns: runs, seed: SEED }),
      user,
    );
    await send("user listener: admin requests", fc.sample(adminRequest, { numRuns: runs, seed: SEED }), user);
    await send(
      "agent tcp listener: hellos and bytes",
      fc.sample(hello, { numRuns: runs, seed: SEED }),
      agentTcp,
    );
    await send(
      "agent tcp listener: frames after a hello",
      fc.sample(framesAfterHello, { numRuns: runs, seed: SEED }),
      agentTcp,
    );
    await send(
      "agent unix socket: hellos and bytes",
      fc.sample(hello, { numRuns: runs, seed: SEED + 1 }),
      agentUnix,
    );
    await send(
      "agent WebSocket /-/agent: messages",
      fc.sample(hello, { numRuns: runs, seed: SEED + 2 }),
      agentWs,
    );
    const total = Object.values(counts).reduce((x, y) => x + y, 0);
    const found = crashes - before;
    recordRow({
      check: "fuzz: every listener",
      did: `${total} generated inputs (seed ${SEED}): ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join("; ")}`,
      figure: `${found} crashes; ${accepted["agent tcp listener: frames after a hello"]} frame cases past an accepted hello`,
      ok: found === 0 && accepted["agent tcp listener: frames after a hello"]! > 0,
    });
    expect(found).toBe(0);
    // The frame cases must get past the hello, or they fuzz only the hello check.
    expect(accepted["agent tcp listener: frames after a hello"]).toBeGreaterThan(0);
  }, 300_000);

  it("a fuzzer at the TLS agent listener crashes nothing", async () => {
    const { bytes, hello, framesAfterHello } = generators();
    const flags = ["--self-signed", "--agent-tls", "--no-user-tls"];
    let tlsServer = await spawnTunnelServer({ workspaces: [a, f], cli: bundles.tunnel, flags });
    let tlsCrashes = 0;
    const counts: Record<string, number> = {};
    const accepted: Record<string, number> = {};
    try {
      const send = async (name: string, cases: Buffer[], deliver: (payload: Buffer) => Promise<void>) => {
        counts[name] = cases.length;
        const acceptedBefore = helloAccepted;
        await sendCases(cases, deliver);
        accepted[name] = helloAccepted - acceptedBefore;
        const health = tlsServer.alive()
          ? await rawExchange(tlsServer.userPort, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 5000)
          : undefined;
        if (health?.status === 200) return;
        tlsCrashes++;
        const { userPort, agentPort } = tlsServer;
        await tlsServer.stop();
        tlsServer = await spawnTunnelServer({
          workspaces: [a, f],
          cli: bundles.tunnel,
          flags,
          userPort,
          agentPort,
        });
      };
      const overTls = (payload: Buffer) =>
        new Promise<void>((resolve) => {
          const socket = tls.connect({
            port: tlsServer.agentPort,
            host: "127.0.0.1",
            rejectUnauthorized: false,
          });
          socket.on("error", () => resolve());
          socket.on("close", () => resolve());
          socket.once("data", (chunk: Buffer) => noteAnswer(chunk));
          socket.once("secureConnect", () => socket.write(payload));
          setTimeout(() => socket.destroy(), 300);
        });
      // Bytes where a ClientHello belongs, then everything the plain agent listener gets, inside TLS.
      await send(
        "TLS handshake bytes",
        fc.sample(bytes, { numRuns: fuzzRuns, seed: SEED + 3 }),
        rawDelivery(() => net.connect(tlsServer.agentPort, "127.0.0.1")),
      );
      await send(
        "hellos and bytes over TLS",
        fc.sample(hello, { numRuns: fuzzRuns, seed: SEED + 4 }),
        overTls,
      );
      await send(
        "frames after a hello over TLS",
        fc.sample(framesAfterHello, { numRuns: fuzzRuns, seed: SEED + 5 }),
        overTls,
      );
    } finally {
      await tlsServer.stop();
    }
    const total = Object.values(counts).reduce((x, y) => x + y, 0);
    recordRow({
      check: "fuzz: agent TLS listener",
      did: `${total} generated inputs (seed ${SEED}+3..5) at \`--agent-tls\`: ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join("; ")}`,
      figure: `${tlsCrashes} crashes; ${accepted["frames after a hello over TLS"]} frame cases past an accepted hello`,
      ok: tlsCrashes === 0 && accepted["frames after a hello over TLS"]! > 0,
    });
    expect(tlsCrashes).toBe(0);
    expect(accepted["frames after a hello over TLS"]).toBeGreaterThan(0);
  }, 300_000);

  it("slow headers and slow bodies are cut", async () => {
    const slow = (body: boolean) =>
      new Promise<number>((resolve) => {
        const started = Date.now();
        const socket = net.connect(server.userPort, "127.0.0.1");
        socket.write(
          body
            ? `POST / HTTP/1.1\r\nHost: ${ports.b}-ws-b.localtest\r\nContent-Length: 100000\r\n\r\n`
            : `GET / HTTP/1.1\r\nHost: ${ports.b}-ws-b.localtest\r\n`,
        );
        const drip = setInterval(() => socket.write(body ? "x" : "X-Slow: 1\r\n"), 200);
        const cap = setTimeout(() => socket.destroy(), 20_000);
        socket.on("data", () => {});
        socket.on("error", () => {});
        socket.on("close", () => {
          clearInterval(drip);
          clearTimeout(cap);
          resolve((Date.now() - started) / 1000);
        });
      });
    const headers = await Promise.all(Array.from({ length: 50 }, () => slow(false)));
    const bodies = await Promise.all(Array.from({ length: 50 }, () => slow(true)));
    const worstHeaders = Math.max(...headers);
    const worstBodies = Math.max(...bodies);
    recordRow({
      check: "slow clients: headers",
      did: "50 connections sending a header line every 200 ms (--headers-timeout-ms 2000)",
      figure: `50/50 cut; the last after ${worstHeaders.toFixed(1)} s`,
      ok: worstHeaders < 5,
    });
    recordRow({
      check: "slow clients: bodies before authentication",
      did: "50 unauthenticated POSTs dripping a byte of their body every 200 ms",
      figure: `50/50 cut; the last after ${worstBodies.toFixed(1)} s`,
      ok: worstBodies < 5,
    });
    expect(worstHeaders).toBeLessThan(5);
    expect(worstBodies).toBeLessThan(5);
  }, 120_000);

  it("memory per unauthenticated connection is bounded", async () => {
    const held: (net.Socket | tls.TLSSocket)[] = [];
    const rssBefore = rssMiB(server.pid);
    // Header blocks just under the 16 KiB limit, never finished, and agent hellos just under 8 KiB, never ended.
    for (let i = 0; i < 200; i++) {
      const socket = net.connect(server.userPort, "127.0.0.1");
      socket.on("error", () => {});
      socket.write(`GET / HTTP/1.1\r\nHost: ${ports.b}-ws-b.localtest\r\nX-Pad: ${"p".repeat(15_000)}\r\n`);
      held.push(socket);
    }
    for (let i = 0; i < 100; i++) {
      const socket = net.connect(server.agentPort, "127.0.0.1");
      socket.on("error", () => {});
      socket.write(`{"protocol":"${PROTOCOL}","pad":"${"p".repeat(8000)}`);
      held.push(socket);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const rssHeld = rssMiB(server.pid);
    const perConnectionKiB = ((rssHeld - rssBefore) * 1024) / held.length;
    for (const socket of held) socket.destroy();
    await checkAlive();
    recordRow({
      check: "memory: unauthenticated connections",
      did: `${held.length} connections held open unauthenticated (200 with 15 KiB of unfinished headers, 100 with 8 KB of an unfinished agent hello)`,
      figure: `server RSS ${rssBefore.toFixed(0)} → ${rssHeld.toFixed(0)} MiB: ${Math.max(0, perConnectionKiB).toFixed(0)} KiB per connection (bound 128)`,
      ok: perConnectionKiB <= 128,
    });
    expect(perConnectionKiB).toBeLessThanOrEqual(128);
  }, 60_000);
});
