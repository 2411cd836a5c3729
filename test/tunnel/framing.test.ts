import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceAgent } from "../../src/agent/index.ts";
import type { StartedTunnelServer } from "../../src/tunnel/index.ts";
import { startAgent, startServer, type Workspace, workspace } from "./helpers.ts";

const CHUNKED_BODY = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n";

/** What the workspace answers, by request path: written as is, on a connection that stays open unless it says so. */
const SCRIPT: Record<string, { bytes: string | string[]; close?: boolean }> = {
  "/chunked": {
    bytes: `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-trailer\r\n\r\n${CHUNKED_BODY}`,
  },
  "/length": { bytes: "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world" },
  "/no-content": { bytes: "HTTP/1.1 204 No Content\r\n\r\n" },
  "/not-modified": { bytes: 'HTTP/1.1 304 Not Modified\r\netag: "x"\r\ncontent-length: 11\r\n\r\n' },
  "/until-close": { bytes: "HTTP/1.1 200 OK\r\n\r\nuntil close", close: true },
  "/continue": { bytes: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" },
  // The head arrives a few bytes at a time.
  "/dribbled": { bytes: ["HTTP/1.1 2", "00 OK\r\ncontent-le", "ngth: 2\r\n", "\r\n", "o", "k"] },
  "/truncated": { bytes: "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b", close: true },
  "/garbage": { bytes: "SSH-2.0-OpenSSH\r\n\r\n" },
};

/** A workspace server that speaks HTTP/1.1 from a script (for HEAD, the head of the same answer). */
function scriptedTarget(connections: { count: number }): net.Server {
  return net.createServer((socket) => {
    connections.count++;
    let pending = "";
    socket.setEncoding("latin1");
    socket.on("error", () => {});
    socket.on("data", async (text: string) => {
      pending += text;
      for (let end = pending.indexOf("\r\n\r\n"); end !== -1; end = pending.indexOf("\r\n\r\n")) {
        const [method, path] = pending.slice(0, end).split(" ");
        pending = pending.slice(end + 4);
        const answer = SCRIPT[path!] ?? { bytes: "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n" };
        const bytes = Array.isArray(answer.bytes) ? answer.bytes : [answer.bytes];
        for (const piece of bytes) {
          socket.write(method === "HEAD" ? piece.slice(0, piece.indexOf("\r\n\r\n") + 4) : piece);
          if (bytes.length > 1) await new Promise((r) => setTimeout(r, 20));
        }
        if (answer.close) socket.end();
      }
    });
  });
}

/** Sends `request` on `socket` and collects what comes back until `done` says the answer is complete. */
function ask(socket: net.Socket, request: string, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(
      () => finish(new Error(`no complete answer to ${request.split("\r\n")[0]}: ${JSON.stringify(text)}`)),
      5000,
    );
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (done(text)) finish();
    };
    const onClose = () => finish(done(text) ? undefined : new Error(`closed after ${JSON.stringify(text)}`));
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (err) reject(err);
      else resolve(text);
    };
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.write(request);
  });
}

