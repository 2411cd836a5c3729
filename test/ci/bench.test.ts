import { describe, expect, it } from "vitest";
import { figures, formatCiBench } from "../../src/ci/bench.ts";

describe("bench ci figures", () => {
  it("computes median, p90, min and max", () => {
    expect(figures([5, 1, 3, 2, 4])).toEqual({ count: 5, medianMs: 3, p90Ms: 5, minMs: 1, maxMs: 5 });
    expect(figures([1, 2, 3, 4]).medianMs).toBe(2.5);
  });

  it("prints a row per executor and architecture, saying why a cell was not measured", () => {
    const text = formatCiBench({
      tier: "sim",
      devfile: "d.yaml",
      runs: 2,
      cells: [
        { executor: "shell", arch: "amd64", createToReachable: figures([100, 200]) },
        { executor: "docker", arch: "arm64", notMeasured: "no docker" },
      ],
      pickup: figures([3, 4]),
    });
    expect(text).toContain("shell       amd64   2     150 ms");
    expect(text).toContain("docker      arm64   —     not measured: no docker");
    expect(text).toContain("2 jobs: median 3.5 ms");
  });
});
