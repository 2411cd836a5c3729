import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleAgent } from "../../agent/bundle.ts";
import { descendants } from "./cpu.ts";
import type { ProcessGroup } from "./processes.ts";
import { freePort, startThrowawaySshd, type ThrowawaySshd } from "./sshd.ts";

export type ModeName = "direct" | "tunnel" | "tunnel-tls" | "tunnel-tls-both" | "ssh" | "baseline";
export const MODES: ModeName[] = ["direct", "tunnel", "tunnel-tls", "tunnel-tls-both", "ssh"];
/** With --baseline DIR: tunnel-tls as built from another checkout, measured in the same rounds (before/after). */
export const BASELINE: ModeName = "baseline";
/** Which legs each tunnel mode encrypts. tunnel-tls is the headline: like ssh -R, only the agent's leg. */
export const TUNNEL_LEGS: Partial<Record<ModeName, { agentTls: boolean; userTls: boolean }>> = {
  tunnel: { agentTls: false, userTls: false },
  "tunnel-tls": { agentTls: true, userTls: false },
  "tunnel-tls-both": { agentTls: true, userTls: true },
  baseline: { agentTls: true, userTls: false },
};

/** How the load generator reaches the target in one mode. */
export interface ModeEndpoint {
  name: ModeName;
  secure: boolean;
  port: number;
  /** Extra request headers (Host and Authorization for the tunnel). */
  headers: Record<string, string>;
  ca?: string;
  /** The same CA as a file, for curl. */
  caFile?: string;
  servername?: string;
  /** The processes that carry this mode's bytes (tunnel server and agent; sshd's and ssh), for CPU per GiB. */
  carriers?: () => number[];
}

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const BENCH_DOMAIN = "bench.localtest";
export const BENCH_WORKSPACE = "bench";

export async function startTarget(group: ProcessGroup): Promise<number> {
  const target = group.spawn(process.execPath, [
    "--import",
    "tsx",
    join(ROOT, "src/tunnel/bench/target-main.ts"),
  ]);
  return Number((await group.waitFor(target, /^PORT=(\d+)$/m, "the benchmark target"))[1]);
}

/** Node flags that make a process write its CPU profile into `dir` when it exits. */
function profileFlags(profileDir: string | undefined, name: string): string[] {
  return profileDir
    ? ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-name", `${name}.cpuprofile`]
    : [];
}

/**
 * A tunnel server and a bundled agent (plain `node`), each its own process, with TLS on the legs `mode` names.
 * With `profileDir`, both write CPU profiles there (`<mode>-server.cpuprofile`, `<mode>-agent.cpuprofile`).
 */
export async function startTunnelMode(
  group: ProcessGroup,
  dir: string,
  targetPort: number,
  mode: "tunnel" | "tunnel-tls" | "tunnel-tls-both" | "baseline",
  profileDir?: string,
  root = ROOT,
): Promise<ModeEndpoint & { serverPid: number; agentPid: number }> {
  const { agentTls, userTls } = TUNNEL_LEGS[mode]!;
  const agentToken = randomBytes(24).toString("base64url");
  const userToken = randomBytes(24).toString("base64url");
  const workspaces = join(dir, `workspaces-${mode}.json`);
  await writeFile(
    workspaces,
    JSON.stringify([
      { workspace: BENCH_WORKSPACE, agentToken, userTokens: [userToken], ports: [targetPort] },
    ]),
  );
  const server = group.spawn(process.execPath, [
    ...profileFlags(profileDir, `${mode}-server`),
    join(root, "bin/wsparity.js"),
    "tunnel",
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--agent-listen",
    "127.0.0.1:0",
    "--domain",
    BENCH_DOMAIN,
    "--workspaces",
    workspaces,
    ...(agentTls || userTls ? ["--self-signed"] : []),
    ...(agentTls ? ["--agent-tls"] : []),
    ...(userTls ? [] : ["--no-user-tls"]),
  ]);
  const userUrl = (await group.waitFor(server, /^USER_URL=(\S+)$/m, `tunnel server (${mode})`))[1]!;
  const agentUrl = (await group.waitFor(server, /^AGENT_URL=(\S+)$/m, `tunnel server (${mode})`))[1]!;
  const ca =
    agentTls || userTls
      ? await readFile((await group.waitFor(server, /^CA_PEM_FILE=(\S+)$/m, "tunnel CA"))[1]!, "utf8")
      : undefined;
  const caFile = join(dir, `ca-${mode}.pem`);
  if (ca) await writeFile(caFile, ca);
  await writeFile(join(dir, `agent-${mode}.token`), agentToken);
  const bundle = join(dir, root === ROOT ? "wsparity-agent.mjs" : "wsparity-agent-baseline.mjs");
  const agent = group.spawn(process.execPath, [...profileFlags(profileDir, `${mode}-agent`), bundle], {
    WSPARITY_TUNNEL_URL: agentUrl,
    WSPARITY_WORKSPACE: BENCH_WORKSPACE,
    WSPARITY_TOKEN_FILE: join(dir, `agent-${mode}.token`),
    WSPARITY_PORTS: String(targetPort),
    ...(ca ? { WSPARITY_TUNNEL_CA: caFile } : {}),
  });
  await group.waitFor(agent, /agent-connected/, `bundled agent (${mode})`);
  const host = `${targetPort}-${BENCH_WORKSPACE}.${BENCH_DOMAIN}`;
  return {
    name: mode,
    secure: userTls,
    port: Number(new URL(userUrl).port),
    headers: { host, authorization: `Bearer ${userToken}` },
    ...(ca && userTls ? { ca, caFile, servername: host } : {}),
    serverPid: server.child.pid!,
    agentPid: agent.child.pid!,
    carriers: () => [server.child.pid!, agent.child.pid!],
  };
}

export async function prepareAgentBundle(dir: string, baselineRoot?: string): Promise<void> {
  await bundleAgent(join(dir, "wsparity-agent.mjs"));
  if (!baselineRoot) return;
  const built = spawnSync(
    process.execPath,
    ["--import", "tsx", join(baselineRoot, "src/agent/bundle.ts"), join(dir, "wsparity-agent-baseline.mjs")],
    { cwd: baselineRoot, encoding: "utf8" },
  );
  if (built.status !== 0)
    throw new Error(`--baseline ${baselineRoot}: cannot bundle its agent: ${built.stderr}`);
}

/** OpenSSH reverse forwarding with default settings: sshd on 127.0.0.1 and `ssh -N -R`. */
export async function startSshMode(
  group: ProcessGroup,
  targetPort: number,
): Promise<ModeEndpoint & { sshd: ThrowawaySshd }> {
  const sshd = await startThrowawaySshd();
  const remotePort = await freePort();
  const client = group.spawn("ssh", [
    ...sshd.clientOptions,
    "-N",
    "-o",
    "ExitOnForwardFailure=yes",
    "-R",
    `127.0.0.1:${remotePort}:127.0.0.1:${targetPort}`,
    "-p",
    String(sshd.port),
    `${sshd.user}@127.0.0.1`,
  ]);
  const until = Date.now() + 20_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(remotePort, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) break;
    if (client.child.exitCode !== null || Date.now() > until) {
      await sshd.stop();
      throw new Error(`ssh -R did not open 127.0.0.1:${remotePort}: ${client.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name: "ssh",
    secure: false,
    port: remotePort,
    headers: {},
    sshd,
    carriers: () => [client.child.pid!, ...descendants(sshd.pid)],
  };
}
