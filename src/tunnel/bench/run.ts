import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join, resolve } from "node:path";
import { cpuMs } from "./cpu.ts";
import { curlAvailable, curlDownload, curlUpload, writeUploadFile } from "./curl.ts";
import {
  type Histogram,
  histogram,
  type LatencySummary,
  measureConcurrent,
  measureConnect,
  measureDownload,
  measureLatencyInterleaved,
  measureUpload,
  measureWebSocketEcho,
  median,
  summarize,
} from "./measure.ts";
import { ProcessGroup, stopAllGroups } from "./processes.ts";
import { formatProfiles, type ProfileSummary, summarizeProfiles } from "./profile.ts";
import {
  type ConcurrentStreamsResult,
  type IdleAgentsResult,
  measureConcurrentStreams,
  measureIdleAgents,
} from "./scale.ts";
import {
  BASELINE,
  MODES,
  type ModeEndpoint,
  type ModeName,
  prepareAgentBundle,
  startSshMode,
  startTarget,
  startTunnelMode,
  TUNNEL_LEGS,
} from "./setup.ts";
import { sshAvailable } from "./sshd.ts";

export interface BenchOptions {
  modes: ModeName[];
  /** Keep-alive requests for latency in all, split evenly over the rounds. */
  requests: number;
  warmup: number;
  bulkBytes: number;
  concurrentStreams: number;
  concurrentBytesEach: number;
  rounds: number;
  wsMessages: number;
  connects: number;
  /** Write CPU profiles of every tunnel server and agent here. */
  cpuProfDir?: string;
  /** Another checkout (e.g. a worktree of main) whose tunnel-tls runs as mode "baseline" in the same rounds. */
  baselineRoot?: string;
  /** Idle agents and concurrent streams for the scale figures; null skips them. */
  scale: { idleAgents: number; streamAgents: number; streams: number } | null;
  progress: (line: string) => void;
}

/** The throughput figures, each measured once per round. */
export const THROUGHPUTS = [
  "download-curl",
  "upload-curl",
  "download-node",
  "upload-node",
  "concurrent64",
] as const;
export type Throughput = (typeof THROUGHPUTS)[number];

/** One figure over the rounds: its median, lowest and highest, and every round's value in order. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

/** CPU time the carrying processes spent per GiB moved by curl: steadier than MB/s on a busy machine. */
export type CpuPerGiB = Record<"download-curl" | "upload-curl", Spread>;

export interface ModeResult {
  latencyUs: LatencySummary;
  throughputMBps: Record<Throughput, Spread>;
  /** Tunnel server + agent, or sshd's + ssh; absent for direct. */
  cpuMsPerGiB?: CpuPerGiB;
  wsEchoUs: { p50: number; p99: number };
  connectMs: { p50: number };
}

export interface Target {
  name: string;
  goal: string;
  observed: number | null;
  met: boolean | null;
}

export interface TunnelBenchReport {
  modes: Partial<Record<ModeName, ModeResult>>;
  /** `a/b`: a's figure ÷ b's in the same round, summarized over the rounds. */
  ratios: Record<string, Record<Throughput, Spread>>;
  /** `a/b`: a's CPU per GiB ÷ b's (medians); below 1 means a spends less CPU per byte than b. */
  cpuRatios: Record<string, { "download-curl": number; "upload-curl": number }>;
  addedLatencyUs: Record<string, { p50: number; p99: number }>;
  scale?: { idleAgents: IdleAgentsResult; concurrentStreams: ConcurrentStreamsResult };
  profiles?: ProfileSummary[];
  targets: Target[];
  /** Whether the machine had other work during the run, and what that means for the figures. */
  load: { before: number[]; after: number[]; cpus: number; busy: boolean; note: string };
  environment: Record<string, unknown>;
}

const GiB = 1024 ** 3;
/** How long a profiled process may take to write its profile after SIGTERM (minutes of samples, load 30). */
const PROFILE_WRITE_GRACE_MS = 120_000;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export function spread(values: number[], digits = 1): Spread {
  return {
    median: round(median(values), digits),
    min: round(Math.min(...values), digits),
    max: round(Math.max(...values), digits),
    rounds: values.map((v) => round(v, digits)),
  };
}