describe("responses relayed as raw bytes after their head", () => {
  const connections = { count: 0 };
  let target: net.Server;
  let port: number;
  let ws: Workspace;
  let server: StartedTunnelServer;
  let agent: WorkspaceAgent;
  let userPort: number;

  beforeAll(async () => {
    target = scriptedTarget(connections);
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    port = (target.address() as net.AddressInfo).port;
    ws = workspace("ws-framing", [port]);
    server = await startServer([ws]);
    agent = await startAgent(server.agentUrl!, ws);
    userPort = Number(new URL(server.userUrl).port);
  });
  afterAll(async () => {
    await agent.stop();
    await server.stop();
    target.close();
  });

  const request = (method: string, path: string, version = "1.1") =>
    `${method} /-/ws/${ws.name}/${port}${path} HTTP/${version}\r\nhost: x\r\nauthorization: Bearer ${ws.userToken}\r\n\r\n`;
  const bodyOf = (text: string) => text.slice(text.indexOf("\r\n\r\n") + 4);

  it("passes a chunked body on exactly as sent (extensions, trailers), and the connections are kept on both sides", async () => {
    const user = net.connect(userPort, "127.0.0.1");
    try {
      const before = connections.count;
      for (let i = 0; i < 3; i++) {
        const text = await ask(user, request("GET", "/chunked"), (t) =>
          t.endsWith("0\r\nx-trailer: t\r\n\r\n"),
        );
        expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(text).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
        expect(text).not.toMatch(/\r\ntrailer:/i);
        expect(bodyOf(text)).toBe(CHUNKED_BODY);
      }
      expect(connections.count - before).toBe(1);
    } finally {
      user.destroy();
    }
  });

  it("gives node's client the body and trailers of a chunked answer", async () => {
    const answer = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      http
        .get(
          `${server.userUrl}/-/ws/${ws.name}/${port}/chunked`,
          { headers: { authorization: `Bearer ${ws.userToken}` } },
          (res) => {
            let body = "";
            res.setEncoding("latin1");
            res.on("data", (d: string) => {
              body += d;
            });
            res.on("end", () => resolve({ body, trailers: res.trailers }));
          },
        )
        .on("error", reject);
    });
    expect(answer).toEqual({ body: "hello world", trailers: { "x-trailer": "t" } });
  });

  it("decodes a chunked body for an HTTP/1.0 user, who cannot read chunked framing", async () => {
    const user = net.connect(userPort, "127.0.0.1");
    try {
      const text = await ask(user, request("GET", "/chunked", "1.0"), () => false).catch(
        (err: Error) => err.message,
      );
      expect(text).toMatch(/^closed after "HTTP\/1\.1 200 OK\\r\\n/);
      const raw = JSON.parse(text.slice("closed after ".length)) as string;
      expect(raw).not.toMatch(/transfer-encoding/i);
      expect(bodyOf(raw)).toBe("hello world");
    } finally {
      user.destroy();
    }
  });

  it("answers HEAD, 204 and 304 without a body and keeps the connection for the next request", async () => {
    const user = net.connect(userPort, "127.0.0.1");
    try {
      const head = await ask(user, request("HEAD", "/length"), (t) => t.includes("\r\n\r\n"));
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head).toMatch(/\r\ncontent-length: 11\r\n/i);
      expect(bodyOf(head)).toBe("");
      const noContent = await ask(user, request("GET", "/no-content"), (t) => t.includes("\r\n\r\n"));
      expect(noContent).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
      expect(bodyOf(noContent)).toBe("");
      const notModified = await ask(user, request("GET", "/not-modified"), (t) => t.includes("\r\n\r\n"));
      expect(notModified).toMatch(/^HTTP\/1\.1 304 Not Modified\r\n/);
      expect(bodyOf(notModified)).toBe("");
      const length = await ask(user, request("GET", "/length"), (t) => t.endsWith("hello world"));
      expect(bodyOf(length)).toBe("hello world");
    } finally {
      user.destroy();
    }
  });

  it("frames a body that ends with the workspace's connection for the user, whose connection stays open", async () => {
    const user = net.connect(userPort, "127.0.0.1");
    try {
      const text = await ask(user, request("GET", "/until-close"), (t) => t.endsWith("0\r\n\r\n"));
      expect(text).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
      expect(bodyOf(text)).toBe("b\r\nuntil close\r\n0\r\n\r\n");
      const next = await ask(user, request("GET", "/length"), (t) => t.endsWith("hello world"));
      expect(next).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      user.destroy();
    }
  });

  it("answers pipelined requests in order", async () => {
    const user = net.connect(userPort, "127.0.0.1");
    try {
      const paths = ["/length", "/chunked", "/no-content", "/dribbled", "/length"];
      const text = await ask(
        user,
        paths.map((path) => request("GET", path)).join(""),
        (t) => t.endsWith("hello world") && t.split("HTTP/1.1 ").length - 1 === paths.length,
      );
      expect(text.match(/HTTP\/1\.1 \d{3}/g)).toEqual([
        "HTTP/1.1 200",
        "HTTP/1.1 200",
        "HTTP/1.1 204",
        "HTTP/1.1 200",
        "HTTP/1.1 200",
      ]);
      expect(text).toContain(CHUNKED_BODY);
    } finally {
      user.destroy();
    }
  });

  it("skips interim responses and reads a head that arrives in pieces", async () => {
    const user = net.connect(userPort, "127.0.0.1");
    try {
      const continued = await ask(user, request("GET", "/continue"), (t) => t.endsWith("\r\n\r\nok"));
      expect(continued).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      const dribbled = await ask(user, request("GET", "/dribbled"), (t) => t.endsWith("\r\n\r\nok"));
      expect(dribbled).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      user.destroy();
    }
  });

  it("cuts the user's connection when the body ends early, and answers 502 to a workspace that does not speak HTTP", async () => {
    const cut = net.connect(userPort, "127.0.0.1");
    const truncated = await ask(cut, request("GET", "/truncated"), () => false).catch(
      (err: Error) => err.message,
    );
    expect(truncated).toMatch(/^closed after .*only ten b"$/);
    cut.destroy();
    const user = net.connect(userPort, "127.0.0.1");
    try {
      const garbage = await ask(user, request("GET", "/garbage"), (t) => /\r\n\r\n[^\n]*\n$/.test(t));
      expect(garbage).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
      expect(bodyOf(garbage)).toMatch(/^workspace stream failed: malformed status line "SSH-2.0-OpenSSH"/);
      const next = await ask(user, request("GET", "/length"), (t) => t.endsWith("hello world"));
      expect(next).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      user.destroy();
    }
  });
});
