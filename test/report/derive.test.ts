import { describe, expect, it } from "vitest";
import { reportSchemaErrors } from "../../src/report/validate.ts";
import { cell, report, sampleReport } from "./fixtures.ts";

describe("gaps and parity", () => {
  it("finds a gap wherever a CI cell does worse than Kubernetes, graded by severity", () => {
    const r = sampleReport();
    expect(r.gaps).toEqual([
      {
        feature: "container.image",
        scenario: "demo",
        reference: "supported",
        observed: { "shell/amd64": "unsupported" },
        severity: "critical",
      },
      {
        feature: "volume.persistent",
        scenario: "demo",
        reference: "supported",
        observed: { "shell/amd64": "degraded" },
        severity: "minor",
      },
    ]);
  });

  it("counts parity over pairs the reference supports, leaving not-applicable out", () => {
    const r = sampleReport();
    // shell: 1 of 3 supported; docker: 3 of 3; arch.arm64 is n/a everywhere.
    expect(r.summary).toMatchObject({ cells: 3, gaps: 2, compared: 6, parityPct: 66.67 });
  });

  it("judges an arm64 CI cell against the arm64 Kubernetes cell when there is one", () => {
    const r = report([
      cell("kubernetes", null, "amd64", { "arch.arm64": "not-applicable" }),
      cell("kubernetes", null, "arm64", { "arch.arm64": "supported" }),
      cell("ci", "docker", "arm64", { "arch.arm64": "unsupported" }),
    ]);
    expect(r.gaps).toHaveLength(1);
    expect(r.gaps[0]!.observed).toEqual({ "docker/arm64": "unsupported" });
  });

  it("reports no gap where CI matches or does better, and 0% parity when nothing is comparable", () => {
    const r = report([
      cell("kubernetes", null, "amd64", { "endpoint.tcp": "unsupported" }),
      cell("ci", "shell", "amd64", { "endpoint.tcp": "supported" }),
    ]);
    expect(r.gaps).toEqual([]);
    expect(r.summary).toMatchObject({ compared: 0, parityPct: 0 });
  });

  it("builds reports that match the shipped schema, and the schema rejects broken ones", () => {
    expect(reportSchemaErrors(sampleReport())).toEqual([]);
    const broken = structuredClone(sampleReport()) as unknown as {
      cells: { features: { status: string }[] }[];
    };
    broken.cells[0]!.features[0]!.status = "mostly";
    expect(reportSchemaErrors(broken).join("\n")).toMatch(/\/cells\/0\/features\/0\/status/);
  });
});