/** A 1-minute load average above this share of the cores means other work competed with the bench. */
const BUSY_LOAD_PER_CPU = 0.75;

export function describeLoad(before: number[], after: number[], cpus: number): TunnelBenchReport["load"] {
  const busy = Math.max(before[0] ?? 0, after[0] ?? 0) > cpus * BUSY_LOAD_PER_CPU;
  const note = busy
    ? `the machine was busy (1-minute load ${before[0]} before, ${after[0]} after, on ${cpus} cores): absolute MB/s and µs are depressed and noisy; use the ratios, which compare modes measured interleaved within the same rounds`
    : `the machine was quiet (1-minute load ${before[0]} before, ${after[0]} after, on ${cpus} cores)`;
  return { before, after, cpus, busy, note };
}

/**
 * Measures every mode in `rounds` interleaved rounds (each round runs every measurement against every mode
 * in turn), so background load and drift hit all modes alike; reports medians and spreads.
 */
export async function runTunnelBench(options: BenchOptions): Promise<TunnelBenchReport> {
  const group = new ProcessGroup();
  const dir = await mkdtemp(join(os.tmpdir(), "wsparity-bench-"));
  const stops: (() => Promise<void>)[] = [];
  const interrupt = () => {
    process.stderr.write("bench tunnel: interrupted, stopping its processes\n");
    void Promise.all([stopAllGroups(), ...stops.map((stop) => stop())]).then(() => process.exit(130));
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const profileDir = options.cpuProfDir ? resolve(options.cpuProfDir) : undefined;
  try {
    const say = options.progress;
    if (!curlAvailable()) throw new Error("bench tunnel measures with curl: install Debian's curl");
    if (profileDir) await mkdir(profileDir, { recursive: true });
    say("starting the target, tunnel servers, bundled agents and sshd");
    await prepareAgentBundle(dir, options.baselineRoot);
    const uploadFile = join(dir, "upload.bin");
    await writeUploadFile(uploadFile, options.bulkBytes);
    const targetPort = await startTarget(group);
    const endpoints: ModeEndpoint[] = [];
    for (const mode of options.modes) {
      if (mode === "direct") endpoints.push({ name: "direct", secure: false, port: targetPort, headers: {} });
      if (mode === "tunnel" || mode === "tunnel-tls" || mode === "tunnel-tls-both")
        endpoints.push(await startTunnelMode(group, dir, targetPort, mode, profileDir));
      if (mode === "tunnel-tls" && options.baselineRoot)
        endpoints.push(
          await startTunnelMode(group, dir, targetPort, "baseline", profileDir, options.baselineRoot),
        );
      if (mode === "ssh") {
        if (!sshAvailable())
          throw new Error(
            "ssh mode needs Debian's openssh-server and openssh-client: run scripts/install-test-tools.sh",
          );
        const ssh = await startSshMode(group, targetPort);
        stops.push(() => ssh.sshd.stop());
        endpoints.push(ssh);
      }
    }
    const latency = new Map<ModeName, Histogram>(endpoints.map((ep) => [ep.name, histogram()]));
    const figures = new Map<ModeName, Record<Throughput, number[]>>(
      endpoints.map((ep) => [
        ep.name,
        Object.fromEntries(THROUGHPUTS.map((t) => [t, [] as number[]])) as Record<Throughput, number[]>,
      ]),
    );
    const cpu = new Map<ModeName, Record<keyof CpuPerGiB, number[]>>(
      endpoints.map((ep) => [ep.name, { "download-curl": [], "upload-curl": [] }]),
    );
    const each = async (what: string, fn: (ep: ModeEndpoint) => Promise<void>) => {
      for (const ep of endpoints) {
        say(`${ep.name}: ${what}`);
        await fn(ep);
      }
    };
    const perRound = Math.max(1, Math.round(options.requests / options.rounds));
    const warmupPerRound = Math.max(1, Math.round(options.warmup / options.rounds));
    const mib = options.bulkBytes / 1024 / 1024;
    for (let r = 1; r <= options.rounds; r++) {
      const of = `round ${r}/${options.rounds}`;
      say(`latency, ${perRound} keep-alive requests per mode, modes taking turns request by request (${of})`);
      await measureLatencyInterleaved(endpoints, perRound, warmupPerRound, latency);
      await each(`download and upload ${mib} MiB with curl and with node (${of})`, async (ep) => {
        const f = figures.get(ep.name)!;
        const c = cpu.get(ep.name)!;
        const carriers = ep.carriers?.() ?? [];
        let before = cpuMs(carriers);
        f["download-curl"].push(await curlDownload(ep, options.bulkBytes));
        c["download-curl"].push(((cpuMs(carriers) - before) * GiB) / options.bulkBytes);
        before = cpuMs(carriers);
        f["upload-curl"].push(await curlUpload(ep, uploadFile, options.bulkBytes));
        c["upload-curl"].push(((cpuMs(carriers) - before) * GiB) / options.bulkBytes);
        f["download-node"].push(await measureDownload(ep, options.bulkBytes));
        f["upload-node"].push(await measureUpload(ep, options.bulkBytes));
      });
      await each(`${options.concurrentStreams} concurrent downloads (${of})`, async (ep) => {
        figures
          .get(ep.name)!
          .concurrent64.push(
            await measureConcurrent(ep, options.concurrentStreams, options.concurrentBytesEach),
          );
      });
    }
    const modes: TunnelBenchReport["modes"] = {};
    for (const ep of endpoints) {
      say(`${ep.name}: WebSocket echo, ${options.wsMessages} round trips`);
      const ws = await measureWebSocketEcho(ep, options.wsMessages, Math.ceil(options.wsMessages / 10));
      say(`${ep.name}: connection setup, ${options.connects} new connections`);
      const connect = await measureConnect(ep, options.connects);
      const f = figures.get(ep.name)!;
      const c = cpu.get(ep.name)!;
      modes[ep.name] = {
        latencyUs: summarize(latency.get(ep.name)!),
        throughputMBps: Object.fromEntries(THROUGHPUTS.map((t) => [t, spread(f[t])])) as Record<
          Throughput,
          Spread
        >,
        ...(ep.carriers
          ? {
              cpuMsPerGiB: {
                "download-curl": spread(c["download-curl"], 0),
                "upload-curl": spread(c["upload-curl"], 0),
              },
            }
          : {}),
        wsEchoUs: { p50: ws.p50, p99: ws.p99 },
        connectMs: { p50: round(connect.p50, 2) },
      };
    }
    // The servers and agents write their CPU profiles as they exit: on a busy machine that takes seconds.
    await group.stop(profileDir ? PROFILE_WRITE_GRACE_MS : undefined);
    const loadAfter = os.loadavg().map((l) => round(l, 2));
    const profiles = profileDir ? await summarizeProfiles(profileDir) : undefined;
    let scale: TunnelBenchReport["scale"];
    if (options.scale) {
      say(`scale: ${options.scale.idleAgents} idle agents on one server`);
      const idleAgents = await measureIdleAgents(options.scale.idleAgents);
      say(`scale: ${options.scale.streams} concurrent streams over ${options.scale.streamAgents} agents`);
      const concurrentStreams = await measureConcurrentStreams(
        options.scale.streamAgents,
        options.scale.streams,
        say,
      );
      scale = { idleAgents, concurrentStreams };
    }
    const cpus = os.cpus().length;
    return shapeReport(modes, scale, profiles, describeLoad(loadBefore, loadAfter, cpus), {
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: round(os.totalmem() / 1024 ** 3),
      rounds: options.rounds,
      requests: perRound * options.rounds,
      warmup: warmupPerRound * options.rounds,
      bulkMiB: mib,
      concurrentStreams: options.concurrentStreams,
      concurrentMiBEach: options.concurrentBytesEach / 1024 / 1024,
      legs: "tunnel: no TLS; tunnel-tls: TLS on the agent's leg only (as ssh -R encrypts only its own leg); tunnel-tls-both: TLS on the user's leg too",
      cpuMsPerGiB:
        "CPU time (user + system, /proc/<pid>/stat) of the processes that carry the bytes — tunnel server and agent; ssh and sshd's session processes — per GiB curl moved: it varies far less with background load than MB/s",
      latency: "modes take turns request by request, each on its own keep-alive connection",
      clients:
        "curl (C) and node for single-stream throughput, each on a new connection; node for latency, 64 streams, WebSocket and setup",
      processes:
        "load generator, target, tunnel server, agent (bundled, plain node), sshd and ssh: each its own process",
      ssh: "OpenSSH defaults (ssh -N -R 127.0.0.1:P:127.0.0.1:T), ed25519 keys",
      ...(profileDir ? { cpuProfiles: profileDir } : {}),
      startedAt: new Date().toISOString(),
    });
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    await group.stop();
    for (const stop of stops) await stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function shapeReport(
  modes: TunnelBenchReport["modes"],
  scale: TunnelBenchReport["scale"],
  profiles: ProfileSummary[] | undefined,
  load: TunnelBenchReport["load"],
  environment: Record<string, unknown>,
): TunnelBenchReport {
  const ratios: TunnelBenchReport["ratios"] = {};
  const ratio = (a: ModeName, b: ModeName) => {
    const x = modes[a]?.throughputMBps;
    const y = modes[b]?.throughputMBps;
    if (!x || !y) return;
    ratios[`${a}/${b}`] = Object.fromEntries(
      THROUGHPUTS.map((t) => [
        t,
        spread(
          x[t].rounds.map((v, i) => v / y[t].rounds[i]!),
          2,
        ),
      ]),
    ) as Record<Throughput, Spread>;
  };
  for (const mode of Object.keys(TUNNEL_LEGS) as ModeName[]) {
    ratio(mode, "ssh");
    ratio(mode, "direct");
  }
  ratio("ssh", "direct");
  ratio("tunnel-tls", BASELINE);
  const cpuRatios: TunnelBenchReport["cpuRatios"] = {};
  for (const mode of Object.keys(TUNNEL_LEGS) as ModeName[]) {
    const x = modes[mode]?.cpuMsPerGiB;
    const y = modes.ssh?.cpuMsPerGiB;
    if (x && y) {
      cpuRatios[`${mode}/ssh`] = {
        "download-curl": round(x["download-curl"].median / y["download-curl"].median, 2),
        "upload-curl": round(x["upload-curl"].median / y["upload-curl"].median, 2),
      };
    }
  }
  const now = modes["tunnel-tls"]?.cpuMsPerGiB;
  const then = modes[BASELINE]?.cpuMsPerGiB;
  if (now && then) {
    cpuRatios[`tunnel-tls/${BASELINE}`] = {
      "download-curl": round(now["download-curl"].median / then["download-curl"].median, 2),
      "upload-curl": round(now["upload-curl"].median / then["upload-curl"].median, 2),
    };
  }
  const addedLatencyUs: TunnelBenchReport["addedLatencyUs"] = {};
  for (const mode of ["tunnel", "tunnel-tls", "tunnel-tls-both", "ssh", BASELINE] as const) {
    if (modes[mode] && modes.direct) {
      addedLatencyUs[mode] = {
        p50: modes[mode]!.latencyUs.p50 - modes.direct.latencyUs.p50,
        p99: modes[mode]!.latencyUs.p99 - modes.direct.latencyUs.p99,
      };
    }
  }
  const added = addedLatencyUs["tunnel-tls"];
  const check = (
    name: string,
    goal: string,
    observed: number | null,
    ok: (v: number) => boolean,
  ): Target => ({ name, goal, observed, met: observed === null ? null : ok(observed) });
  const targets = [
    check(
      "download with curl, tunnel-tls / ssh -R (median of per-round ratios)",
      ">= 1.0",
      ratios["tunnel-tls/ssh"]?.["download-curl"].median ?? null,
      (v) => v >= 1,
    ),
    check(
      "download with curl, tunnel-tls / direct (median of per-round ratios)",
      ">= 0.5",
      ratios["tunnel-tls/direct"]?.["download-curl"].median ?? null,
      (v) => v >= 0.5,
    ),
    check("added latency p50 over direct, tunnel-tls (us)", "<= 150", added?.p50 ?? null, (v) => v <= 150),
    check("added latency p99 over direct, tunnel-tls (us)", "<= 1000", added?.p99 ?? null, (v) => v <= 1000),
    check(
      `server memory per idle agent, ${scale?.idleAgents.agents ?? 1000} agents (KiB)`,
      "< 64",
      scale?.idleAgents.perAgentKiB ?? null,
      (v) => v < 64,
    ),
    check(
      `failed streams of ${scale?.concurrentStreams.streams ?? 10000} concurrent over ${scale?.concurrentStreams.agents ?? 100} agents`,
      "= 0",
      scale ? scale.concurrentStreams.failures : null,
      (v) => v === 0,
    ),
  ];
  return {
    modes,
    ratios,
    cpuRatios,
    addedLatencyUs,
    ...(scale ? { scale } : {}),
    ...(profiles ? { profiles } : {}),
    targets,
    load,
    environment,
  };
}

const showSpread = (s: Spread, digits = 1) =>
  `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;

export function formatTable(report: TunnelBenchReport): string {
  const names = [...MODES, BASELINE].filter((m) => report.modes[m]);
  const rounds = Object.values(report.modes)[0]?.throughputMBps["download-curl"].rounds.length ?? 0;
  const rows: [string, (r: ModeResult) => string][] = [
    ["latency p50 (us)", (r) => String(r.latencyUs.p50)],
    ["latency p99 (us)", (r) => String(r.latencyUs.p99)],
    ["latency max (us)", (r) => String(r.latencyUs.max)],
    ...THROUGHPUTS.map(
      (t) =>
        [`${t} (MB/s)`, (r: ModeResult) => showSpread(r.throughputMBps[t])] as [
          string,
          (r: ModeResult) => string,
        ],
    ),
    [
      "CPU ms/GiB download-curl",
      (r) => (r.cpuMsPerGiB ? showSpread(r.cpuMsPerGiB["download-curl"], 0) : "-"),
    ],
    ["CPU ms/GiB upload-curl", (r) => (r.cpuMsPerGiB ? showSpread(r.cpuMsPerGiB["upload-curl"], 0) : "-")],
    ["WebSocket echo p50 (us)", (r) => String(r.wsEchoUs.p50)],
    ["WebSocket echo p99 (us)", (r) => String(r.wsEchoUs.p99)],
    ["connect + request p50 (ms)", (r) => r.connectMs.p50.toFixed(2)],
  ];
  const width = 28;
  const col = 24;
  const lines = [
    `${rounds} interleaved rounds; throughput cells are median (lowest-highest)`,
    "",
    ["".padEnd(width), ...names.map((n) => n.padStart(col))].join(""),
  ];
  for (const [label, cell] of rows) {
    lines.push([label.padEnd(width), ...names.map((n) => cell(report.modes[n]!).padStart(col))].join(""));
  }
  lines.push("", "ratios, each round's a ÷ b, median (lowest-highest):");
  for (const [pair, r] of Object.entries(report.ratios)) {
    lines.push(`${pair.padEnd(width)}${THROUGHPUTS.map((t) => `${t} ${showSpread(r[t], 2)}`).join("  ")}`);
  }
  for (const [pair, r] of Object.entries(report.cpuRatios)) {
    lines.push(
      `${`CPU per GiB ${pair}`.padEnd(width)} download-curl ${r["download-curl"]}  upload-curl ${r["upload-curl"]}`,
    );
  }
  for (const [mode, a] of Object.entries(report.addedLatencyUs)) {
    lines.push(`${`added latency ${mode}`.padEnd(width)}p50 ${a.p50} us  p99 ${a.p99} us`);
  }
  if (report.scale) {
    const { idleAgents: idle, concurrentStreams: streams } = report.scale;
    lines.push(
      `${"idle agents".padEnd(width)}${idle.agents} agents: server RSS ${idle.serverRssBeforeKiB} -> ${idle.serverRssAfterKiB} KiB, ${idle.perAgentKiB} KiB each`,
      `${"concurrent streams".padEnd(width)}${streams.streams} over ${streams.agents} agents: ${streams.failures} failed, ${streams.peakActiveStreams} open at once, opened in ${streams.openSeconds} s`,
    );
  }
  lines.push("");
  for (const t of report.targets) {
    lines.push(
      `${t.met === null ? "n/a " : t.met ? "MET " : "MISS"}  ${t.name}: ${t.observed ?? "-"} (goal ${t.goal})`,
    );
  }
  lines.push("", `${report.load.busy ? "WARNING: " : ""}${report.load.note}`);
  if (report.profiles) lines.push("", formatProfiles(report.profiles).trimEnd());
  return `${lines.join("\n")}\n`;
}
