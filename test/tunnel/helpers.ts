import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { type AgentOptions, WorkspaceAgent } from "../../src/agent/index.ts";
import { type StartedTunnelServer, silentLog, TunnelServerBuilder } from "../../src/tunnel/index.ts";

export const DOMAIN = "localtest";

export function token(): string {
  return randomBytes(18).toString("base64url");
}

/**
 * A workspace's web app: /echo returns what it got, /bytes/N streams N bytes, /sha256 hashes the body,
 * /drip sends a chunk every 50 ms until the client leaves, /ws echoes WebSocket messages.
 */
export async function startTargetApp(
  options: { host?: string; port?: number; name?: string } = {},
): Promise<{ port: number; server: http.Server; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/app") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><title>workspace app</title><p id="status">loading</p><script>
        const ws = new WebSocket(location.origin.replace(/^http/, "ws") + location.pathname.replace(/app$/, "ws"));
        ws.onopen = () => ws.send("ping from the browser");
        ws.onmessage = (e) => { document.getElementById("status").textContent = "echo: " + e.data; };
        ws.onerror = () => { document.getElementById("status").textContent = "websocket error"; };
      </script>`);
      return;
    }
    if (url.pathname === "/whoami") {
      res.end(options.name ?? "app");
      return;
    }
    if (url.pathname === "/echo") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            headers: req.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      });
      return;
    }
    if (url.pathname.startsWith("/bytes/")) {
      const total = Number(url.pathname.slice(7));
      const block = Buffer.alloc(64 * 1024, 7);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": total });
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const n = Math.min(block.length, total - sent);
          sent += n;
          if (!res.write(n === block.length ? block : block.subarray(0, n)))
            return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (url.pathname === "/sha256") {
      const hash = createHash("sha256");
      let bytes = 0;
      req.on("data", (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      req.on("end", () => res.end(JSON.stringify({ sha256: hash.digest("hex"), bytes })));
      return;
    }
    if (url.pathname === "/drip") {
      res.writeHead(200, { "content-type": "text/plain" });
      let n = 0;
      const timer = setInterval(() => res.write(`tick ${n++}\n`), 50);
      res.on("close", () => clearInterval(timer));
      return;
    }
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>workspace</title><p>hello from the workspace</p>");
  });
  const wss = new WebSocketServer({ server, path: "/ws" });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve),
  );
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Workspace {
  name: string;
  agentToken: string;
  userToken: string;
  ports: number[];
}

export function workspace(name: string, ports: number[]): Workspace {
  return { name, agentToken: token(), userToken: token(), ports };
}

export async function startServer(
  workspaces: Workspace[],
  configure: (b: TunnelServerBuilder) => TunnelServerBuilder = (b) => b,
): Promise<StartedTunnelServer> {
  let builder = new TunnelServerBuilder()
    .withDomain(DOMAIN)
    .withUserListener({ port: 0 })
    .withAgentListener({ port: 0 })
    .withLimits({ heartbeatMs: 2000, replaceGraceMs: 2000 });
  for (const ws of workspaces) {
    builder = builder.withWorkspace({
      workspace: ws.name,
      agentToken: ws.agentToken,
      userTokens: [ws.userToken],
      ports: ws.ports,
    });
  }
  return configure(builder).start();
}

export async function startAgent(
  server: string,
  ws: Workspace,
  overrides: Partial<AgentOptions> = {},
): Promise<WorkspaceAgent> {
  const agent = new WorkspaceAgent({
    server: new URL(server),
    workspace: ws.name,
    token: ws.agentToken,
    ports: [...ws.ports],
    targetHost: "127.0.0.1",
    backoff: { initialMs: 50, maxMs: 500 },
    connectTimeoutMs: 5000,
    log: silentLog,
    ...overrides,
  });
  const connected = new Promise<void>((resolve, reject) => {
    agent.once("connected", resolve);
    agent.once("rejected", (status, error) => reject(new Error(`agent rejected: ${status} ${error}`)));
  });
  agent.start();
  await connected;
  return agent;
}

export interface CurlResult {
  status: number | null;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real curl; `-w` is appended so stdout ends with `\n<http code>`. */
export function curl(args: string[], input?: Buffer): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("curl", ["-sS", "--max-time", "30", "-w", "\n%{http_code}", ...args]);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      const text = Buffer.concat(out).toString("utf8");
      const cut = text.lastIndexOf("\n");
      resolve({
        code,
        status: Number(text.slice(cut + 1)) || null,
        stdout: text.slice(0, cut),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    if (input) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** `Host` header for a workspace port, so curl reaches the loopback listener with the right name. */
export function hostHeader(ws: Workspace, port: number): string {
  return `Host: ${port}-${ws.name}.${DOMAIN}`;
}
