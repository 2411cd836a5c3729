import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/build.ts";
import { scenarioFindings } from "../../src/report/findings.ts";
import { mergeReports, type ReportPart } from "../../src/report/merge.ts";
import {
  type Arch,
  type Cell,
  cellLabel,
  type Executor,
  FEATURE_STATUSES,
  type Report,
  type ScenarioSummary,
} from "../../src/report/model.ts";
import { assertValidReport } from "../../src/report/validate.ts";
import { cell, tunnel } from "./fixtures.ts";

const FEATURES = ["container.image", "endpoint.http", "volume.persistent", "command.exec"];

interface Run {
  cells: Cell[];
  scenarios: ScenarioSummary[];
}

/** A whole run: cells in the order run gives them (per scenario: Kubernetes, then CI per executor and arch). */
const runArb: fc.Arbitrary<Run> = fc
  .record({
    scenarios: fc.uniqueArray(fc.constantFrom("minimal", "parity", "polyglot"), {
      minLength: 1,
      maxLength: 3,
    }),
    executors: fc.subarray(["shell", "docker", "kubernetes"] as Executor[], { minLength: 1 }),
    arches: fc.subarray(["amd64", "arm64"] as Arch[], { minLength: 1 }),
    rejected: fc.boolean(),
  })
  .chain(({ scenarios, executors, arches, rejected }) => {
    const slots: [string, "kubernetes" | "ci", Executor | null, Arch][] = [];
    for (const s of scenarios) {
      for (const a of arches) slots.push([s, "kubernetes", null, a]);
      for (const e of executors) for (const a of arches) slots.push([s, "ci", e, a]);
    }
    const features = fc.dictionary(fc.constantFrom(...FEATURES), fc.constantFrom(...FEATURE_STATUSES), {
      minKeys: 1,
    });
    return fc
      .tuple(
        ...slots.map(() =>
          fc.record({ features, started: fc.boolean(), fast: fc.integer({ min: 50, max: 5000 }) }),
        ),
      )
      .map((rolled) => {
        const cells = slots.map(([scenario, path, executor, arch], i) => {
          const r = rolled[i]!;
          return cell(path, executor, arch, r.features, {
            scenario,
            startupMs: r.started ? r.fast : null,
            ...(path === "ci" && r.started ? { tunnel: tunnel(r.fast, 1000 - r.fast / 10) } : {}),
          });
        });
        const gitlabRejects = rejected ? ["'schemaVersion' must be 2.2.0"] : [];
        const summaries = scenarios.map((name) => ({
          name,
          devfile: `scenarios/devfiles/${name}.devfile.yaml`,
          gitlabRejects,
          adaptations: [],
          findings: [],
        }));
        return { cells, scenarios: summaries };
      });
  });

function reportOf(run: Run, cells: Cell[], shard: string | null, extra: Partial<Report> = {}): Report {
  return {
    ...buildReport({
      runId: `run-${shard ?? "whole"}`,
      startedAt: new Date("2026-12-05T01:00:00Z"),
      finishedAt: new Date("2026-12-05T01:30:00Z"),
      tier: "docker",
      environment: {
        host: { hostname: `runner-${shard}` },
        matrix: { cells: run.cells.map(cellLabel), shard, catalog: "c0ffee" },
      },
      cells,
      scenarios: run.scenarios.map((s) => ({
        ...s,
        findings: scenarioFindings(s.name, s.gitlabRejects, cells),
      })),
    }),
    ...extra,
  };
}

/** Everything but run ids, times and the environment (hosts differ per part). */
const comparable = (r: Report) => ({
  schemaVersion: r.schemaVersion,
  tier: r.tier,
  cells: r.cells,
  gaps: r.gaps,
  scenarios: r.scenarios,
  summary: r.summary,
});

const run: Run = {
  cells: [
    cell("kubernetes", null, "amd64", { "endpoint.http": "supported" }),
    cell("ci", "shell", "amd64", { "endpoint.http": "unsupported" }),
    cell("ci", "kubernetes", "amd64", { "endpoint.http": "supported" }),
  ],
  scenarios: [{ name: "demo", devfile: "d.yaml", gitlabRejects: [], adaptations: [], findings: [] }],
};
const part = (file: string, cells: Cell[], extra: Partial<Report> = {}, shard = "1/2"): ReportPart => ({
  file,
  report: reportOf(run, cells, shard, extra),
});
const [k8s, shell, kube] = run.cells as [Cell, Cell, Cell];

