import { describe, expect, it } from "vitest";
import { measureConcurrentStreams, measureIdleAgents } from "../../src/tunnel/bench/scale.ts";

describe("tunnel at scale", () => {
  it("holds 1,000 idle agents at under 64 KiB of server memory each", async () => {
    const result = await measureIdleAgents(1000);
    expect(result.agents).toBe(1000);
    expect(result.perAgentKiB).toBeLessThan(64);
  });

  it("carries 10,000 concurrent streams over 100 agents with zero failures", async () => {
    const result = await measureConcurrentStreams(100, 10_000);
    expect(result.firstFailure).toBeUndefined();
    expect(result.failures).toBe(0);
    expect(result.peakActiveStreams).toBe(10_000);
  });
});

describe("bench tunnel --json with the scale figures", () => {
  it("runs the whole benchmark with small sizes, including idle agents and concurrent streams", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(
      process.execPath,
      [
        "bin/wsparity.js",
        "bench",
        "tunnel",
        "--json",
        "--requests",
        "100",
        "--warmup",
        "10",
        "--bulk-mib",
        "2",
        "--rounds",
        "1",
        "--streams",
        "4",
        "--stream-mib",
        "1",
        "--ws-messages",
        "20",
        "--connects",
        "5",
        "--idle-agents",
        "50",
        "--stream-agents",
        "5",
        "--streams-total",
        "200",
      ],
      { encoding: "utf8", timeout: 280_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.scale.idleAgents.agents).toBe(50);
    expect(report.scale.concurrentStreams).toMatchObject({
      streams: 200,
      failures: 0,
      peakActiveStreams: 200,
    });
    expect(report.targets).toHaveLength(6);
  });
});
