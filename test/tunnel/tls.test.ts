import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceAgent } from "../../src/agent/index.ts";
import { makeThrowawayCert, type StartedTunnelServer, type ThrowawayCert } from "../../src/tunnel/index.ts";
import { curl, startAgent, startServer, startTargetApp, type Workspace, workspace } from "./helpers.ts";

describe("TLS for users and agents, and agents over WebSocket", () => {
  let app: Awaited<ReturnType<typeof startTargetApp>>;
  let cert: ThrowawayCert;
  let server: StartedTunnelServer;
  let overTls: Workspace;
  let overWss: Workspace;
  const agents: WorkspaceAgent[] = [];
  let caFile: string;

  beforeAll(async () => {
    app = await startTargetApp();
    cert = await makeThrowawayCert("tunnel.localtest");
    overTls = workspace("ws-tls", [app.port]);
    overWss = workspace("ws-wss", [app.port]);
    server = await startServer([overTls, overWss], (b) =>
      b
        .withDomain("tunnel.localtest")
        .withUserListener({ port: 0, tls: cert })
        .withAgentListener({ port: 0, tls: cert }),
    );
    const { writeFile } = await import("node:fs/promises");
    caFile = `/tmp/wsparity-ca-${process.pid}.pem`;
    await writeFile(caFile, cert.ca);
  });
  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await server.stop();
    await app.close();
  });

  it("serves users over HTTPS with the host form, verified by curl against the throwaway CA", async () => {
    expect(server.userUrl).toMatch(/^https:/);
    expect(server.agentUrl).toMatch(/^tls:/);
    agents.push(await startAgent(server.agentUrl!, overTls, { ca: cert.ca }));
    // A wildcard certificate needs two labels under the star (*.tunnel.localtest), or clients refuse it.
    const host = `${app.port}-${overTls.name}.tunnel.localtest`;
    const r = await curl([
      "--cacert",
      caFile,
      "--resolve",
      `${host}:${server.userPort}:127.0.0.1`,
      "-H",
      `Authorization: Bearer ${overTls.userToken}`,
      `https://${host}:${server.userPort}/echo`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.stdout).headers["x-forwarded-proto"]).toBe("https");
  });

  it("accepts an agent over wss:// on the user listener", async () => {
    agents.push(await startAgent(server.agentWebSocketUrl, overWss, { ca: cert.ca }));
    expect(server.agentWebSocketUrl).toMatch(/^wss:\/\/.*\/-\/agent$/);
    const r = await curl([
      "--cacert",
      caFile,
      "-H",
      `Authorization: Bearer ${overWss.userToken}`,
      `${server.userUrl.replace("127.0.0.1", "localhost")}/-/ws/${overWss.name}/${app.port}/whoami`,
    ]);
    expect(r.status).toBe(200);
    expect(r.stdout).toBe("app");
  });

  it("an agent that does not trust the server certificate does not connect", async () => {
    const errors: string[] = [];
    const agent = new WorkspaceAgent({
      server: new URL(server.agentUrl!),
      workspace: overTls.name,
      token: overTls.agentToken,
      ports: overTls.ports,
      targetHost: "127.0.0.1",
      backoff: { initialMs: 10_000, maxMs: 10_000 },
      connectTimeoutMs: 3000,
      log: (event, fields) => {
        if (event === "agent-connect-failed") errors.push(String(fields?.error));
      },
    });
    agent.start();
    const until = Date.now() + 5000;
    while (errors.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await agent.stop();
    expect(errors[0]).toMatch(/self[- ]signed certificate/i);
  });
});
