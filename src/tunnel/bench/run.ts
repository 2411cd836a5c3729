import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import {
  type LatencySummary,
  measureConcurrent,
  measureConnect,
  measureDownload,
  measureLatency,
  measureUpload,
  measureWebSocketEcho,
  median,
} from "./measure.ts";
import { ProcessGroup, stopAllGroups } from "./processes.ts";
import {
  type ConcurrentStreamsResult,
  type IdleAgentsResult,
  measureConcurrentStreams,
  measureIdleAgents,
} from "./scale.ts";
import {
  MODES,
  type ModeEndpoint,
  type ModeName,
  prepareAgentBundle,
  startSshMode,
  startTarget,
  startTunnelMode,
} from "./setup.ts";
import { sshAvailable } from "./sshd.ts";

export interface BenchOptions {
  modes: ModeName[];
  requests: number;
  warmup: number;
  bulkBytes: number;
  concurrentStreams: number;
  concurrentBytesEach: number;
  repeats: number;
  wsMessages: number;
  connects: number;
  /** Idle agents and concurrent streams for the scale figures; 0 skips them. */
  scale: { idleAgents: number; streamAgents: number; streams: number } | null;
  progress: (line: string) => void;
}

export interface ModeResult {
  latencyUs: LatencySummary;
  throughputMBps: { download: number; upload: number; concurrent64: number };
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
  ratios: Record<string, { download: number; upload: number; concurrent64: number }>;
  addedLatencyUs: Record<string, { p50: number; p99: number }>;
  scale?: { idleAgents: IdleAgentsResult; concurrentStreams: ConcurrentStreamsResult };
  targets: Target[];
  environment: Record<string, unknown>;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Runs every measurement against every mode, interleaved so that background load hits all modes alike. */
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
  const load = os.loadavg();
  try {
    const say = options.progress;
    say("starting the target, tunnel servers, bundled agents and sshd");
    await prepareAgentBundle(dir);
    const targetPort = await startTarget(group);
    const endpoints: ModeEndpoint[] = [];
    for (const mode of options.modes) {
      if (mode === "direct") endpoints.push({ name: "direct", secure: false, port: targetPort, headers: {} });
      if (mode === "tunnel" || mode === "tunnel-tls")
        endpoints.push(await startTunnelMode(group, dir, targetPort, mode === "tunnel-tls"));
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
    const results = new Map<ModeName, Partial<ModeResult>>(endpoints.map((ep) => [ep.name, {}]));
    const each = async (what: string, fn: (ep: ModeEndpoint) => Promise<void>) => {
      for (const ep of endpoints) {
        say(`${ep.name}: ${what}`);
        await fn(ep);
      }
    };
    await each(
      `latency, ${options.requests} keep-alive requests after ${options.warmup} warm-up`,
      async (ep) => {
        results.get(ep.name)!.latencyUs = await measureLatency(ep, options.requests, options.warmup);
      },
    );
    const downloads = new Map<ModeName, number[]>();
    const uploads = new Map<ModeName, number[]>();
    const concurrent = new Map<ModeName, number[]>();
    for (let repeat = 1; repeat <= options.repeats; repeat++) {
      await each(
        `download and upload ${options.bulkBytes / 1024 / 1024} MiB (run ${repeat}/${options.repeats})`,
        async (ep) => {
          downloads.set(ep.name, [
            ...(downloads.get(ep.name) ?? []),
            await measureDownload(ep, options.bulkBytes),
          ]);
          uploads.set(ep.name, [...(uploads.get(ep.name) ?? []), await measureUpload(ep, options.bulkBytes)]);
        },
      );
      await each(
        `${options.concurrentStreams} concurrent downloads (run ${repeat}/${options.repeats})`,
        async (ep) => {
          concurrent.set(ep.name, [
            ...(concurrent.get(ep.name) ?? []),
            await measureConcurrent(ep, options.concurrentStreams, options.concurrentBytesEach),
          ]);
        },
      );
    }
    await each(`WebSocket echo, ${options.wsMessages} round trips`, async (ep) => {
      const ws = await measureWebSocketEcho(ep, options.wsMessages, Math.ceil(options.wsMessages / 10));
      results.get(ep.name)!.wsEchoUs = { p50: ws.p50, p99: ws.p99 };
    });
    await each(`connection setup, ${options.connects} new connections`, async (ep) => {
      results.get(ep.name)!.connectMs = { p50: round((await measureConnect(ep, options.connects)).p50, 2) };
    });
    const modes: TunnelBenchReport["modes"] = {};
    for (const ep of endpoints) {
      const r = results.get(ep.name)!;
      modes[ep.name] = {
        latencyUs: r.latencyUs!,
        throughputMBps: {
          download: round(median(downloads.get(ep.name)!)),
          upload: round(median(uploads.get(ep.name)!)),
          concurrent64: round(median(concurrent.get(ep.name)!)),
        },
        wsEchoUs: r.wsEchoUs!,
        connectMs: r.connectMs!,
      };
    }
    let scale: TunnelBenchReport["scale"];
    if (options.scale) {
      await group.stop();
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
    return shapeReport(modes, scale, {
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: round(os.totalmem() / 1024 ** 3),
      loadAverageAtStart: load.map((l) => round(l, 2)),
      requests: options.requests,
      warmup: options.warmup,
      bulkMiB: options.bulkBytes / 1024 / 1024,
      repeats: options.repeats,
      concurrentStreams: options.concurrentStreams,
      concurrentMiBEach: options.concurrentBytesEach / 1024 / 1024,
      processes:
        "load generator, target, tunnel server, agent (bundled, plain node), sshd and ssh: each its own process",
      ssh: "OpenSSH defaults (ssh -N -R 127.0.0.1:P:127.0.0.1:T), ed25519 keys",
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
  environment: Record<string, unknown>,
): TunnelBenchReport {
  const ratios: TunnelBenchReport["ratios"] = {};
  const ratio = (a: ModeName, b: ModeName) => {
    const x = modes[a]?.throughputMBps;
    const y = modes[b]?.throughputMBps;
    if (!x || !y) return;
    ratios[`${a}/${b}`] = {
      download: round(x.download / y.download, 2),
      upload: round(x.upload / y.upload, 2),
      concurrent64: round(x.concurrent64 / y.concurrent64, 2),
    };
  };
  ratio("tunnel-tls", "direct");
  ratio("tunnel-tls", "ssh");
  ratio("tunnel", "direct");
  ratio("tunnel", "ssh");
  const addedLatencyUs: TunnelBenchReport["addedLatencyUs"] = {};
  for (const mode of ["tunnel-tls", "tunnel", "ssh"] as const) {
    if (modes[mode] && modes.direct) {
      addedLatencyUs[mode] = {
        p50: modes[mode]!.latencyUs.p50 - modes.direct.latencyUs.p50,
        p99: modes[mode]!.latencyUs.p99 - modes.direct.latencyUs.p99,
      };
    }
  }
  const tlsSsh = ratios["tunnel-tls/ssh"];
  const tlsDirect = ratios["tunnel-tls/direct"];
  const added = addedLatencyUs["tunnel-tls"];
  const single = (r: { download: number; upload: number } | undefined) =>
    r ? Math.min(r.download, r.upload) : null;
  const check = (
    name: string,
    goal: string,
    observed: number | null,
    ok: (v: number) => boolean,
  ): Target => ({
    name,
    goal,
    observed,
    met: observed === null ? null : ok(observed),
  });
  const targets = [
    check(
      "single-stream throughput tunnel-tls / ssh (lower of download, upload)",
      ">= 1.0",
      single(tlsSsh),
      (v) => v >= 1,
    ),
    check(
      "single-stream throughput tunnel-tls / direct (lower of download, upload)",
      ">= 0.5",
      single(tlsDirect),
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
  return { modes, ratios, addedLatencyUs, ...(scale ? { scale } : {}), targets, environment };
}

export function formatTable(report: TunnelBenchReport): string {
  const names = MODES.filter((m) => report.modes[m]);
  const rows: [string, (r: ModeResult) => string][] = [
    ["latency p50 (us)", (r) => String(r.latencyUs.p50)],
    ["latency p95 (us)", (r) => String(r.latencyUs.p95)],
    ["latency p99 (us)", (r) => String(r.latencyUs.p99)],
    ["latency max (us)", (r) => String(r.latencyUs.max)],
    ["requests", (r) => String(r.latencyUs.count)],
    ["download (MB/s)", (r) => r.throughputMBps.download.toFixed(1)],
    ["upload (MB/s)", (r) => r.throughputMBps.upload.toFixed(1)],
    ["64 streams (MB/s)", (r) => r.throughputMBps.concurrent64.toFixed(1)],
    ["WebSocket echo p50 (us)", (r) => String(r.wsEchoUs.p50)],
    ["WebSocket echo p99 (us)", (r) => String(r.wsEchoUs.p99)],
    ["connect + request p50 (ms)", (r) => r.connectMs.p50.toFixed(2)],
  ];
  const width = 28;
  const col = 12;
  const lines = [["".padEnd(width), ...names.map((n) => n.padStart(col))].join("")];
  for (const [label, cell] of rows) {
    lines.push([label.padEnd(width), ...names.map((n) => cell(report.modes[n]!).padStart(col))].join(""));
  }
  lines.push("");
  for (const [pair, r] of Object.entries(report.ratios)) {
    lines.push(
      `${pair.padEnd(width)}download ${r.download}  upload ${r.upload}  64 streams ${r.concurrent64}`,
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
  return `${lines.join("\n")}\n`;
}
