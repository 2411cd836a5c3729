import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { summarizeProfile } from "../../src/tunnel/bench/profile.ts";
import { describeLoad, formatTable, shapeReport, spread } from "../../src/tunnel/bench/run.ts";
import { missingTool } from "../support/tools.ts";

const noSsh =
  missingTool("/usr/sbin/sshd", "scripts/install-test-tools.sh (openssh-server, openssh-client)") ??
  missingTool("/usr/bin/ssh", "scripts/install-test-tools.sh (openssh-server, openssh-client)");

/** A mode whose throughput figures are `download`, `upload`, `concurrent64` scaled per round by `drift`. */
const mode = (
  p50: number,
  p99: number,
  download: number,
  upload: number,
  concurrent64: number,
  drift = [1, 1, 1],
) => {
  const rounds = (v: number) => spread(drift.map((d) => v * d));
  return {
    latencyUs: { p50, p95: p99, p99, max: p99 * 2, count: 10_000 },
    throughputMBps: {
      "download-curl": rounds(download),
      "upload-curl": rounds(upload),
      "download-node": rounds(download / 2),
      "upload-node": rounds(upload / 2),
      concurrent64: rounds(concurrent64),
    },
    // CPU per GiB taken as the inverse of throughput, so its ratios mirror the throughput ratios.
    cpuMsPerGiB: { "download-curl": rounds(1e6 / download), "upload-curl": rounds(1e6 / upload) },
    wsEchoUs: { p50, p99 },
    connectMs: { p50: 1 },
  };
};
const quiet = describeLoad([0.2, 0.3, 0.4], [0.5, 0.4, 0.4], 2);

