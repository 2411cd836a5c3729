// The admin API over HTTP, as the harness's CI path uses it: register a workspace, see its agent connect, ask the
// agent to stop, remove the workspace; a wrong admin token and unknown workspaces get clear answers.
import { afterEach, describe, expect, it } from "vitest";
import { TunnelAdminClient } from "../../src/tunnel/admin-client.ts";
import { startAgent, startServer, startTargetApp, token, workspace } from "./helpers.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the tunnel's admin API through its client", () => {
  it("adds a workspace, reports its agent online, stops the agent and removes the workspace", async () => {
    const adminToken = token();
    const server = await startServer([], (b) => b.withAdminToken(adminToken));
    cleanups.push(() => server.stop());
    const app = await startTargetApp();
    cleanups.push(() => app.close());
    const admin = new TunnelAdminClient({ url: server.userUrl, adminToken });
    const ws = workspace("ws-admin", [app.port]);

    expect(await admin.online(ws.name)).toBe(false);
    expect(await admin.requestStop(ws.name)).toBe(false);
    await admin.add(ws.name, ws.agentToken, [ws.userToken]);
    expect(await admin.online(ws.name)).toBe(false);
    const agent = await startAgent(server.agentUrl!, ws);
    cleanups.push(() => agent.stop());
    expect(await admin.online(ws.name)).toBe(true);
    const reached = await fetch(`${server.userUrl}/-/ws/${ws.name}/${app.port}/whoami`, {
      headers: { authorization: `Bearer ${ws.userToken}` },
    });
    expect(reached.status).toBe(200);

    const stopRequested = new Promise<void>((resolve) => agent.once("stop-requested", () => resolve()));
    expect(await admin.requestStop(ws.name)).toBe(true);
    await stopRequested;
    await admin.remove(ws.name);
    expect(await admin.online(ws.name)).toBe(false);
    const gone = await fetch(`${server.userUrl}/-/ws/${ws.name}/${app.port}/whoami`, {
      headers: { authorization: `Bearer ${ws.userToken}` },
    });
    expect(gone.status).not.toBe(200);
  });

  it("refuses a wrong admin token with the way to set one", async () => {
    const server = await startServer([], (b) => b.withAdminToken(token()));
    cleanups.push(() => server.stop());
    const admin = new TunnelAdminClient({ url: server.userUrl, adminToken: "wrong" });
    await expect(admin.add("ws-x", token(), [token()])).rejects.toThrow(/401.*admin token/);
    await expect(admin.online("ws-x")).rejects.toThrow(/401/);
  });
});
