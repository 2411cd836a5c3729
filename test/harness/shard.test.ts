import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expandMatrix, type PlannedCell } from "../../src/harness/matrix.ts";
import { loadScenarioOrDevfile } from "../../src/harness/scenario.ts";
import { parseShard, shardCells } from "../../src/harness/shard.ts";
import type { Arch, Executor, Tier } from "../../src/report/model.ts";

const base = await loadScenarioOrDevfile("scenarios/minimal.yaml");
const label = (c: PlannedCell) => `${c.scenario.name} ${c.path} ${c.executor}/${c.arch}`;

const matrixArb = fc
  .record({
    names: fc.uniqueArray(fc.constantFrom("a", "b", "c", "d"), { minLength: 1, maxLength: 4 }),
    tier: fc.constantFrom<Tier>("sim", "docker"),
    executors: fc.subarray<Executor>(["shell", "docker", "kubernetes"], { minLength: 1 }),
    arch: fc.subarray<Arch>(["amd64", "arm64"], { minLength: 1 }),
    paths: fc.constantFrom<("kubernetes" | "ci")[]>(["kubernetes", "ci"], ["ci"], ["kubernetes"]),
  })
  .map(({ names, tier, ...overrides }) =>
    expandMatrix(
      names.map((name) => ({ ...base, name })),
      tier,
      overrides,
    ),
  );

describe("run --shard", () => {
  it("parses i/n and refuses anything else", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, total: 3 });
    for (const bad of ["0/3", "4/3", "1/0", "a/b", "1", "-1/2"])
      expect(() => parseShard(bad)).toThrow(/--shard wants i\/n/);
  });

  it("shards 1..n hold every cell exactly once, each CI cell with its Kubernetes reference, the same way every time", () => {
    fc.assert(
      fc.property(matrixArb, fc.integer({ min: 1, max: 5 }), (matrix, n) => {
        const shards = Array.from({ length: n }, (_, i) => shardCells(matrix, { index: i + 1, total: n }));
        expect(shards.flat().map(label).sort()).toEqual(matrix.map(label).sort());
        for (const [i, shard] of shards.entries()) {
          expect(shardCells(matrix, { index: i + 1, total: n }).map(label)).toEqual(shard.map(label));
          for (const ci of shard.filter((c) => c.path === "ci")) {
            const refs = matrix.filter(
              (c) => c.path === "kubernetes" && c.scenario.name === ci.scenario.name,
            );
            const ref =
              refs.find((r) => r.arch === ci.arch) ?? refs.find((r) => r.arch === "amd64") ?? refs[0];
            if (ref) expect(shard).toContain(ref);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("spreads reference groups round-robin, so n groups fill n shards", () => {
    const matrix = expandMatrix(
      ["a", "b"].map((name) => ({ ...base, name })),
      "docker",
      { executors: ["docker"], arch: ["amd64", "arm64"] },
    );
    const sizes = [1, 2, 3, 4].map((i) => shardCells(matrix, { index: i, total: 4 }).length);
    expect(sizes).toEqual([2, 2, 2, 2]);
  });
});
