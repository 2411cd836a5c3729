import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { openConnectTunnel } from "../connect-client.ts";
import { ProcessGroup } from "./processes.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const tsx = (file: string) => ["--import", "tsx", join(ROOT, "src/tunnel/bench", file)];

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? Number.NaN);
}

interface ScaleSetup {
  group: ProcessGroup;
  dir: string;
  serverPid: number;
  userUrl: string;
  agentUrl: string;
  echoPort: number;
  workspaces: { workspace: string; token: string; userToken: string }[];
}

async function setUp(agentCount: number): Promise<ScaleSetup> {
  const group = new ProcessGroup();
  const dir = await mkdtemp(join(os.tmpdir(), "wsparity-scale-"));
  const echo = group.spawn(process.execPath, tsx("echo-main.ts"));
  const echoPort = Number((await group.waitFor(echo, /^PORT=(\d+)$/m, "echo server"))[1]);
  const workspaces = Array.from({ length: agentCount }, (_, i) => ({
    workspace: `scale-${i}`,
    token: randomBytes(18).toString("base64url"),
    userToken: randomBytes(18).toString("base64url"),
  }));
  await writeFile(
    join(dir, "workspaces.json"),
    JSON.stringify(
      workspaces.map((w) => ({
        workspace: w.workspace,
        agentToken: w.token,
        userTokens: [w.userToken],
        ports: [echoPort],
      })),
    ),
  );
  const server = group.spawn(process.execPath, [
    join(ROOT, "bin/wsparity.js"),
    "tunnel",
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--agent-listen",
    "127.0.0.1:0",
    "--workspaces",
    join(dir, "workspaces.json"),
    "--headers-timeout-ms",
    "60000",
  ]);
  const userUrl = (await group.waitFor(server, /^USER_URL=(\S+)$/m, "tunnel server"))[1]!;
  const agentUrl = (await group.waitFor(server, /^AGENT_URL=(\S+)$/m, "tunnel server"))[1]!;
  return { group, dir, serverPid: server.child.pid!, userUrl, agentUrl, echoPort, workspaces };
}

async function startAgents(setup: ScaleSetup): Promise<void> {
  const agents = setup.group.spawn(process.execPath, tsx("scale-agents-main.ts"), {
    SCALE_SERVER: setup.agentUrl,
    SCALE_PORT: String(setup.echoPort),
    SCALE_AGENTS: JSON.stringify(setup.workspaces.map(({ workspace, token }) => ({ workspace, token }))),
  });
  await setup.group.waitFor(agents, /^READY \d+$/m, `${setup.workspaces.length} agents`, 120_000);
}

async function tearDown(setup: ScaleSetup): Promise<void> {
  await setup.group.stop();
  await rm(setup.dir, { recursive: true, force: true });
}

export interface IdleAgentsResult {
  agents: number;
  serverRssBeforeKiB: number;
  serverRssAfterKiB: number;
  perAgentKiB: number;
}

/** Server memory held per idle connected agent: RSS of the server process before and after they connect. */
export async function measureIdleAgents(count: number): Promise<IdleAgentsResult> {
  const setup = await setUp(count);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const before = await rssKiB(setup.serverPid);
    await startAgents(setup);
    await new Promise((r) => setTimeout(r, 2000));
    const after = await rssKiB(setup.serverPid);
    const metrics = await (await fetch(`${setup.userUrl}/metrics`)).text();
    const connected = Number(metrics.match(/^wsparity_tunnel_agents_connected (\d+)$/m)?.[1]);
    if (connected !== count) throw new Error(`only ${connected} of ${count} agents are connected`);
    return {
      agents: count,
      serverRssBeforeKiB: before,
      serverRssAfterKiB: after,
      perAgentKiB: Math.round(((after - before) / count) * 10) / 10,
    };
  } finally {
    await tearDown(setup);
  }
}

export interface ConcurrentStreamsResult {
  agents: number;
  streams: number;
  failures: number;
  peakActiveStreams: number;
  openSeconds: number;
  firstFailure?: string;
}

/**
 * Opens `streams` CONNECT streams spread over `agents` agents, all held open at once, each carrying an echo
 * round trip; counts the ones that failed.
 */
export async function measureConcurrentStreams(
  agents: number,
  streams: number,
  progress: (line: string) => void = () => {},
): Promise<ConcurrentStreamsResult> {
  const setup = await setUp(agents);
  const open: Duplex[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  try {
    await startAgents(setup);
    progress(`${agents} agents connected; opening ${streams} streams`);
    const url = new URL(setup.userUrl);
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < streams) {
        const i = next++;
        const ws = setup.workspaces[i % agents]!;
        try {
          const stream = await openConnectTunnel({
            url,
            workspace: ws.workspace,
            port: setup.echoPort,
            token: ws.userToken,
            timeoutMs: 60_000,
          });
          open.push(stream);
          const message = `stream ${i}\n`;
          const echoed = await new Promise<string>((resolve, reject) => {
            let text = "";
            const onData = (chunk: Buffer) => {
              text += chunk;
              if (text.length >= message.length) {
                stream.off("data", onData);
                stream.pause();
                resolve(text);
              }
            };
            stream.on("data", onData);
            stream.once("error", reject);
            stream.once("close", () => reject(new Error("stream closed before its echo")));
            stream.resume();
            stream.write(message);
          });
          if (echoed !== message) throw new Error(`echo mismatch on stream ${i}`);
        } catch (err) {
          failures++;
          firstFailure ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: 256 }, worker));
    const openSeconds = (performance.now() - started) / 1000;
    const metrics = await (await fetch(`${setup.userUrl}/metrics`)).text();
    const active = Number(metrics.match(/^wsparity_tunnel_streams_active (\d+)$/m)?.[1]);
    progress(`${open.length} streams open at once (server reports ${active} active), ${failures} failures`);
    return {
      agents,
      streams,
      failures,
      peakActiveStreams: active,
      openSeconds: Math.round(openSeconds * 10) / 10,
      ...(firstFailure ? { firstFailure } : {}),
    };
  } finally {
    for (const stream of open) stream.destroy();
    await tearDown(setup);
  }
}
