import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { WorkspaceAgent } from "../../src/agent/index.ts";
import { startThrowawaySshd, type ThrowawaySshd } from "../../src/tunnel/bench/sshd.ts";
import { openConnectTunnel, type StartedTunnelServer } from "../../src/tunnel/index.ts";
import { missingTool } from "../support/tools.ts";
import { startAgent, startServer, startTargetApp, type Workspace, workspace } from "./helpers.ts";

const noSsh =
  missingTool("/usr/sbin/sshd", "scripts/install-test-tools.sh (openssh-server, openssh-client)") ??
  missingTool("/usr/bin/ssh", "scripts/install-test-tools.sh (openssh-server, openssh-client)");

describe("WebSocket and raw TCP through the tunnel", () => {
  let app: Awaited<ReturnType<typeof startTargetApp>>;
  let sshd: ThrowawaySshd | undefined;
  let server: StartedTunnelServer;
  let agent: WorkspaceAgent;
  let ws: Workspace;

  beforeAll(async () => {
    app = await startTargetApp();
    if (!noSsh) sshd = await startThrowawaySshd();
    ws = workspace("ws-streams", sshd ? [app.port, sshd.port] : [app.port]);
    server = await startServer([ws]);
    agent = await startAgent(server.agentUrl!, ws);
  });
  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    await app?.close();
    await sshd?.stop();
  });

  it("carries a long-lived, bidirectional WebSocket (text and a 1 MiB binary message)", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.userPort}/ws`, {
      headers: { host: `${app.port}-${ws.name}.localtest`, authorization: `Bearer ${ws.userToken}` },
    });
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const replies: Buffer[] = [];
    socket.on("message", (data) => replies.push(data as Buffer));
    const big = randomBytes(1024 * 1024);
    for (let i = 0; i < 50; i++) socket.send(`message ${i}`);
    socket.send(big);
    await new Promise((r) => setTimeout(r, 600));
    for (let i = 50; i < 60; i++) socket.send(`message ${i}`);
    const until = Date.now() + 10_000;
    while (replies.length < 61 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(replies.length).toBe(61);
    expect(replies[0]!.toString()).toBe("message 0");
    expect(Buffer.compare(replies[50]!, big)).toBe(0);
    expect(replies[60]!.toString()).toBe("message 59");
    socket.close();
  });

  it("refuses a WebSocket upgrade without a token", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.userPort}/-/ws/${ws.name}/${app.port}/ws`);
    const status = await new Promise<number>((resolve) => {
      socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.once("open", () => resolve(101));
      socket.once("error", () => {});
    });
    expect(status).toBe(401);
  });

  it("opens raw TCP with HTTP CONNECT", async () => {
    const stream = await openConnectTunnel({
      url: new URL(server.userUrl),
      workspace: ws.name,
      port: app.port,
      token: ws.userToken,
      domain: "localtest",
    });
    stream.write(`GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\napp$/);
    await expect(
      openConnectTunnel({ url: new URL(server.userUrl), workspace: ws.name, port: 1, token: ws.userToken }),
    ).rejects.toMatchObject({ status: 403 });
  });

  it("runs OpenSSH's ssh through `wsparity tunnel connect` as ProxyCommand to a real sshd", async (ctx) => {
    if (noSsh) ctx.skip(noSsh);
    const tokenFile = join(tmpdir(), `wsparity-user-token-${process.pid}`);
    await writeFile(tokenFile, ws.userToken, { mode: 0o600 });
    const proxy = `${process.execPath} ${join(process.cwd(), "bin/wsparity.js")} tunnel connect --url ${server.userUrl} --token-file ${tokenFile} %h %p`;
    const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn("ssh", [
        ...sshd!.clientOptions,
        "-o",
        `ProxyCommand=${proxy}`,
        "-p",
        String(sshd!.port),
        `${sshd!.user}@${ws.name}`,
        "echo through-the-tunnel; echo $SSH_CONNECTION",
      ]);
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c;
      });
      child.stderr.on("data", (c: Buffer) => {
        err += c;
      });
      child.on("close", (code) => resolve({ code, out, err }));
    });
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out.split("\n")[0]).toBe("through-the-tunnel");
    // sshd saw a loopback client: the agent's own connection on 127.0.0.1.
    expect(result.out.split("\n")[1]).toMatch(/^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+$/);
  }, 90_000);
});