describe("bench tunnel report", () => {
  it("derives per-round ratios, added latency and target verdicts from the per-mode figures", () => {
    const report = shapeReport(
      {
        // Load that halves every mode in round 2 leaves the ratios alone: they are taken within each round.
        direct: mode(100, 300, 1000, 800, 2000, [1, 0.5, 1]),
        "tunnel-tls": mode(220, 900, 600, 500, 900, [1, 0.5, 1]),
        ssh: mode(300, 2000, 400, 450, 500, [1, 0.5, 1]),
      },
      {
        idleAgents: {
          agents: 1000,
          serverRssBeforeKiB: 100_000,
          serverRssAfterKiB: 120_000,
          perAgentKiB: 20,
        },
        concurrentStreams: {
          agents: 100,
          streams: 10_000,
          failures: 0,
          peakActiveStreams: 10_000,
          openSeconds: 30,
        },
      },
      undefined,
      quiet,
      {},
    );
    expect(report.modes.direct!.throughputMBps["download-curl"]).toEqual({
      median: 1000,
      min: 500,
      max: 1000,
      rounds: [1000, 500, 1000],
    });
    expect(report.ratios["tunnel-tls/direct"]!["download-curl"]).toEqual({
      median: 0.6,
      min: 0.6,
      max: 0.6,
      rounds: [0.6, 0.6, 0.6],
    });
    expect(report.ratios["tunnel-tls/direct"]!["upload-curl"].median).toBe(0.63);
    expect(report.ratios["tunnel-tls/ssh"]!["download-curl"].median).toBe(1.5);
    expect(report.ratios["tunnel-tls/ssh"]!.concurrent64.median).toBe(1.8);
    expect(report.cpuRatios["tunnel-tls/ssh"]).toEqual({ "download-curl": 0.67, "upload-curl": 0.9 });
    expect(report.addedLatencyUs["tunnel-tls"]).toEqual({ p50: 120, p99: 600 });
    expect(report.targets.map((t) => t.met)).toEqual([true, true, true, true, true, true]);
    expect(formatTable(report)).toMatch(
      /^MET {3}added latency p50 over direct, tunnel-tls \(us\): 120 \(goal <= 150\)$/m,
    );
    expect(formatTable(report)).toMatch(/^the machine was quiet/m);
    const busy = describeLoad([5.1, 3, 2], [6.2, 4, 2], 2);
    const slow = shapeReport(
      { direct: mode(100, 300, 1000, 800, 2000), "tunnel-tls": mode(400, 3000, 300, 300, 300) },
      undefined,
      undefined,
      busy,
      {},
    );
    expect(slow.targets.map((t) => t.met)).toEqual([null, false, false, false, null, null]);
    expect(slow.load.busy).toBe(true);
    expect(formatTable(slow)).toMatch(
      /^WARNING: the machine was busy \(1-minute load 5.1 before, 6.2 after, on 2 cores\)/m,
    );
  });

  it("sorts a profile's busy time into categories, a native call under its JavaScript caller's", () => {
    const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 0 });
    const summary = summarizeProfile("x.cpuprofile", {
      nodes: [
        { id: 1, callFrame: frame("(root)"), children: [2, 3, 4, 5] },
        { id: 2, callFrame: frame("(idle)") },
        { id: 3, callFrame: frame("(program)") },
        { id: 4, callFrame: frame("onStreamRead", "node:internal/stream_base_commons"), children: [6] },
        { id: 5, callFrame: frame("parserOnBody", "node:_http_common") },
        { id: 6, callFrame: frame("writeBuffer") },
      ],
      samples: [2, 3, 6, 6, 5],
      timeDeltas: [500, 100, 100, 100, 200],
      startTime: 0,
      endTime: 1000,
    });
    expect(summary.idlePercent).toBe(50);
    expect(summary.categories).toEqual([
      { category: "writeBuffer (native, from sockets)", percent: 40 },
      { category: "HTTP/1 parser and messages (node:_http_*)", percent: 40 },
      { category: "native with no JavaScript caller (TLS, nghttp2, libuv)", percent: 20 },
    ]);
  });

  it("runs from the CLI with tiny sizes and prints the JSON other tools read", (ctx) => {
    if (noSsh) ctx.skip(noSsh);
    const profiles = mkdtempSync(join(tmpdir(), "wsparity-bench-prof-"));
    onTestFinished(() => rmSync(profiles, { recursive: true, force: true }));
    const r = spawnSync(
      process.execPath,
      [
        "bin/wsparity.js",
        "bench",
        "tunnel",
        "--json",
        "--requests",
        "50",
        "--warmup",
        "10",
        "--bulk-mib",
        "1",
        "--rounds",
        "2",
        "--streams",
        "4",
        "--stream-mib",
        "1",
        "--ws-messages",
        "20",
        "--connects",
        "5",
        "--no-scale",
        "--cpu-prof",
        profiles,
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    for (const name of ["direct", "tunnel", "tunnel-tls", "tunnel-tls-both", "ssh"]) {
      const m = report.modes[name];
      expect(Object.keys(m.latencyUs).sort()).toEqual(["count", "max", "p50", "p95", "p99"]);
      expect(m.latencyUs.count).toBe(50);
      for (const figure of ["download-curl", "upload-curl", "download-node", "upload-node", "concurrent64"]) {
        expect(m.throughputMBps[figure].rounds).toHaveLength(2);
        expect(m.throughputMBps[figure].min).toBeGreaterThan(0);
      }
      expect(m.wsEchoUs.p50).toBeGreaterThan(0);
      if (name === "direct") expect(m.cpuMsPerGiB).toBeUndefined();
      else expect(m.cpuMsPerGiB["download-curl"].rounds).toHaveLength(2);
      expect(m.connectMs.p50).toBeGreaterThan(0);
    }
    expect(Object.keys(report.ratios)).toEqual(
      expect.arrayContaining(["tunnel-tls/direct", "tunnel-tls/ssh"]),
    );
    expect(report.addedLatencyUs["tunnel-tls"]).toHaveProperty("p99");
    expect(report.environment.node).toBe(process.version);
    expect(report.load.before).toHaveLength(3);
    expect(report.load.after).toHaveLength(3);
    expect(typeof report.load.busy).toBe("boolean");
    expect(report.scale).toBeUndefined();
    // A CPU profile per tunnel server and agent, each summarized with where its time went.
    expect(readdirSync(profiles).sort()).toEqual(
      ["tunnel", "tunnel-tls", "tunnel-tls-both"]
        .flatMap((m) => [`${m}-agent.cpuprofile`, `${m}-server.cpuprofile`])
        .sort(),
    );
    for (const p of report.profiles) {
      expect(p.seconds).toBeGreaterThan(0);
      expect(p.top.length).toBeGreaterThan(0);
      expect(p.categories.length).toBeGreaterThan(0);
    }
    expect(r.stderr).toContain("bench tunnel: ssh: connection setup");
  }, 150_000);
});
