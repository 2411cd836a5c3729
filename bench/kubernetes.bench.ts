// npm run bench:kubernetes — the Kubernetes path on the sim tier:
//  1. create-to-reachable: from the reconciler's first apply of a new workspace to its editor answering HTTP on
//     60001 (median of BENCH_RUNS, default 10), each workspace terminated afterwards;
//  2. the API simulator's throughput over HTTPS keep-alive: 1,000 creates, 1,000 gets, lists of 1,000 objects,
//     1,000 watch events delivered to a client-node watch; and gets through @kubernetes/client-node, which opens
//     a connection per request and so is much slower than the server.
// The docker tier runs where a Docker engine answers and the project's images are built; else it says why not.
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import https from "node:https";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import { dockerEngine, engineAnswers } from "../src/containers/index.ts";
import type { WorkspaceSpec } from "../src/devfile/spec.ts";
import { hostArch, resolveImage } from "../src/images/index.ts";
import { defaultSettings, WorkspaceReconciler } from "../src/kubernetes/index.ts";
import { startKubernetesSim } from "../src/sim/kubernetes/index.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const OPS = 1000;
const CONCURRENCY = 16;

const spec: WorkspaceSpec = {
  name: "bench",
  schemaVersion: "2.2.0",
  containers: [
    {
      name: "tooling-container",
      image: "registry.access.redhat.com/ubi8/nodejs-18:1-32",
      env: [],
      endpoints: [],
      mountSources: true,
      sourceMapping: "/projects",
      volumeMounts: [],
      attributes: { "gl/inject-editor": true },
      main: true,
    },
  ],
  volumes: [],
  commands: [],
  events: { preStart: [], postStart: [], preStop: [], postStop: [] },
  attributes: {},
  variables: {},
  ignoredComponents: [],
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function pool<T>(n: number, job: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

function httpOk(socket: import("node:stream").Duplex): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { createConnection: () => socket, path: "/healthz", headers: { host: "editor" } },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("error", () => resolve(false));
    req.end();
  });
}

async function createToReachable(kubelet: "process" | "docker"): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `wsparity-bench-k8s-${kubelet}-`));
  const cluster = await startKubernetesSim({ stateDir: dir, kubelet });
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigPath);
  const api = config.makeApiClient(CoreV1Api);
  try {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const settings = defaultSettings(`bench-${i}`, {
        name: `workspace-bench-${i}`,
        namespace: `gl-rd-ns-bench-${i}`,
      });
      const reconciler = new WorkspaceReconciler(config, spec, settings);
      const t0 = performance.now();
      const state = await reconciler.setDesiredState("Running", 180_000);
      if (state !== "Running") {
        const events = await api.listNamespacedEvent({ namespace: settings.namespace });
        const why = events.items.map((e) => `    ${e.type} ${e.reason}: ${e.message}`).join("\n");
        throw new Error(`${kubelet} workspace ${i} ended ${state}; its events:\n${why}`);
      }
      const pods = await api.listNamespacedPod({ namespace: settings.namespace });
      const pod = pods.items[0]!.metadata!.name!;
      for (;;) {
        const socket = await cluster.connect(settings.namespace, pod, 60001).catch(() => undefined);
        if (socket && (await httpOk(socket))) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const ms = performance.now() - t0;
      times.push(ms);
      process.stdout.write(`  ${kubelet} run ${String(i + 1).padStart(2)}: ${ms.toFixed(0)} ms\n`);
      await reconciler.setDesiredState("Terminated");
    }
    return median(times);
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function dockerTierMissing(): Promise<string | undefined> {
  if (!(await engineAnswers())) return "no Docker engine answers";
  for (const ref of ["debian", "node"]) {
    const image = resolveImage(ref, hostArch()).image;
    if (
      !(await dockerEngine()
        .getImage(image)
        .inspect()
        .catch(() => undefined))
    )
      return `image ${image} is not built`;
  }
  return undefined;
}

process.stdout.write(`Kubernetes path: create-to-reachable (${RUNS} workspaces, one at a time)\n`);
const simMedian = await createToReachable("process");
const dockerMissing = await dockerTierMissing();
const dockerMedian = dockerMissing ? undefined : await createToReachable("docker");
process.stdout.write(
  `  median create-to-reachable, sim tier (process kubelet): ${simMedian.toFixed(0)} ms\n`,
);
process.stdout.write(
  dockerMedian === undefined
    ? `  median create-to-reachable, docker tier: not measured (${dockerMissing})\n\n`
    : `  median create-to-reachable, docker tier (docker kubelet): ${dockerMedian.toFixed(0)} ms\n\n`,
);

const stateDir = mkdtempSync(join(tmpdir(), "wsparity-bench-k8s-"));
const sim = await startKubernetesSim({ stateDir, kubelet: "none" });
const kc = new KubeConfig();
kc.loadFromFile(sim.kubeconfigPath);
const core = kc.makeApiClient(CoreV1Api);
try {
  process.stdout.write(
    `API simulator throughput (HTTPS keep-alive, ${CONCURRENCY} requests in flight; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)\n`,
  );
  const agent = new https.Agent({ keepAlive: true, ca: sim.caCert, maxSockets: CONCURRENCY });
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<void>((resolve, reject) => {
      const req = https.request(
        `${sim.url}${path}`,
        {
          method,
          agent,
          headers: { authorization: `Bearer ${sim.token}`, "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            res.statusCode! < 300 ? resolve() : reject(new Error(`${method} ${path}: ${res.statusCode}`)),
          );
        },
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  await core.createNamespace({ body: { metadata: { name: "bench-api" } } });
  const list = await core.listNamespacedConfigMap({ namespace: "bench-api" });
  let watched = 0;
  const watchDone = new Promise<void>((resolve) => {
    void new Watch(kc).watch(
      "/api/v1/namespaces/bench-api/configmaps",
      { resourceVersion: list.metadata?.resourceVersion },
      () => {
        watched++;
        if (watched === OPS) resolve();
      },
      () => {},
    );
  });
  const rate = (what: string, n: number, ms: number) =>
    process.stdout.write(
      `  ${what.padEnd(34)} ${n} in ${ms.toFixed(0)} ms = ${((n * 1000) / ms).toFixed(0)} /s\n`,
    );
  const base = "/api/v1/namespaces/bench-api/configmaps";
  let t = performance.now();
  await pool(OPS, (i) => call("POST", base, { metadata: { name: `cm-${i}` }, data: { i: String(i) } }));
  rate("create", OPS, performance.now() - t);
  t = performance.now();
  await watchDone;
  process.stdout.write(
    `  watch: ${OPS} ADDED events delivered to a client-node watch, the last ${(performance.now() - t).toFixed(0)} ms after the last create returned\n`,
  );
  t = performance.now();
  await pool(OPS, (i) => call("GET", `${base}/cm-${i}`));
  rate("get", OPS, performance.now() - t);
  t = performance.now();
  const LISTS = 50;
  await pool(LISTS, () => call("GET", base));
  rate(`list (${OPS} objects each)`, LISTS, performance.now() - t);
  t = performance.now();
  await pool(200, (i) => core.readNamespacedConfigMap({ namespace: "bench-api", name: `cm-${i}` }));
  rate("get through @kubernetes/client-node", 200, performance.now() - t);
  agent.destroy();
} finally {
  await sim.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(0);
