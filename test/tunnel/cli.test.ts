import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleAgent } from "../../src/agent/bundle.ts";
import { curl, startTargetApp, token } from "./helpers.ts";

interface Running {
  child: ChildProcess;
  output: () => string;
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  stop(): Promise<number | null>;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (c: Buffer) => {
    text += c;
  });
  child.stderr!.on("data", (c: Buffer) => {
    text += c;
  });
  return {
    child,
    output: () => text,
    async waitFor(pattern, ms = 60_000) {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const match = text.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no ${pattern} in output of ${args.join(" ")}:\n${text}`);
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("wsparity tunnel serve, wsparity agent and the bundled agent, as processes", () => {
  let dir: string;
  let app: Awaited<ReturnType<typeof startTargetApp>>;
  const processes: Running[] = [];
  const cliToken = token();
  const bundleToken = token();
  const userToken = token();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsparity-tunnel-cli-"));
    app = await startTargetApp();
    await writeFile(join(dir, "agent-cli.token"), cliToken);
    await writeFile(join(dir, "agent-bundle.token"), bundleToken);
    await writeFile(
      join(dir, "workspaces.yaml"),
      [
        `- workspace: ws-cli`,
        `  agentTokenFile: ${join(dir, "agent-cli.token")}`,
        `  userTokens: [${userToken}]`,
        `  ports: [${app.port}]`,
        `- workspace: ws-bundle`,
        `  agentToken: ${bundleToken}`,
        `  userTokens: [${userToken}]`,
        `  ports: [${app.port}]`,
      ].join("\n"),
    );
  });
  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop();
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves over HTTPS with a self-signed certificate; both agents connect; curl reaches both workspaces", async () => {
    const server = run(process.execPath, [
      "bin/wsparity.js",
      "tunnel",
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--agent-listen",
      "127.0.0.1:0",
      "--agent-tls",
      "--self-signed",
      "--domain",
      "cli.localtest",
      "--workspaces",
      join(dir, "workspaces.yaml"),
    ]);
    processes.push(server);
    const userUrl = (await server.waitFor(/^USER_URL=(\S+)$/m))[1]!;
    const agentUrl = (await server.waitFor(/^AGENT_URL=(\S+)$/m))[1]!;
    const caFile = (await server.waitFor(/^CA_PEM_FILE=(\S+)$/m))[1]!;
    expect(userUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(agentUrl).toMatch(/^tls:\/\//);

    const cliAgent = run(process.execPath, [
      "bin/wsparity.js",
      "agent",
      "--server",
      agentUrl,
      "--workspace",
      "ws-cli",
      "--token-file",
      join(dir, "agent-cli.token"),
      "--ports",
      String(app.port),
      "--ca",
      caFile,
    ]);
    processes.push(cliAgent);

    const bundle = await bundleAgent(join(dir, "wsparity-agent.mjs"));
    const bundled = run(process.execPath, [bundle], {
      WSPARITY_TUNNEL_URL: (await server.waitFor(/^AGENT_WS_URL=(\S+)$/m))[1]!,
      WSPARITY_WORKSPACE: "ws-bundle",
      WSPARITY_TOKEN_FILE: join(dir, "agent-bundle.token"),
      WSPARITY_PORTS: String(app.port),
      WSPARITY_TUNNEL_CA: caFile,
      NODE_PATH: "",
    });
    processes.push(bundled);

    await cliAgent.waitFor(/ wsparity-agent agent-connected workspace=ws-cli /);
    await bundled.waitFor(/ wsparity-agent agent-connected workspace=ws-bundle /);
    for (const name of ["ws-cli", "ws-bundle"]) {
      const r = await curl([
        "--cacert",
        caFile,
        "-H",
        `Authorization: Bearer ${userToken}`,
        `${userUrl.replace("127.0.0.1", "localhost")}/-/ws/${name}/${app.port}/whoami`,
      ]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(200);
    }
    await server.waitFor(/agent-connected workspace=ws-bundle peer=ws:/);
    expect(bundled.output()).not.toContain(bundleToken);

    expect(await server.stop()).toBe(0);
    await bundled.waitFor(/agent-disconnected workspace=ws-bundle/);
    await bundled.waitFor(/agent-reconnect-scheduled workspace=ws-bundle inMs=\d+/);
    expect(await bundled.stop()).toBe(0);
    expect(await cliAgent.stop()).toBe(0);
  }, 240_000);

  it("--no-user-tls: users over plain HTTP while the agent's leg keeps TLS, as ssh -R's remote port is plain", async () => {
    const server = run(process.execPath, [
      "bin/wsparity.js",
      "tunnel",
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--agent-listen",
      "127.0.0.1:0",
      "--agent-tls",
      "--self-signed",
      "--no-user-tls",
      "--domain",
      "cli.localtest",
      "--workspaces",
      join(dir, "workspaces.yaml"),
    ]);
    processes.push(server);
    const userUrl = (await server.waitFor(/^USER_URL=(\S+)$/m))[1]!;
    const agentUrl = (await server.waitFor(/^AGENT_URL=(\S+)$/m))[1]!;
    const caFile = (await server.waitFor(/^CA_PEM_FILE=(\S+)$/m))[1]!;
    expect(userUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(agentUrl).toMatch(/^tls:\/\//);
    const agent = run(process.execPath, [
      "bin/wsparity.js",
      "agent",
      "--server",
      agentUrl,
      "--workspace",
      "ws-cli",
      "--token-file",
      join(dir, "agent-cli.token"),
      "--ports",
      String(app.port),
      "--ca",
      caFile,
    ]);
    processes.push(agent);
    await agent.waitFor(/ wsparity-agent agent-connected workspace=ws-cli /);
    const r = await curl([
      "-H",
      `Authorization: Bearer ${userToken}`,
      `${userUrl}/-/ws/ws-cli/${app.port}/whoami`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(200);
    expect(await agent.stop()).toBe(0);
    expect(await server.stop()).toBe(0);
  }, 120_000);

  it("exits 2 with the missing setting named when the agent has no server", async () => {
    const agent = run(process.execPath, ["bin/wsparity.js", "agent", "--workspace", "x"], {
      WSPARITY_TUNNEL_URL: "",
    });
    const code = await new Promise<number | null>((resolve) => agent.child.once("exit", resolve));
    expect(code).toBe(2);
    expect(agent.output()).toContain("--server URL or set WSPARITY_TUNNEL_URL");
  }, 60_000);
});
