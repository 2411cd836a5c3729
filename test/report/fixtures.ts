import { buildReport } from "../../src/report/build.ts";
import type {
  Arch,
  Cell,
  CellTunnelMetrics,
  Executor,
  FeatureStatus,
  Report,
} from "../../src/report/model.ts";

export function tunnel(
  p95: number,
  download: number,
  baseline = { p95: 100, download: 1000 },
): CellTunnelMetrics {
  const latency = (p: number) => ({ p50: p / 2, p95: p, p99: p * 1.5, max: p * 3, count: 10_000 });
  const base = {
    latencyUs: latency(baseline.p95),
    throughputMBps: { download: baseline.download, upload: baseline.download },
  };
  return {
    latencyUs: latency(p95),
    throughputMBps: { download, upload: download },
    baseline: base,
    ratio: {
      latencyUs: {
        p50: p95 / baseline.p95,
        p95: p95 / baseline.p95,
        p99: p95 / baseline.p95,
        max: p95 / baseline.p95,
        count: 1,
      },
      throughputMBps: { download: download / baseline.download, upload: download / baseline.download },
    },
  };
}

export function cell(
  path: "kubernetes" | "ci",
  executor: Executor | null,
  arch: Arch,
  features: Record<string, FeatureStatus>,
  extra: Partial<Cell> = {},
): Cell {
  return {
    scenario: "demo",
    path,
    executor,
    arch,
    status: "passed",
    startupMs: 1000,
    features: Object.entries(features).map(([id, status]) => ({
      id,
      status,
      evidence: `observed ${id} ${status}`,
      durationMs: 5,
      ...(status === "inconclusive" ? { reason: `${id} could not be checked here` } : {}),
    })),
    ...extra,
  };
}

export function report(cells: Cell[], runId = "run-1"): Report {
  return buildReport({
    runId,
    startedAt: new Date("2026-11-28T00:00:00Z"),
    finishedAt: new Date("2026-11-28T00:01:00Z"),
    tier: "sim",
    environment: { node: process.version },
    cells,
  });
}

/** Kubernetes supports everything; shell lacks images and degrades volumes; docker matches. */
export function sampleReport(): Report {
  return report([
    cell("kubernetes", null, "amd64", {
      "container.image": "supported",
      "endpoint.http": "supported",
      "volume.persistent": "supported",
      "arch.arm64": "not-applicable",
    }),
    cell(
      "ci",
      "shell",
      "amd64",
      {
        "container.image": "unsupported",
        "endpoint.http": "supported",
        "volume.persistent": "degraded",
        "arch.arm64": "not-applicable",
      },
      { tunnel: tunnel(400, 600) },
    ),
    cell(
      "ci",
      "docker",
      "amd64",
      {
        "container.image": "supported",
        "endpoint.http": "supported",
        "volume.persistent": "supported",
        "arch.arm64": "not-applicable",
      },
      { tunnel: tunnel(300, 800), startupMs: 4000 },
    ),
  ]);
}
