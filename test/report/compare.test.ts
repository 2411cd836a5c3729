import { describe, expect, it } from "vitest";
import { compareReports, comparisonFailed, formatComparison } from "../../src/report/compare.ts";
import { cell, report, sampleReport, tunnel } from "./fixtures.ts";

const k8s = cell("kubernetes", null, "amd64", { "endpoint.http": "supported", "endpoint.tcp": "supported" });

describe("compare", () => {
  it("lists new and closed gaps per CI cell", () => {
    const old = report([
      k8s,
      cell("ci", "shell", "amd64", { "endpoint.http": "unsupported", "endpoint.tcp": "supported" }),
    ]);
    const now = report([
      k8s,
      cell("ci", "shell", "amd64", { "endpoint.http": "supported", "endpoint.tcp": "error" }),
    ]);
    const c = compareReports(old, now);
    expect(c.newGaps).toEqual([
      { scenario: "demo", feature: "endpoint.tcp", cell: "shell/amd64", status: "error" },
    ]);
    expect(c.closedGaps).toEqual([
      { scenario: "demo", feature: "endpoint.http", cell: "shell/amd64", status: "unsupported" },
    ]);
    expect(comparisonFailed(c)).toBe(true);
  });

  it("flags baseline-normalised tunnel ratios only beyond the noise band", () => {
    const at = (p95: number, download: number, baseline = { p95: 100, download: 1000 }) =>
      report([
        k8s,
        cell(
          "ci",
          "docker",
          "amd64",
          { "endpoint.http": "supported" },
          { tunnel: tunnel(p95, download, baseline) },
        ),
      ]);
    const base = at(300, 800);
    // 20% slower p95 ratio, 10% less throughput: noise.
    expect(compareReports(base, at(360, 720)).regressions).toEqual([]);
    // The machine got twice as slow for everything: ratios unchanged, no regression.
    expect(compareReports(base, at(600, 400, { p95: 200, download: 500 })).regressions).toEqual([]);
    const worse = compareReports(base, at(600, 300));
    expect(worse.regressions.map((r) => r.metric)).toEqual([
      "tunnel.ratio.latencyUs.p50",
      "tunnel.ratio.latencyUs.p95",
      "tunnel.ratio.latencyUs.p99",
      "tunnel.ratio.throughputMBps.download",
      "tunnel.ratio.throughputMBps.upload",
    ]);
    expect(formatComparison(worse)).toContain("verdict: WORSE");
    expect(compareReports(worse === undefined ? base : at(600, 300), base).improvements).toHaveLength(5);
  });

  it("gives startup time a relative band with a floor", () => {
    const at = (ms: number) => report([k8s, cell("ci", "shell", "amd64", {}, { startupMs: ms })]);
    expect(compareReports(at(1000), at(1400)).regressions).toEqual([]);
    expect(compareReports(at(1000), at(1600)).regressions[0]).toMatchObject({
      metric: "startupMs",
      change: "+60.0%",
    });
    expect(compareReports(at(100), at(550)).regressions).toEqual([]);
  });

  it("names cells present in one report only and treats a parity drop as worse", () => {
    const c = compareReports(sampleReport(), report([sampleReport().cells[0]!, sampleReport().cells[1]!]));
    expect(c.unmatchedCells).toEqual(["only in old: demo ci docker/amd64"]);
    expect(c.parity).toEqual({ old: 66.67, new: 33.33 });
    expect(comparisonFailed(c)).toBe(true);
    expect(comparisonFailed(compareReports(sampleReport(), sampleReport()))).toBe(false);
  });
});
