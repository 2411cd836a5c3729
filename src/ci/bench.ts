// `wsparity bench ci`: create-to-reachable time of a CI-path workspace per executor and architecture
// (pipeline created through the API → editor answers through the tunnel URL), and the runner's job
// pickup latency with long polling (job queued in GitLab → job payload received by the runner).

import { engineAnswers } from "../containers/index.ts";
import { loadDevfile } from "../devfile/index.ts";
import { type CiSimStack, startCiSimStack } from "./sim-stack.ts";
import { ARCHES, type Arch, EXECUTORS, type Executor } from "./types.ts";

export interface Figures {
  count: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
}

export interface CiBenchCell {
  executor: Executor;
  arch: Arch;
  createToReachable?: Figures;
  notMeasured?: string;
}

export interface CiBenchResult {
  tier: "sim" | "docker";
  devfile: string;
  runs: number;
  cells: CiBenchCell[];
  pickup: Figures;
}

export function figures(samples: number[]): Figures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    count: sorted.length,
    medianMs: round(median),
    p90Ms: round(at(0.9)),
    minMs: round(sorted[0]!),
    maxMs: round(sorted.at(-1)!),
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function untilReachable(url: string, token: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not there yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measureCell(
  spec: Parameters<CiSimStack["launch"]>[0],
  executor: Executor,
  arch: Arch,
  runs: number,
  progress: (line: string) => void,
): Promise<{ samples: number[]; pickups: number[] }> {
  const stack = await startCiSimStack({ executor, arch });
  const samples: number[] = [];
  const pickups: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const ws = await stack.launch(spec, `bench-${executor}-${arch}-${i}`);
      await untilReachable(ws.editorUrl("/api/info"), ws.userToken, 180_000);
      samples.push(performance.now() - started);
      const job = stack.gitlab.store.jobs.get(ws.launched.jobId);
      const pickup = stack.runner.pickups.find((p) => p.jobId === ws.launched.jobId);
      if (job?.queuedAt && pickup) pickups.push(pickup.receivedAt - job.queuedAt.getTime());
      progress(`${executor}/${arch} run ${i + 1}/${runs}: ${Math.round(samples.at(-1)!)} ms`);
      await stack.launcher.stop(ws.launched);
    }
  } finally {
    await stack.stop();
  }
  return { samples, pickups };
}

export async function benchCiPath(options: {
  runs: number;
  devfile: string;
  variables?: Record<string, string>;
  executors: Executor[];
  progress: (line: string) => void;
}): Promise<CiBenchResult> {
  const loaded = await loadDevfile(options.devfile, { variables: options.variables ?? {} });
  if (!loaded.ok) throw new Error(`${options.devfile}: ${loaded.errors.map((e) => e.message).join("; ")}`);
  const hostArch: Arch = process.arch === "arm64" ? "arm64" : "amd64";
  const engine = options.executors.some((e) => e !== "shell") && (await engineAnswers());
  const cells: CiBenchCell[] = [];
  const pickups: number[] = [];
  for (const executor of EXECUTORS) {
    for (const arch of ARCHES) {
      let why: string | undefined;
      if (!options.executors.includes(executor)) why = "not asked for (--executors)";
      else if (executor === "shell" && arch !== hostArch)
        why = `the shell executor runs on the host's architecture (${hostArch})`;
      else if (executor !== "shell" && !engine)
        why = `no Docker engine answers (the ${executor} executor runs images)`;
      if (why) {
        cells.push({ executor, arch, notMeasured: why });
        continue;
      }
      const measured = await measureCell(loaded.spec, executor, arch, options.runs, options.progress);
      pickups.push(...measured.pickups);
      cells.push({ executor, arch, createToReachable: figures(measured.samples) });
    }
  }
  return {
    tier: engine ? "docker" : "sim",
    devfile: options.devfile,
    runs: options.runs,
    cells,
    pickup: figures(pickups),
  };
}

export function formatCiBench(result: CiBenchResult): string {
  const lines = [
    `CI path on the ${result.tier} tier, ${result.devfile}: pipeline created → editor answers through the tunnel URL`,
    "executor    arch    runs  median      p90       min       max",
  ];
  const ms = (v: number) => `${v.toFixed(0)} ms`.padEnd(10);
  for (const cell of result.cells) {
    const head = `${cell.executor.padEnd(12)}${cell.arch.padEnd(8)}`;
    const f = cell.createToReachable;
    lines.push(
      f
        ? `${head}${String(f.count).padEnd(6)}${ms(f.medianMs)}${ms(f.p90Ms)}${ms(f.minMs)}${ms(f.maxMs)}`
        : `${head}—     not measured: ${cell.notMeasured}`,
    );
  }
  const p = result.pickup;
  lines.push(
    `runner job pickup with long polling (job queued → payload at the runner), ${p.count} jobs: median ${p.medianMs} ms, p90 ${p.p90Ms} ms, max ${p.maxMs} ms`,
  );
  return `${lines.join("\n")}\n`;
}