describe("merge", () => {
  it("for random partitions of a run's cells, merge of the parts equals the whole", () => {
    fc.assert(
      fc.property(
        runArb.chain((run) =>
          fc.integer({ min: 1, max: 4 }).chain((n) =>
            fc.tuple(
              fc.constant(run),
              fc.constant(n),
              fc.array(fc.nat(n - 1), {
                minLength: run.cells.length,
                maxLength: run.cells.length,
              }),
            ),
          ),
        ),
        ([run, n, owner]) => {
          const parts: ReportPart[] = Array.from({ length: n }, (_, i) => ({
            file: `part-${i + 1}/report.json`,
            report: reportOf(
              run,
              run.cells.filter((_, c) => owner[c] === i),
              `${i + 1}/${n}`,
            ),
          }));
          // Parts come in any order; the merged cells follow the matrix.
          const merged = mergeReports([...parts].reverse(), "merged-1");
          assertValidReport(merged);
          expect(comparable(merged)).toEqual(comparable(reportOf(run, run.cells, null)));
          expect(merged.environment.merged).toHaveLength(n);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("refuses parts of different tiers, naming the files", () => {
    expect(() =>
      mergeReports([part("a.json", [k8s, shell]), part("b.json", [kube], { tier: "sim" })], "m"),
    ).toThrow(/different tier: "docker" in a\.json; "sim" in b\.json/);
  });

  it("refuses parts of different catalog versions or scenario sets", () => {
    const other = part("b.json", [kube]);
    other.report.environment = {
      ...other.report.environment,
      matrix: { ...(other.report.environment.matrix as object), catalog: "0ld" },
    };
    expect(() => mergeReports([part("a.json", [k8s, shell]), other], "m")).toThrow(
      /different catalog version: "c0ffee" in a\.json; "0ld" in b\.json/,
    );
    const renamed = part("c.json", [kube]);
    renamed.report.scenarios = [{ ...renamed.report.scenarios[0]!, name: "other" }];
    expect(() => mergeReports([part("a.json", [k8s, shell]), renamed], "m")).toThrow(
      /different scenario set/,
    );
  });

  it("refuses overlapping parts and shards that leave cells out", () => {
    expect(() => mergeReports([part("a.json", [k8s, shell]), part("b.json", [shell, kube])], "m")).toThrow(
      'the cell "demo ci shell/amd64" is in both a.json and b.json',
    );
    expect(() => mergeReports([part("a.json", [k8s, shell])], "m")).toThrow(
      /do not cover the matrix: 1 cell\(s\) missing \(demo ci kubernetes\/amd64\); given shards: 1\/2/,
    );
  });

  it("refuses a report written before run recorded its matrix", () => {
    const old = part("old.json", run.cells);
    old.report.environment = {};
    expect(() => mergeReports([old], "m")).toThrow(/old\.json: no environment\.matrix/);
  });
});

describe("wsparity merge (CLI)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsparity-merge-"));
    await writeFile(join(dir, "a.json"), JSON.stringify(reportOf(run, [k8s, shell], "1/2")));
    await writeFile(join(dir, "b.json"), JSON.stringify(reportOf(run, [kube], "2/2")));
    await writeFile(join(dir, "sim.json"), JSON.stringify(reportOf(run, [kube], "2/2", { tier: "sim" })));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ["bin/wsparity.js", "merge", ...args], { encoding: "utf8", timeout: 30_000 });

  it("writes the four reports of the whole and exits 0; exits 2 naming the files of mismatched parts", async () => {
    const out = join(dir, "merged");
    const ok = cli(join(dir, "a.json"), join(dir, "b.json"), "--out", out);
    expect(ok.stderr).not.toContain("wsparity:");
    expect(ok.stdout).toContain("merged 2 part(s), 3 cell(s), 1 gap(s)");
    expect(ok.status).toBe(0);
    const merged = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as Report;
    expect(comparable(merged)).toEqual(comparable(reportOf(run, run.cells, null)));
    expect(await readFile(join(out, "junit.xml"), "utf8")).toContain("<testsuites");

    const bad = cli(join(dir, "a.json"), join(dir, "sim.json"), "--out", join(dir, "bad"));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`"sim" in ${join(dir, "sim.json")}`);
  });
});
