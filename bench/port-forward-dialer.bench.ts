// npm run bench:port-forward — what reaching a pod through the API server's port-forward costs the workspaces
// proxy, against the in-process kubelet dial `sim up` uses (the baseline, measured in the same run, same pod):
//  1. a new connection and one request on it (the proxy's first request to a workspace port);
//  2. requests on a kept-alive connection, pooled as the proxy pools them;
//  3. a 64 MiB download over one connection.
// Rounds alternate the two dialers so load on the machine falls on both alike. The ratios are port-forward over
// the baseline; `wsparity workspaces-proxy` (the compose local profile) pays them, `sim up` does not.
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { CoreV1Api } from "@kubernetes/client-node";
import { startKubernetesSim } from "../src/sim/kubernetes/index.ts";
import { asPooledSocket } from "../src/workspaces-proxy/pooled-stream.ts";
import { portForwardDialer } from "../src/workspaces-proxy/port-forward-dialer.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NEW_CONNECTIONS = 100;
const KEPT_ALIVE = 500;
const DOWNLOAD = 64 * 1024 * 1024;
const NAMESPACE = "bench";
const POD = "server";
const PORT = 8080;
const SERVER = `require("http").createServer((q, r) => {
  const n = Number(new URL(q.url, "http://x").searchParams.get("bytes") ?? 2);
  r.writeHead(200, { "content-length": n });
  const chunk = Buffer.alloc(65536, 120);
  let left = n;
  const pump = () => { while (left > 0) { const k = Math.min(left, chunk.length); left -= k; if (!r.write(chunk.subarray(0, k))) return r.once("drain", pump); } r.end(); };
  pump();
}).listen(${PORT})`;

type Dial = () => Promise<Duplex>;

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

function get(path: string, options: { agent?: Agent; createConnection?: () => Duplex }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ path, headers: { host: "pod" }, ...options } as never, (res) => {
      let bytes = 0;
      res.on("data", (d: Buffer) => (bytes += d.length));
      res.on("end", () => resolve(bytes));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

async function newConnections(dial: Dial): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < NEW_CONNECTIONS; i++) {
    const t0 = performance.now();
    const socket = await dial();
    await get("/?bytes=2", { createConnection: () => socket, agent: undefined });
    times.push(performance.now() - t0);
    socket.destroy();
  }
  return times;
}

function pooled(dial: Dial): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agent.createConnection = ((_o: unknown, done: (err: Error | null, s?: unknown) => void) => {
    dial().then(
      (s) => done(null, asPooledSocket(s)),
      (err: Error) => done(err),
    );
    return undefined;
  }) as unknown as Agent["createConnection"];
  return agent;
}

async function keptAlive(dial: Dial): Promise<number[]> {
  const agent = pooled(dial);
  await get("/?bytes=2", { agent });
  const times: number[] = [];
  for (let i = 0; i < KEPT_ALIVE; i++) {
    const t0 = performance.now();
    await get("/?bytes=2", { agent });
    times.push(performance.now() - t0);
  }
  agent.destroy();
  return times;
}

async function download(dial: Dial): Promise<number> {
  const agent = pooled(dial);
  await get("/?bytes=2", { agent });
  const t0 = performance.now();
  const bytes = await get(`/?bytes=${DOWNLOAD}`, { agent });
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  if (bytes !== DOWNLOAD) throw new Error(`downloaded ${bytes} of ${DOWNLOAD} bytes`);
  return DOWNLOAD / 1e6 / seconds;
}

const dir = mkdtempSync(join(tmpdir(), "wsparity-bench-port-forward-"));
const cluster = await startKubernetesSim({ stateDir: dir, kubelet: "process" });
try {
  const kc = cluster.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name: POD },
      spec: { containers: [{ name: "server", image: "node:20", command: ["node", "-e", SERVER] }] },
    },
  });
  const portForward = portForwardDialer(kc);
  const kubelet: Dial = () => cluster.connect(NAMESPACE, POD, PORT);
  const dialers: Record<string, Dial> = {
    "kubelet (sim up, in-process)": kubelet,
    "port-forward (workspaces-proxy)": () => portForward(NAMESPACE, POD, PORT),
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await kubelet()
      .then((socket) => get("/?bytes=2", { createConnection: () => socket }))
      .catch(() => 0);
    if (ok === 2) break;
    if (Date.now() > deadline) throw new Error("the bench pod's server did not answer within 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  const results = new Map<string, { connect: number[]; alive: number[]; mbps: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, dial] of Object.entries(dialers)) {
      const r = results.get(name) ?? { connect: [], alive: [], mbps: [] };
      r.connect.push(...(await newConnections(dial)));
      r.alive.push(...(await keptAlive(dial)));
      r.mbps.push(await download(dial));
      results.set(name, r);
    }
  }
  process.stdout.write(
    `Reaching a pod's port (${ROUNDS} rounds; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}):\n`,
  );
  const rows = [...results].map(([name, r]) => ({
    name,
    connectP50: percentile(r.connect, 50),
    connectP99: percentile(r.connect, 99),
    aliveP50: percentile(r.alive, 50) * 1000,
    aliveP99: percentile(r.alive, 99) * 1000,
    mbps: percentile(r.mbps, 50),
  }));
  for (const row of rows)
    process.stdout.write(
      `  ${row.name.padEnd(32)} new connection + request p50 ${row.connectP50.toFixed(1)} ms, p99 ${row.connectP99.toFixed(1)} ms; kept alive p50 ${row.aliveP50.toFixed(0)} µs, p99 ${row.aliveP99.toFixed(0)} µs; 64 MiB at ${row.mbps.toFixed(0)} MB/s\n`,
    );
  const [base, pf] = rows as [(typeof rows)[0], (typeof rows)[0]];
  process.stdout.write(
    `  ratio port-forward / kubelet: new connection ${(pf.connectP50 / base.connectP50).toFixed(1)}×, kept alive ${(pf.aliveP50 / base.aliveP50).toFixed(1)}× (p50), throughput ${(pf.mbps / base.mbps).toFixed(2)}×\n`,
  );
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
