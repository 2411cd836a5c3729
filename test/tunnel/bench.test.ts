import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { formatTable, shapeReport } from "../../src/tunnel/bench/run.ts";
import { needs } from "./tools.ts";

const ssh = needs("/usr/sbin/sshd", "/usr/bin/ssh");

const mode = (p50: number, p99: number, download: number, upload: number, concurrent64: number) => ({
  latencyUs: { p50, p95: p99, p99, max: p99 * 2, count: 10_000 },
  throughputMBps: { download, upload, concurrent64 },
  wsEchoUs: { p50, p99 },
  connectMs: { p50: 1 },
});

describe("bench tunnel report", () => {
  it("derives ratios, added latency and target verdicts from the per-mode figures", () => {
    const report = shapeReport(
      {
        direct: mode(100, 300, 1000, 800, 2000),
        "tunnel-tls": mode(220, 900, 600, 500, 900),
        ssh: mode(300, 2000, 400, 450, 500),
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
      {},
    );
    expect(report.ratios["tunnel-tls/direct"]).toEqual({ download: 0.6, upload: 0.63, concurrent64: 0.45 });
    expect(report.ratios["tunnel-tls/ssh"]).toEqual({ download: 1.5, upload: 1.11, concurrent64: 1.8 });
    expect(report.addedLatencyUs["tunnel-tls"]).toEqual({ p50: 120, p99: 600 });
    expect(report.targets.map((t) => t.met)).toEqual([true, true, true, true, true, true]);
    expect(formatTable(report)).toMatch(
      /^MET {3}added latency p50 over direct, tunnel-tls \(us\): 120 \(goal <= 150\)$/m,
    );
    const slow = shapeReport(
      { direct: mode(100, 300, 1000, 800, 2000), "tunnel-tls": mode(400, 3000, 300, 300, 300) },
      undefined,
      {},
    );
    expect(slow.targets.map((t) => t.met)).toEqual([null, false, false, false, null, null]);
  });

  it.skipIf(ssh.skip)(
    "runs from the CLI with tiny sizes and prints the JSON other tools read",
    () => {
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
          "--repeats",
          "1",
          "--streams",
          "4",
          "--stream-mib",
          "1",
          "--ws-messages",
          "20",
          "--connects",
          "5",
          "--no-scale",
        ],
        { encoding: "utf8", timeout: 120_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout);
      for (const name of ["direct", "tunnel", "tunnel-tls", "ssh"]) {
        const m = report.modes[name];
        expect(Object.keys(m.latencyUs).sort()).toEqual(["count", "max", "p50", "p95", "p99"]);
        expect(m.latencyUs.count).toBe(50);
        expect(m.throughputMBps.download).toBeGreaterThan(0);
        expect(m.throughputMBps.upload).toBeGreaterThan(0);
        expect(m.throughputMBps.concurrent64).toBeGreaterThan(0);
        expect(m.wsEchoUs.p50).toBeGreaterThan(0);
        expect(m.connectMs.p50).toBeGreaterThan(0);
      }
      expect(Object.keys(report.ratios)).toEqual(
        expect.arrayContaining(["tunnel-tls/direct", "tunnel-tls/ssh"]),
      );
      expect(report.addedLatencyUs["tunnel-tls"]).toHaveProperty("p99");
      expect(report.environment.node).toBe(process.version);
      expect(report.scale).toBeUndefined();
      expect(r.stderr).toContain("bench tunnel: ssh: connection setup");
    },
    150_000,
  );
});
