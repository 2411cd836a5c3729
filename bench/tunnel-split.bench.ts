// npm run bench:tunnel-split — where a download's CPU goes, per process: the tunnel server's and the agent's CPU
// time (/proc/<pid>/stat) per GiB of a curl download through tunnel-tls (TLS on the agent's leg, as
// `bench tunnel` sets it up) on the HTTP path (Host routing, the response relayed after its head) and on the
// CONNECT path (`curl -p -x`: authenticated once, then spliced, no HTTP at all on the server); with
// BENCH_SPLIT_BASELINE=DIR also the HTTP path of another checkout's tunnel-tls (a change's before and after).
// BENCH_SPLIT_MIB MiB per download (256), BENCH_SPLIT_ROUNDS interleaved rounds (8), the order reversed every
// other round. CPU per GiB, not MB/s, is the figure to read on a busy machine.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { cpuMs } from "../src/tunnel/bench/cpu.ts";
import { CURL } from "../src/tunnel/bench/curl.ts";
import { ProcessGroup } from "../src/tunnel/bench/processes.ts";
import {
  BENCH_WORKSPACE,
  prepareAgentBundle,
  startTarget,
  startTunnelMode,
} from "../src/tunnel/bench/setup.ts";

const MIB = Number(process.env.BENCH_SPLIT_MIB ?? 256);
const ROUNDS = Number(process.env.BENCH_SPLIT_ROUNDS ?? 8);
const BASELINE = process.env.BENCH_SPLIT_BASELINE;
const BYTES = MIB * 1024 * 1024;

type Tunnel = Awaited<ReturnType<typeof startTunnelMode>>;
interface Path {
  name: string;
  tunnel: Tunnel;
  curlArgs: string[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const spread = (xs: number[]) => `${Math.min(...xs)}–${Math.max(...xs)}`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function download(path: Path): Promise<{ server: number; agent: number; mbps: number }> {
  const { serverPid, agentPid } = path.tunnel;
  const server = cpuMs([serverPid]);
  const agent = cpuMs([agentPid]);
  const { stdout } = await promisify(execFile)(CURL, [
    "-sS",
    "-o",
    "/dev/null",
    "-w",
    "%{size_download} %{time_total}",
    ...path.curlArgs,
  ]);
  const [bytes, seconds] = stdout.trim().split(" ").map(Number);
  if (bytes !== BYTES) throw new Error(`${path.name}: curl got ${bytes} of ${BYTES} bytes`);
  const gib = BYTES / 1024 ** 3;
  return {
    server: Math.round((cpuMs([serverPid]) - server) / gib),
    agent: Math.round((cpuMs([agentPid]) - agent) / gib),
    mbps: Math.round(BYTES / 1e6 / seconds!),
  };
}

const group = new ProcessGroup();
const dir = await mkdtemp(join(os.tmpdir(), "wsparity-tunnel-split-"));
process.once("SIGINT", () => void group.stop().then(() => process.exit(130)));
try {
  console.log(`1-minute load before: ${load()}`);
  await prepareAgentBundle(dir, BASELINE);
  const targetPort = await startTarget(group);
  const tunnel = await startTunnelMode(group, dir, targetPort, "tunnel-tls");
  const http = (t: Tunnel) => [
    ...Object.entries(t.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
    `http://127.0.0.1:${t.port}/bytes/${BYTES}`,
  ];
  const paths: Path[] = [
    { name: "http", tunnel, curlArgs: http(tunnel) },
    {
      name: "connect",
      tunnel,
      curlArgs: [
        "-p",
        "-x",
        `http://127.0.0.1:${tunnel.port}`,
        "--proxy-header",
        `Proxy-Authorization: ${tunnel.headers.authorization}`,
        `http://${BENCH_WORKSPACE}:${targetPort}/bytes/${BYTES}`,
      ],
    },
  ];
  if (BASELINE) {
    const base = await startTunnelMode(group, dir, targetPort, "baseline", undefined, BASELINE);
    paths.push({ name: "baseline-http", tunnel: base, curlArgs: http(base) });
  }
  const figures = new Map(
    paths.map((p) => [p.name, { server: [] as number[], agent: [] as number[], mbps: [] as number[] }]),
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const path of round % 2 ? paths : [...paths].reverse()) {
      const one = await download(path);
      const f = figures.get(path.name)!;
      f.server.push(one.server);
      f.agent.push(one.agent);
      f.mbps.push(one.mbps);
    }
    process.stderr.write(`round ${round}/${ROUNDS} done\n`);
  }
  console.log(`${ROUNDS} rounds of ${MIB} MiB per path; CPU ms per GiB, median (lowest–highest):`);
  for (const [name, f] of figures) {
    console.log(
      `${name.padEnd(14)} server ${median(f.server)} (${spread(f.server)})  agent ${median(f.agent)} (${spread(f.agent)})  MB/s ${median(f.mbps)} (${spread(f.mbps)})`,
    );
  }
  const ratio = (a: string, b: string) => {
    const x = figures.get(a)!.server;
    const y = figures.get(b)!.server;
    const per = x.map((v, i) => v / y[i]!);
    return `${median(per).toFixed(2)} (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)})`;
  };
  console.log(`server CPU per GiB, http ÷ connect, per round: ${ratio("http", "connect")}`);
  if (BASELINE)
    console.log(`server CPU per GiB, http ÷ baseline-http, per round: ${ratio("http", "baseline-http")}`);
  console.log(`1-minute load after: ${load()}`);
} finally {
  await group.stop();
  await rm(dir, { recursive: true, force: true });
}
