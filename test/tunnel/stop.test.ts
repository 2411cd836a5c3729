// The server's stop request (POST /-/stop): a real agent, in-process and as the bundled process a CI job
// runs, connected to a real tunnel server, answers 200, closes its session and stays down.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bundleAgent } from "../../src/agent/bundle.ts";
import { dial } from "../../src/agent/dial.ts";
import { encodeLine, H2_SETTINGS, PROTOCOL, parseReply, readLine } from "../../src/tunnel/protocol.ts";
import { startAgent, startServer, startTargetApp, workspace } from "./helpers.ts";

async function settle(check: () => boolean, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return check();
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the server asks the agent to stop", () => {
  it("the agent answers 200, closes its session and does not reconnect; a second request finds it offline", async () => {
    const app = await startTargetApp();
    cleanups.push(() => app.close());
    const ws = workspace("ws-stop", [app.port]);
    const server = await startServer([ws]);
    cleanups.push(() => server.stop());
    const agent = await startAgent(server.agentUrl!, ws);
    cleanups.push(() => agent.stop());
    const stopped = new Promise<void>((resolve) => agent.once("stop-requested", () => resolve()));
    const route = server.workspaces.get(ws.name)!;
    expect(route.online).toBe(true);

    expect(await route.requestStop(5000)).toBe(true);
    await stopped;
    expect(agent.state).toBe("stopped");
    expect(await settle(() => !route.online)).toBe(true);
    // The agent's backoff is 50-500 ms: well past it, it has not dialled again.
    await new Promise((r) => setTimeout(r, 1500));
    expect(route.online).toBe(false);
    expect(server.metrics.agentConnectsTotal).toBe(1);
    expect(server.metrics.agentsConnected).toBe(0);
    expect(await route.requestStop(1000)).toBe(false);
    const r = await fetch(`${server.userUrl}/-/ws/${ws.name}/${app.port}/whoami`, {
      headers: { authorization: `Bearer ${ws.userToken}` },
    });
    expect(r.status).toBe(503);
  });

  it("the bundled agent process exits 0 when asked to stop", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsparity-stop-"));
    const bundle = await bundleAgent(join(dir, "wsparity-agent.mjs"));
    const ws = workspace("ws-stop-bundle", [1]);
    writeFileSync(join(dir, "token"), ws.agentToken);
    const server = await startServer([ws]);
    cleanups.push(() => server.stop());
    const child: ChildProcess = spawn(process.execPath, [bundle], {
      env: {
        PATH: process.env.PATH,
        WSPARITY_TUNNEL_URL: server.agentUrl!,
        WSPARITY_WORKSPACE: ws.name,
        WSPARITY_TOKEN_FILE: join(dir, "token"),
        WSPARITY_PORTS: "1",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    cleanups.push(() => child.exitCode === null && child.kill("SIGKILL"));
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const route = server.workspaces.get(ws.name)!;
    expect(await settle(() => route.online, 10_000)).toBe(true);

    expect(await route.requestStop(5000)).toBe(true);
    expect(await exited).toBe(0);
    expect(stderr).toContain("agent-stop-requested");
    expect(stderr).not.toContain("agent-reconnect-scheduled");
    expect(route.online).toBe(false);
  });

  it("an agent that does not answer, or answers 405, is reported as not stopped", async () => {
    const ws = workspace("ws-stop-silent", [1]);
    const server = await startServer([ws]);
    cleanups.push(() => server.stop());
    // An agent of an older protocol revision, speaking the wire protocol directly: it answers 405 to
    // anything but CONNECT, or (silent) never answers at all.
    let silent = true;
    const stream = await dial(new URL(server.agentUrl!), { timeoutMs: 5000 });
    cleanups.push(() => stream.destroy());
    stream.write(
      encodeLine({ protocol: PROTOCOL, workspace: ws.name, token: ws.agentToken, ports: [1], agent: "old" }),
    );
    expect(parseReply(await readLine(stream, 5000)).ok).toBe(true);
    const session = http2.performServerHandshake(stream, { settings: H2_SETTINGS });
    cleanups.push(() => session.destroy());
    session.on("stream", (h2stream) => {
      if (!silent) h2stream.respond({ ":status": 405 }, { endStream: true });
    });
    const route = server.workspaces.get(ws.name)!;
    expect(await settle(() => route.online)).toBe(true);

    const started = Date.now();
    expect(await route.requestStop(300)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    silent = false;
    expect(await route.requestStop(5000)).toBe(false);
    // Neither request ends the session: the workspace stays reachable.
    expect(route.online).toBe(true);
  });
});
